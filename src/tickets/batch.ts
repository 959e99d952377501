import { rm } from "node:fs/promises";
import type { EntityManager } from "typeorm";
import { MailReceipt } from "../db/entities.js";
import { FastSql } from "../db/fast-sql.js";
import { BatchReads } from "./batch-reads.js";
import type { GatewayContext } from "./context.js";
import { ANSWERING_EVENTS, type AgentAuth, type ReadMail } from "./facts.js";
import { classifyError, evidenceFrom, fromPlan, fromReceipt, type Evidence, type ProcessResult } from "./failure.js";
import { persist, writesInOneStatement } from "./persist.js";
import { decide, verifySender, type MailPosition, type RawMail } from "./pipeline.js";
import { readInProcess } from "./read-thread.js";

/*
 * Group commit: the mails of one fetch go into one transaction, each written in its own savepoint.
 *
 * Everything that can be done outside a transaction is done first (readAhead: the bytes
 * stored, parsed, classified, the agent's mail verified), in the reading thread when there is
 * one, and while the batch before is still being committed. Then one transaction reads what the
 * batch shares (batch-reads.ts) and plans each mail (reads only), then writes it between
 * SAVEPOINT and RELEASE; a mail whose planning fails has written nothing, one whose writing fails
 * is rolled back to its savepoint, alone. (On PostgreSQL a mail written in one statement needs no
 * savepoint: that statement writes all of it or nothing, and if it fails, the transaction is
 * aborted and the whole batch goes one mail at a time.) It and any mail
 * this path does not take (a big mail spooled to disk) come back as null: the caller hands them
 * to processMail, one at a time with its retries, which records a failure with its evidence.
 * Nothing of a batch is visible, and no mail of it may be moved, before the commit.
 */

export interface BatchMail {
  position: MailPosition;
  raw: RawMail;
}

export interface Prepared {
  index: number;
  pos: MailPosition;
  read: ReadMail;
  auth: AgentAuth;
  evidence: Evidence;
}

/** What can be done for a batch before its transaction, started ahead: one entry per mail, null for a mail left to the single-mail path. */
export type ReadAhead = Promise<Array<Prepared | null>>;

/** A ReadAhead that may have come to nothing (undefined: read the batch now). */
type MaybeReadAhead = Promise<Array<Prepared | null> | undefined>;

/**
 * Starts reading a fetched batch (stored, parsed, classified, an agent's mail verified): in the
 * reading thread when the gateway has one (ctx.reader), so that it overlaps the commit of the
 * batch before. Never rejects: a mail that could not be read this way is null (read again alone).
 */
export function readAhead(ctx: GatewayContext, mails: BatchMail[]): ReadAhead {
  const reader = ctx.reader ?? readInProcess(ctx);
  const one = async (index: number, m: BatchMail): Promise<Prepared | null> => {
    // A spooled big mail is taken over by the blob store when received; alone, it keeps its path.
    if (!Buffer.isBuffer(m.raw)) return null;
    try {
      const { received, read } = await reader.read(m.position, m.raw);
      const evidence = evidenceFrom(read.kind === "mail" ? read.msg : null, received, read.kind === "mail" ? read.trail : received.trail);
      const auth = await verifySender(ctx, read);
      return { index, pos: m.position, read, auth, evidence };
    } catch (err) {
      ctx.logger.debug("mail not read ahead; it is read alone", { uid: m.position.uid, error: (err as Error).message });
      return null;
    }
  };
  // The reading thread takes the whole batch at once; in this thread, one mail after the other.
  if (ctx.reader) return Promise.all(mails.map((m, i) => one(i, m)));
  return (async () => {
    const out: Array<Prepared | null> = [];
    for (const [i, m] of mails.entries()) out.push(await one(i, m));
    return out;
  })();
}

/**
 * One result per mail, in order; null: not done here, process it alone. Throws when the batch
 * could not commit. `ahead`: the batch's reading, started earlier by readAhead.
 */
