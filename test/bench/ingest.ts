/*
 * The bound (imapflow fetch + mailparser) and the in-process ingest, send and replies rows, per engine.
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { DataSource } from "typeorm";
import { simpleParser } from "mailparser";
import { closeDb, createSender, drainDeps, openGateway, spoolOptions } from "../../src/cli/gateway.js";
import type { TicketpostConfig } from "../../src/config/schema.js";
import { OutboxMail } from "../../src/db/entities.js";
import { drainMailbox, type DrainSummary } from "../../src/mailbox/drain.js";
import { ImapMailbox } from "../../src/mailbox/imap-mailbox.js";
import { createLogger } from "../../src/shared/logger.js";
import { type DovecotInstance } from "../harness/dovecot.js";
import { createTestDatabase, type Engine } from "../helpers/databases.js";
import { profiled } from "./profile.js";
import { countStatements } from "./statements.js";
import { replyTo, type BenchMail } from "./mail-mix.js";
import { type Params } from "./params.js";
import { type CpuUse, atCleanup, progress, rate, waitUntil, withCpu } from "./util.js";
import { type SinkHandle, appendMails, gatewayConfig, imapClient } from "./processes.js";

// ---------------------------------------------------------------- phases

export interface Throughput {
  mails: number;
  ms: number;
  perSecond: number;
  cpu: CpuUse;
  [extra: string]: unknown;
}

export function throughput(mails: number, ms: number, cpu: CpuUse, extra: Record<string, unknown> = {}): Throughput {
  return { mails, ms: Math.round(ms), perSecond: Math.round(rate(mails, ms) * 10) / 10, cpu, ...extra };
}

export const PARSE_OPTIONS = { skipTextToHtml: true, skipTextLinks: true } as const;

/** imapflow fetch + simpleParser, the same batches and parser options as the gateway, nothing else. */
export async function measureBound(dovecot: DovecotInstance, mails: BenchMail[], batchSize: number): Promise<Throughput> {
  const user = "bound@example.test";
  await appendMails(
    dovecot,
    user,
    mails.map((m) => m.raw),
  );
  // The gateway rows run later, with mailparser already compiled by the JIT; so should this one.
  for (const m of mails.slice(0, 100)) await simpleParser(m.raw, PARSE_OPTIONS);
  const client = imapClient(dovecot, user);
  await client.connect();
  try {
    await client.mailboxOpen("INBOX");
    let fetchMs = 0;
    let parseMs = 0;
    const { result, cpu } = await withCpu(dovecot, null, async () => {
      let parsed = 0;
      const start = performance.now();
      const uids = ((await client.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
      for (let i = 0; i < uids.length; i += batchSize) {
        const t = performance.now();
        const batch = await client.fetchAll(uids.slice(i, i + batchSize).join(","), { uid: true, source: true }, { uid: true });
        const t2 = performance.now();
        fetchMs += t2 - t;
        for (const m of batch) {
          if (!m.source) continue;
          await simpleParser(m.source, PARSE_OPTIONS);
          parsed++;
        }
        parseMs += performance.now() - t2;
      }
      return { parsed, ms: performance.now() - start };
    });
    return throughput(result.parsed, result.ms, cpu, { fetchMs: Math.round(fetchMs), parseMs: Math.round(parseMs) });
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export interface EngineResult {
  ingest: Throughput;
  send: Throughput;
  replies: Throughput;
}

export type Gateway = Awaited<ReturnType<typeof openGateway>>;

/** SQL statements (by first keyword) and database round trips the gateway made while fn ran. */
export async function countingStatements<T>(
  db: DataSource,
  fn: () => Promise<T>,
): Promise<{ result: T; statements: Record<string, number>; roundTrips: number }> {
  const counted = await countStatements(db, () => fn());
  return { result: counted.result, statements: counted.byVerb, roundTrips: counted.roundTrips };
}

export function perMail(statements: Record<string, number>, mails: number, roundTrips?: number): string {
  const total = Object.values(statements).reduce((a, b) => a + b, 0);
  if (!mails || !total) return "";
  const parts = Object.entries(statements)
    .sort((a, b) => b[1] - a[1])
    .map(([verb, n]) => `${(n / mails).toFixed(1)} ${verb}`);
  const trips = roundTrips === undefined ? "" : `, ${(roundTrips / mails).toFixed(1)} round trips/mail`;
  return `${(total / mails).toFixed(1)} SQL/mail (${parts.join(", ")})${trips}`;
}

export function outcomes(summary: DrainSummary): string {
  return (
    Object.entries(summary.byOutcome)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ") || "nothing"
  );
}

/**
 * Adds the time spent in the named async methods of obj to `into` (a pass-through on the instance),
 * to tell IMAP round trips from the work on each mail.
 */
export function timeMethods<T extends object>(obj: T, names: Array<keyof T & string>, into: Record<string, number>): void {
  for (const name of names) {
    const original = obj[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    into[name] = 0;
    if (typeof original !== "function") continue;
    (obj as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const t = performance.now();
      try {
        return await original.apply(obj, args);
      } finally {
        into[name] += performance.now() - t;
      }
    };
  }
}

/** drainMailbox on a freshly opened ImapMailbox; only the drain is timed. */
export async function timedDrain(
  config: TicketpostConfig,
  ctx: Gateway,
  dovecot: DovecotInstance,
  profileFile: string | null,
): Promise<Throughput> {
  // As the daemon opens it: IDLE on, big mails spooled to disk.
  const mb = await ImapMailbox.open(config.imap, ctx.logger, spoolOptions(config));
  try {
    const split: Record<string, number> = {};
    timeMethods(mb, ["listUids", "fetch", "move"], split);
    const deps = drainDeps(ctx);
    // How long a batch waited for its reading (read ahead in the reading thread): awaited here, first.
    const processBatch = deps.processBatch!;
    split.readWait = 0;
    deps.processBatch = async (mails, ahead) => {
      const t = performance.now();
      const read = await ahead;
      split.readWait += performance.now() - t;
      return processBatch(mails, Promise.resolve(read));
    };
    timeMethods(deps, ["process", "processBatch", "markMoved"], split);
    // Inside processing: the database transaction(s), and what the blob store wrote in this thread.
    timeMethods(ctx.db, ["transaction"], split);
    timeMethods(ctx.blobs as unknown as Record<string, unknown>, ["put", "putStream", "putFile"], split);
    const { result: counted, cpu } = await withCpu(dovecot, ctx.db, () =>
      countingStatements(ctx.db, () =>
        profiled(profileFile, async () => {
          const start = performance.now();
          const summary = await drainMailbox(mb, config.imap, deps);
          return { ms: performance.now() - start, summary };
        }),
      ),
    );
    const { result, statements, roundTrips } = counted;
    const splitMs = Object.fromEntries(Object.entries(split).map(([k, v]) => [k, Math.round(v)]));
    return throughput(result.summary.processed, result.ms, cpu, {
      outcomes: outcomes(result.summary),
      statements,
      roundTrips,
      sql: perMail(statements, result.summary.processed, roundTrips),
      splitMs,
    });
  } finally {
    await mb.close();
  }
}

/** ingest (new tickets) → send (their acknowledgements) → replies (threading into those tickets), on one fresh database. */
export async function measureEngine(
  engine: Engine,
  p: Params,
  root: string,
  dovecot: DovecotInstance,
  sink: SinkHandle,
  mails: BenchMail[],
  name = `ingest-${engine}`,
): Promise<EngineResult> {
  const tdb = engine === "postgres" ? await createTestDatabase("postgres") : null;
  const dropDatabase = tdb ? atCleanup(() => tdb.drop()) : async () => {};
  const say = (msg: string) => progress(`${name}: ${msg}`);
  try {
    const imapUser = `${name}@example.test`;
    const setup = gatewayConfig(root, name, dovecot, sink, imapUser, tdb ? { database: { url: tdb.options.url } } : {});
    await appendMails(
      dovecot,
      imapUser,
      mails.map((m) => m.raw),
    );
    // Log lines are built as in the daemon, then dropped: their cost counts, stderr's does not.
    const ctx = await openGateway(
      setup.config,
      createLogger("info", {}, () => {}),
      { migrate: true },
    );
    try {
      say(`ingesting ${mails.length} mails`);
      const ingest = await timedDrain(
        setup.config,
        ctx,
        dovecot,
        p.profileDir && name.startsWith("ingest") ? path.join(p.profileDir, `${name}.cpuprofile`) : null,
      );
      ingest.queued = await ctx.db.getRepository(OutboxMail).count({ where: { status: "pending" } });

      say(`sending ${ingest.queued} queued mails to the sink`);
      const sender = createSender(setup.config, ctx);
      const before = sink.count;
      const { result: counted, cpu: sendCpu } = await withCpu(dovecot, ctx.db, () =>
        countingStatements(ctx.db, async () => {
          const t = performance.now();
          const summary = await sender.runOnce();
          return { summary, ms: performance.now() - t };
        }),
      );
      const { result: sent, statements } = counted;
      // The sink reports each mail just after its "250"; the last report may trail sendMail by a moment.
      await waitUntil(() => sink.count - before >= sent.summary.sent, 5000);
      const sinkCount = sink.count - before;
      const send = throughput(sinkCount, sent.ms, sendCpu, {
        sent: sent.summary.sent,
        deferred: sent.summary.deferred,
        failed: sent.summary.failed,
        statements,
        sql: perMail(statements, sinkCount),
      });
      await sender.stop();

      const acks = await ctx.db.getRepository(OutboxMail).find({ where: { event: "received" }, order: { id: "ASC" } });
      const replies: Buffer[] = [];
      for (let i = 0; i < acks.length; i++) replies.push((await replyTo(p.seed, i, acks[i])).raw);
      await appendMails(dovecot, imapUser, replies);
      say(`ingesting ${replies.length} replies`);
      const rep = await timedDrain(setup.config, ctx, dovecot, null);
      return { ingest, send, replies: rep };
    } finally {
      await closeDb(ctx.db);
    }
  } finally {
    await dropDatabase();
  }
}
