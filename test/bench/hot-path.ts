/*
 * The hot path alone, without IMAP: the pipeline's processing of N new mails and then N replies to
 * their acknowledgements, on a fresh SQLite and PostgreSQL database, in this process. It prints the
 * figures that do not depend on how busy the machine is: SQL statements and database round trips
 * per mail, and CPU milliseconds per mail (process.cpuUsage, this process only: the PostgreSQL
 * server's own work is not in it). Wall-clock mails/s are printed too, but vary with the load.
 *
 *   node dist/test/bench/hot-path.js [--n N] [--seed S] [--engine sqlite|postgres] [--trace K] [--batch B]
 *
 * --trace K prints every statement of the batch holding the K-th new mail and the K-th reply (0-based).
 * --profile DIR writes a CPU profile of the measured new mails (DIR/hot-<engine>.cpuprofile).
 */
import { performance } from "node:perf_hooks";
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { OutboxMail } from "../../src/db/entities.js";
import { processMails } from "../../src/tickets/batch.js";
import { processMail, type MailPosition } from "../../src/tickets/pipeline.js";
import { createTestGateway, type TestGateway } from "../helpers/context.js";
import { ENGINES, type Engine } from "../helpers/databases.js";
import { newRequests, replyTo, type BenchMail } from "./mail-mix.js";
import { profiled } from "./profile.js";
import { countStatements, type StatementCount } from "./statements.js";

interface Args {
  n: number;
  seed: number;
  engines: Engine[];
  trace: number | null;
  batch: number;
  profileDir: string | null;
}

function parseArgs(argv: string[]): Args {
  const value = (f: string) => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const engine = value("--engine");
  return {
    n: Number(value("--n") ?? 500),
    seed: Number(value("--seed") ?? 1),
    engines: engine ? [engine as Engine] : ENGINES,
    trace: value("--trace") !== undefined ? Number(value("--trace")) : null,
    batch: Number(value("--batch") ?? 50),
    profileDir: value("--profile") ?? null,
  };
}

interface Figures {
  mails: number;
  statementsPerMail: number;
  roundTripsPerMail: number;
  cpuMsPerMail: number;
  perSecond: number;
  byVerb: string;
}

let uid = 1;

/** Runs the mails through the pipeline in batches as the drain loop does; returns the load-independent figures. */
async function run(gw: TestGateway, mails: BenchMail[], batch: number, trace: number | null, label: string): Promise<Figures> {
  const positions: MailPosition[] = mails.map(() => ({ mailbox: "INBOX", uidValidity: 1, uid: uid++ }));
  const counted: StatementCount<{ ms: number; cpuMs: number }> = await countStatements(gw.ctx.db, async (log) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < mails.length; i += batch) {
      const slice = mails.slice(i, i + batch).map((m, j) => ({ position: positions[i + j], raw: m.raw }));
      const traced = trace !== null && trace >= i && trace < i + batch;
      if (traced) log.trace = true;
      const batchResults = await processMails(gw.ctx, slice);
      // As the drain loop does: a mail the batch did not take is processed alone.
      const results = [];
      for (const [j, r] of batchResults.entries()) results.push(r ?? (await processMail(gw.ctx, slice[j].position, slice[j].raw)));
      if (traced) log.trace = false;
      for (const r of results) if (r.outcome === "failed") throw new Error(`${label}: a mail failed: ${r.errorCode} ${r.reason}`);
    }
    const cpu = process.cpuUsage(cpu0);
    return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
  });
  const { ms, cpuMs } = counted.result;
  const n = mails.length;
  if (counted.traced.length)
    process.stderr.write(`--- ${label}: statements of the traced batch (${counted.traced.length})\n${counted.traced.join("\n")}\n`);
  return {
    mails: n,
    statementsPerMail: round2(counted.statements / n),
    roundTripsPerMail: round2(counted.roundTrips / n),
    cpuMsPerMail: round2(cpuMs / n),
    perSecond: Math.round(n / (ms / 1000)),
    byVerb: Object.entries(counted.byVerb)
      .sort((a, b) => b[1] - a[1])
      .map(([v, c]) => `${(c / n).toFixed(2)} ${v}`)
      .join(", "),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (a.profileDir) mkdirSync(a.profileDir, { recursive: true });
  const mails = await newRequests(a.seed, "hot", 0, a.n);
  const warm = await newRequests(a.seed, "warm", 0, 100);
  process.stdout.write(`hot path: N=${a.n}, batch ${a.batch}, load average ${os.loadavg()[0].toFixed(2)}\n`);
  for (const engine of a.engines) {
    const gw = await createTestGateway(engine);
    try {
      // The JIT compiles TypeORM, mailparser and friends on the first mails; those are not measured.
      await run(gw, warm, a.batch, null, "warm-up");
      const created = await profiled(a.profileDir && path.join(a.profileDir, `hot-${engine}.cpuprofile`), () =>
        run(gw, mails, a.batch, a.trace, `${engine} new`),
      );
      const acks = await gw.ctx.db
        .getRepository(OutboxMail)
        .find({ where: { event: "received" }, order: { id: "ASC" }, skip: warm.length });
      const replies: BenchMail[] = [];
      for (let i = 0; i < acks.length; i++) replies.push(await replyTo(a.seed, i, acks[i]));
      const replied = await run(gw, replies, a.batch, a.trace, `${engine} replies`);
      for (const [what, f] of [
        ["new", created],
        ["replies", replied],
      ] as const) {
        process.stdout.write(
          `${engine.padEnd(8)} ${what.padEnd(7)} ${String(f.statementsPerMail).padStart(6)} SQL/mail  ${String(f.roundTripsPerMail).padStart(6)} round trips/mail  ${String(f.cpuMsPerMail).padStart(6)} CPU-ms/mail  ${String(f.perSecond).padStart(5)} mails/s  (${f.byVerb})\n`,
        );
      }
    } finally {
      await gw.close();
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`hot-path: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
