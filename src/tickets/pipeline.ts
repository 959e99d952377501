import { rm } from "node:fs/promises";
import type { EntityManager } from "typeorm";
import type { InboundMessage } from "../mail/types.js";
import type { GatewayContext } from "./context.js";
import { gatherFacts, oversizeFacts, type AgentAuth, type GatherOptions, type ReadMail, type TicketReads } from "./facts.js";
import {
  classifyError,
  evidenceFrom,
  evidenceOf,
  fromPlan,
  fromReceipt,
  isUniqueViolation,
  MailProcessingError,
  recordFailure,
  type Evidence,
  type ProcessResult,
} from "./failure.js";
import { persist, type MailPosition } from "./persist.js";
import { findReceipt, ticketReads } from "./repository.js";
import { planMail, planOversize, planUnreadable } from "./workflow/decide.js";
import type { Plan } from "./workflow/plan.js";

export type { MailPosition } from "./persist.js";
export type { ProcessResult } from "./failure.js";
export { recordFailure } from "./failure.js";

/*
 * The one flow every inbound mail takes, stage by stage (DESIGN.md):
 *
 *   0. done?     a receipt for this mailbox position means an earlier run committed the mail:
 *                only the move to Processed is left (exactly-once).
 *   1. receive   the bytes are stored, content-addressed, before anything can fail.
 *   2. parse     bytes → InboundMessage (mailparser); a mail over maxMessageBytes only to its header.
 *   3. classify  bounce detection on the raw bytes, then request / loop / bounce / report, automatic?
 *   4. verify    a mail in an agent's name is authenticated (may need DNS): before the transaction.
 *   5. decide    in one transaction: read the facts (identity, thread, ticket) → plan (pure,
 *                workflow/decide.ts) → persist (the only writer: ticket, message, outbox, receipt).
 *
 * `inspect` runs stages 2–5 with a read-only transaction and prints the plan instead of writing it.
 */

import { readMail, receiveMail, type RawMail } from "./read.js";

export { receiveMail, readMail, type RawMail, type Received } from "./read.js";

/**
 * Processes one mail from a mailbox position to its receipt. Returns what became of it; throws
 * only a retryable error (the database is unreachable), in which case the mail stays where it
 * is and is tried again; the error carries the mail's evidence for when the caller gives up.
 */
export async function processMail(ctx: GatewayContext, pos: MailPosition, input: RawMail): Promise<ProcessResult> {
  const done = await findReceipt(ctx.db.manager, pos.mailbox, pos.uidValidity, pos.uid);
  if (done) {
    if (!Buffer.isBuffer(input)) await rm(input.file, { force: true });
    return fromReceipt(done);
  }
  const received = await receiveMail(ctx, pos, input);
  let evidence = evidenceFrom(null, received, received.trail);
  try {
    const read = await readMail(ctx, received, { store: true });
    if (read.kind === "mail") evidence = evidenceFrom(read.msg, received, read.trail);
    const auth = await verifySender(ctx, read);
    return await commitMail(ctx, pos, read, auth, evidence);
  } catch (err) {
    const e = classifyError(err);
    const ev = evidenceOf(err) ?? evidence;
    if (e.retryable) throw new MailProcessingError(e.code, e.message, ev, { cause: err, retryable: true });
    return recordFailure(ctx, pos, new MailProcessingError(e.code, e.message, ev, { cause: err, retryable: false }));
  }
}

/** 4. A mail in a configured agent's name is authenticated (DKIM may need DNS): outside any transaction. */
export async function verifySender(ctx: GatewayContext, read: ReadMail): Promise<AgentAuth> {
  if (read.kind !== "mail" || read.classification.kind !== "request") return null;
  const from = read.msg.from?.address;
  if (!from || !ctx.directory.isAgent(from)) return null;
  try {
    return await ctx.verifyAgent(read.msg, from);
  } catch (err) {
    return { ok: false, reason: `the check failed: ${(err as Error).message}` };
  }
}

/**
 * 5a. Facts, then the plan: the same for processing and for inspect. A failure inside planning
 * is a bug: it keeps its own code (EINTERNAL) and the trail up to there.
 */
export async function decide(
  reads: TicketReads,
  ctx: GatewayContext,
  read: ReadMail,
  auth: AgentAuth,
  opts: GatherOptions,
): Promise<{ plan: Plan; msg: InboundMessage | null }> {
  if (read.kind === "unreadable") return { plan: planUnreadable(read.code, read.message, read.trail), msg: null };
  if (read.kind === "oversize") {
    const to = read.head ? ((read.head.replyTo[0] ?? read.head.from)?.address ?? null) : null;
    const facts = await oversizeFacts(reads, ctx, to, opts.now);
    return { plan: planOversize(ctx, read.head, read.size, ctx.maxMessageBytes, facts, read.trail), msg: read.head };
  }
  const facts = await gatherFacts(reads, ctx, read, auth, opts);
  try {
    return { plan: planMail(ctx, facts), msg: read.msg };
  } catch (err) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const ev = evidenceFrom(read.msg, { sha256: read.msg.rawSha256, size: read.msg.rawSize }, facts.trail);
    throw new MailProcessingError("EINTERNAL", `planning failed: ${what}`, ev, { cause: err, retryable: false });
  }
}

/** 5. One transaction: facts → plan → persist, with the receipt. */
async function commitMail(
  ctx: GatewayContext,
  pos: MailPosition,
  read: ReadMail,
  auth: AgentAuth,
  evidence: Evidence,
): Promise<ProcessResult> {
  let trail = evidence.trail;
  try {
    return await ctx.db.transaction(async (em: EntityManager) => {
      if (await findReceipt(em, pos.mailbox, pos.uidValidity, pos.uid)) throw new AlreadyRecorded();
      const { plan, msg } = await decide(ticketReads(em), ctx, read, auth, { now: ctx.clock.now() });
      trail = plan.trail;
      const saved = await persist(em, ctx, plan, msg, { pos, raw: { sha256: evidence.rawSha256, size: evidence.rawSize } });
      return fromPlan(plan, saved, msg);
    });
  } catch (err) {
    if (err instanceof AlreadyRecorded || isUniqueViolation(err)) {
      // Another run (or instance) committed this mail first; what it decided stands.
      const existing = await findReceipt(ctx.db.manager, pos.mailbox, pos.uidValidity, pos.uid);
      if (existing) return fromReceipt(existing);
    }
    if (err instanceof MailProcessingError) throw err;
    const e = classifyError(err);
    // A unique violation without a receipt: a twin committed meanwhile; retrying finds it.
    const retryable = e.retryable || isUniqueViolation(err);
    throw new MailProcessingError(isUniqueViolation(err) ? "EDB" : e.code, e.message, { ...evidence, trail }, { cause: err, retryable });
  }
}

class AlreadyRecorded extends Error {}
