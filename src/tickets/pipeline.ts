import { open, rm } from "node:fs/promises";
import type { EntityManager } from "typeorm";
import { detectBounce, type BounceReport } from "../mail/bounce/index.js";
import { classifyMail } from "../mail/classify.js";
import { parseMail, parseMailStream } from "../mail/parse.js";
import { normalizeLineEndings } from "../mail/raw.js";
import type { InboundMessage } from "../mail/types.js";
import { asTicketpostError } from "../shared/errors.js";
import type { GatewayContext } from "./context.js";
import { gatherFacts, oversizeFacts, type AgentAuth, type GatherOptions, type ReadMail, type TicketReads } from "./facts.js";
import {
  classifyError,
  evidenceFrom,
  evidenceOf,
  fromReceipt,
  isUniqueViolation,
  MailProcessingError,
  recordFailure,
  type Evidence,
  type ProcessResult,
} from "./failure.js";
import { persist, type MailPosition } from "./persist.js";
import { findReceipt, ticketReads } from "./repository.js";
import { step, type TrailStep, type TrailVerdict } from "./trail.js";
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

/**
 * A mail as bytes, or (a big one) as a file it was streamed into: then it is parsed as a stream
 * and its attachments go straight to the blob store, so memory stays flat whatever its size.
 * The file is taken over by the blob store.
 */
export type RawMail = Buffer | { file: string; size: number };

/** A mail's bytes once stored: their hash and size, the bytes themselves unless spooled to a file. */
export interface Received {
  sha256: string;
  size: number;
  buffer: Buffer | null;
  /** Where the bytes are, for a spooled mail (the blob store's file). */
  file: string | null;
  trail: TrailStep[];
}

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

/** 1. The bytes are stored before anything else happens to them. */
export async function receiveMail(ctx: GatewayContext, pos: MailPosition, input: RawMail): Promise<Received> {
  const size = Buffer.isBuffer(input) ? input.length : input.size;
  const trail = [step("receive", "fetched", `${pos.mailbox} uidvalidity ${pos.uidValidity} uid ${pos.uid}, ${size} bytes`)];
  if (Buffer.isBuffer(input)) return { sha256: await ctx.blobs.put(input), size, buffer: input, file: null, trail };
  const sha256 = (await ctx.blobs.putFile(input.file)).sha256;
  return { sha256, size, buffer: null, file: ctx.blobs.pathFor(sha256), trail };
}

/**
 * 2 and 3. Parse and classify. `store` keeps the attachments in the blob store (processing);
 * inspect reads without storing.
 */
export async function readMail(ctx: GatewayContext, r: Received, opts: { store: boolean }): Promise<ReadMail> {
  const trail = [...r.trail];
  if (r.size > ctx.maxMessageBytes) {
    const head = await parseHeaderOnly(r.buffer ?? (await readHead(r.file!)));
    return { kind: "oversize", head, size: r.size, trail };
  }
  let msg: InboundMessage;
  try {
    if (r.buffer) {
      msg = await parseMail(r.buffer);
      if (opts.store) for (const a of msg.attachments) if (a.content) await ctx.blobs.put(a.content, a.sha256);
    } else {
      // Only big mails come as files, and bounce reports are small: a spooled mail is not read
      // whole again just to be examined as a bounce.
      msg = await parseMailStream(ctx.blobs.open(r.sha256), r.sha256, r.size, (stream) => ctx.blobs.putStream(stream));
    }
  } catch (err) {
    const e = asTicketpostError(err, "EPARSE");
    return { kind: "unreadable", code: "EPARSE", message: e.message, trail };
  }
  trail.push(
    step(
      "parse",
      "ok",
      `Message-ID ${msg.messageId ?? "(none)"}, from ${msg.from?.address ?? "(none)"}, ${msg.attachments.length} attachment(s)`,
    ),
  );
  for (const note of msg.notes) trail.push(step("parse", "note", note));

  let bounce: BounceReport | null = null;
  try {
    bounce = r.buffer
      ? await detectBounce(normalizeLineEndings(r.buffer), msg, {
          messageIdDomain: ctx.messageIdDomain,
          isOwn: (a) => ctx.directory.isOwn(a),
        })
      : null;
  } catch (err) {
    trail.push(step("classify", "bounce-check-failed", (err as Error).message));
  }
  const classification = classifyMail(msg, { messageIdDomain: ctx.messageIdDomain, isOwn: (a) => ctx.directory.isOwn(a) }, { bounce });
  const verdict = `${classification.kind}${classification.automatic ? "/automatic" : ""}` as TrailVerdict<"classify">;
  trail.push(step("classify", verdict, classification.reasons.join("; ")));
  return { kind: "mail", msg, classification, bounce, trail };
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
      return {
        outcome: plan.outcome,
        receiptId: saved.receiptId!,
        ticketId: saved.ticketId,
        alreadyDone: false,
        errorCode: plan.errorCode,
        reason: plan.reason,
        trail: plan.trail,
        messageId: msg?.messageId ?? null,
      };
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

async function readHead(file: string): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(256 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Headers only (a mail over the size limit is not parsed whole), enough to answer its sender. */
async function parseHeaderOnly(raw: Buffer): Promise<InboundMessage | null> {
  const end = raw.subarray(0, 256 * 1024).indexOf("\r\n\r\n");
  const endLf = raw.subarray(0, 256 * 1024).indexOf("\n\n");
  const cut = end >= 0 ? end + 4 : endLf >= 0 ? endLf + 2 : -1;
  if (cut < 0) return null;
  try {
    return await parseMail(raw.subarray(0, cut));
  } catch {
    return null;
  }
}