export async function processMails(ctx: GatewayContext, mails: BatchMail[], ahead?: MaybeReadAhead): Promise<Array<ProcessResult | null>> {
  const results: Array<ProcessResult | null> = mails.map(() => null);
  const done = await receiptsOf(
    ctx,
    mails.map((m) => m.position),
  );
  const read = (await ahead) ?? (await readAhead(ctx, mails));
  const prepared: Prepared[] = [];
  for (const [index, m] of mails.entries()) {
    const receipt = done.get(m.position.uid);
    if (receipt && receipt.mailbox === m.position.mailbox && receipt.uidValidity === m.position.uidValidity) {
      if (!Buffer.isBuffer(m.raw)) await rm(m.raw.file, { force: true });
      results[index] = fromReceipt(receipt);
      continue;
    }
    const p = read[index];
    if (p) prepared.push(p);
  }
  if (prepared.length === 0) return results;
  await ctx.db.transaction(async (em) => {
    const reads = new BatchReads(em, ctx);
    await reads.prefetch(
      prepared.map((p) => p.read),
      ctx.clock.now(),
      ANSWERING_EVENTS,
    );
    // One mail alone needs no savepoint: the transaction is its own.
    const savepoints = prepared.length > 1 ? new MailSavepoints(em) : null;
    const postgres = em.connection.options.type === "postgres";
    for (const p of prepared) {
      // Planning only reads: a mail whose planning fails has written nothing and is left alone.
      // On PostgreSQL a failed statement aborts the whole transaction: then the batch fails.
      let planned: Awaited<ReturnType<typeof decide>>;
      const now = ctx.clock.now();
      try {
        planned = await decide(reads, ctx, p.read, p.auth, { now });
      } catch (err) {
        if (!savepoints || (postgres && classifyError(err).code === "EDB")) throw err;
        reads.clear();
        results[p.index] = null;
        continue;
      }
      // A plan PostgreSQL writes in one statement is written whole or not at all: no savepoint
      // (a round trip per mail saved); if that statement fails, the batch fails and each mail
      // goes alone. Every other write gets its savepoint, so that a failure rolls back that mail only.
      const guarded = savepoints !== null && !(postgres && writesInOneStatement(em, planned.plan));
      if (guarded) await savepoints.set();
      try {
        results[p.index] = await write(em, ctx, reads, p, planned, now);
        if (guarded) savepoints.keep();
      } catch (err) {
        if (!guarded) throw err;
        await savepoints.rollBack();
        reads.clear();
        results[p.index] = null;
      }
    }
  });
  return results;
}

/**
 * A savepoint around each mail. On PostgreSQL the RELEASE of one mail's savepoint and the
 * SAVEPOINT of the next go in one round trip (a query without parameters may hold several
 * statements); the last is released by COMMIT. SQLite runs in-process: one statement each.
 */
class MailSavepoints {
  private readonly postgres: boolean;
  private held = false;

  constructor(private readonly em: EntityManager) {
    this.postgres = em.connection.options.type === "postgres";
  }

  async set(): Promise<void> {
    if (this.held && this.postgres) await this.em.query("RELEASE SAVEPOINT tp_mail; SAVEPOINT tp_mail");
    else {
      if (this.held) await this.em.query("RELEASE SAVEPOINT tp_mail");
      await this.em.query("SAVEPOINT tp_mail");
    }
    this.held = false;
  }

  /** The mail is written: its savepoint is released with the next one's, or by COMMIT. */
  keep(): void {
    this.held = true;
  }

  async rollBack(): Promise<void> {
    if (this.postgres) await this.em.query("ROLLBACK TO SAVEPOINT tp_mail; RELEASE SAVEPOINT tp_mail");
    else {
      await this.em.query("ROLLBACK TO SAVEPOINT tp_mail");
      await this.em.query("RELEASE SAVEPOINT tp_mail");
    }
  }
}

async function write(
  em: EntityManager,
  ctx: GatewayContext,
  reads: BatchReads,
  p: Prepared,
  { plan, msg }: Awaited<ReturnType<typeof decide>>,
  now: Date,
): Promise<ProcessResult> {
  const saved = await persist(em, ctx, plan, msg, { pos: p.pos, raw: { sha256: p.evidence.rawSha256, size: p.evidence.rawSize } });
  reads.forget(plan, msg, saved.ticketId, now);
  return fromPlan(plan, saved, msg);
}

/** The receipts of these positions (one statement), by UID. */
async function receiptsOf(ctx: GatewayContext, positions: MailPosition[]): Promise<Map<number, MailReceipt>> {
  const out = new Map<number, MailReceipt>();
  if (positions.length === 0) return out;
  const sql = new FastSql(ctx.db.manager);
  const { mailbox, uidValidity } = positions[0];
  const rows = await sql.select(MailReceipt, `"mailbox" = ? AND "uidValidity" = ? AND ${sql.anyOf("uid")}`, [
    mailbox,
    uidValidity,
    sql.list(positions.map((p) => p.uid)),
  ]);
  for (const r of rows) out.set(r.uid, r);
  return out;
}
