import type { EntityManager } from "typeorm";
import { MailReceipt, Message, TrailEntry, type ReceiptOutcome } from "../db/entities.js";
import { classifyMail } from "../mail/classify.js";
import { detectAutoReply, envelopeSender } from "../mail/auto-reply.js";
import { detectBounce, type BounceReport } from "../mail/bounce.js";
import { applyBounce } from "./workflow/bounce.js";
import { queueRejectedNotice } from "./workflow/notify.js";
import { open, rm } from "node:fs/promises";
import { parseMail, parseMailStream } from "../mail/parse.js";
import type { InboundMessage } from "../mail/types.js";
import { asTicketpostError, TicketpostError } from "../shared/errors.js";
import { addMailToTicket } from "./workflow/reply.js";
import { createTicketFromMail } from "./workflow/new-ticket.js";
import type { GatewayContext, TrailStep } from "./context.js";
import { findReceipt, threadLookup } from "./repository.js";
import { resolveThread } from "./thread.js";

/** Where a mail sits in its mailbox: the key that makes handling it exactly-once. */
export interface MailPosition {
  mailbox: string;
  uidValidity: number;
  uid: number;
}

export interface ProcessResult {
  outcome: ReceiptOutcome;
  receiptId: number;
  ticketId: number | null;
  /** The receipt already existed: an earlier run committed this mail and only the move is left. */
  alreadyDone: boolean;
  errorCode: string | null;
  reason: string | null;
  trail: TrailStep[];
  /** Message-ID of the mail, for log lines. */
  messageId?: string | null;
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || /UNIQUE constraint failed|duplicate key/i.test(String((err as Error)?.message));
}

function fromReceipt(r: MailReceipt, trail: TrailStep[] = []): ProcessResult {
  return { outcome: r.outcome, receiptId: r.id, ticketId: r.ticketId, alreadyDone: true, errorCode: r.errorCode, reason: r.reason, trail, messageId: r.messageIdHeader };
}

async function writeReceipt(em: EntityManager, ctx: GatewayContext, pos: MailPosition, fields: Partial<MailReceipt>, trail: TrailStep[]): Promise<MailReceipt> {
  const receipt = await em.save(em.create(MailReceipt, {
    mailbox: pos.mailbox,
    uidValidity: pos.uidValidity,
    uid: pos.uid,
    messageIdHeader: null,
    subject: null,
    fromAddress: null,
    errorCode: null,
    reason: null,
    ticketId: null,
    messageRowId: null,
    rawSha256: null,
    rawSize: null,
    movedTo: null,
    receivedAt: ctx.clock.now(),
    outcome: "failed",
    ...fields,
  }));
  // One multi-row INSERT: the trail is written with every mail, so it must be cheap.
  if (trail.length) await em.insert(TrailEntry, trail.map((step, seq) => ({ receiptId: receipt.id, seq, stage: step.stage, verdict: step.verdict, detail: step.detail.slice(0, 2000) })));
  return receipt;
}

function describe(msg: InboundMessage | null): Partial<MailReceipt> {
  if (!msg) return {};
  return { messageIdHeader: msg.messageId, subject: msg.subject.slice(0, 500), fromAddress: msg.from?.address ?? null, rawSha256: msg.rawSha256, rawSize: msg.rawSize };
}

/** Records a mail that cannot be processed: its receipt says why, and the mail goes to Failed. */
export async function recordFailure(ctx: GatewayContext, pos: MailPosition, err: TicketpostError, msg: InboundMessage | null, trail: TrailStep[], raw?: { sha256: string; size: number }, andThen?: (em: EntityManager) => Promise<TrailStep | null>): Promise<ProcessResult> {
  const steps = [...trail, { stage: "apply" as const, verdict: "failed", detail: `${err.code}: ${err.message}` }];
  try {
    const receipt = await ctx.db.transaction(async (em) => {
      const extra = andThen ? await andThen(em) : null;
      if (extra) steps.push(extra);
      return writeReceipt(em, ctx, pos, { ...describe(msg), ...(raw ? { rawSha256: raw.sha256, rawSize: raw.size } : {}), outcome: "failed", errorCode: err.code, reason: err.message.slice(0, 2000) }, steps);
    });
    return { outcome: "failed", receiptId: receipt.id, ticketId: null, alreadyDone: false, errorCode: err.code, reason: err.message, trail: steps, messageId: msg?.messageId ?? null };
  } catch (dbErr) {
    if (isUniqueViolation(dbErr)) {
      const existing = await findReceipt(ctx.db.manager, pos.mailbox, pos.uidValidity, pos.uid);
      if (existing) return fromReceipt(existing);
    }
    throw new TicketpostError("EDB", `could not record the failure of a mail: ${(dbErr as Error).message}`, { cause: dbErr });
  }
}

/**
 * parse → classify → (one transaction: dedup → thread → apply → receipt). Returns what became
 * of the mail; throws only when nothing could be recorded (database unreachable), in which case
 * the mail stays where it is and is tried again on the next run.
 */
/**
 * A mail as bytes, or (a big one) as a file it was streamed into: then it is parsed as a stream
 * and its attachments go straight to the blob store, so memory stays flat whatever its size.
 * The file is taken over by the blob store.
 */
export type RawMail = Buffer | { file: string; size: number };

export async function processMail(ctx: GatewayContext, pos: MailPosition, input: RawMail): Promise<ProcessResult> {
  const done = await findReceipt(ctx.db.manager, pos.mailbox, pos.uidValidity, pos.uid);
  if (done) {
    if (!Buffer.isBuffer(input)) await rm(input.file, { force: true });
    return fromReceipt(done);
  }
  const size = Buffer.isBuffer(input) ? input.length : input.size;
  const trail: TrailStep[] = [{ stage: "receive", verdict: "fetched", detail: `${pos.mailbox} uidvalidity ${pos.uidValidity} uid ${pos.uid}, ${size} bytes` }];
  const rawSha = Buffer.isBuffer(input) ? await ctx.blobs.put(input) : (await ctx.blobs.putFile(input.file)).sha256;
  if (size > ctx.maxMessageBytes) {
    const err = new TicketpostError("EOVERSIZE", `mail is ${size} bytes; the limit is ${ctx.maxMessageBytes}`);
    const head = await parseHeaderOnly(Buffer.isBuffer(input) ? input : await readHead(ctx.blobs.pathFor(rawSha)));
    return recordFailure(ctx, pos, err, head, trail, { sha256: rawSha, size }, head ? (em) => noticeOversize(em, ctx, head, size) : undefined);
  }

  let msg: InboundMessage;
  const raw: Buffer | null = Buffer.isBuffer(input) ? input : null;
  try {
    if (raw) {
      msg = await parseMail(raw);
      for (const a of msg.attachments) if (a.content) await ctx.blobs.put(a.content, a.sha256);
    } else {
      // Only big mails come as files, and bounce reports are small: a spooled mail is not read
      // whole again just to be examined as a bounce.
      msg = await parseMailStream(ctx.blobs.open(rawSha), rawSha, size, (stream) => ctx.blobs.putStream(stream));
    }
  } catch (err) {
    return recordFailure(ctx, pos, asTicketpostError(err, "EPARSE"), null, trail, { sha256: rawSha, size });
  }
  trail.push({ stage: "parse", verdict: "ok", detail: `Message-ID ${msg.messageId ?? "(none)"}, from ${msg.from?.address ?? "(none)"}, ${msg.attachments.length} attachment(s)` });

  let bounce: BounceReport | null = null;
  try {
    bounce = raw ? await detectBounce(raw, msg, { messageIdDomain: ctx.messageIdDomain, isOwn: (a) => ctx.directory.isOwn(a) }) : null;
  } catch (err) {
    trail.push({ stage: "classify", verdict: "bounce-check-failed", detail: (err as Error).message });
  }
  const verdict = classifyMail(msg, { messageIdDomain: ctx.messageIdDomain, isOwn: (a) => ctx.directory.isOwn(a) }, { bounce });
  trail.push({ stage: "classify", verdict: verdict.kind + (verdict.automatic ? "/automatic" : ""), detail: verdict.reasons.join("; ") });

  try {
    const result: ProcessResult = await ctx.db.transaction(async (em) => {
      if (await findReceipt(em, pos.mailbox, pos.uidValidity, pos.uid)) throw new AlreadyRecorded();
      if (verdict.kind === "loop") {
        const steps = [...trail, { stage: "apply" as const, verdict: "ignored", detail: "our own mail came back: dropped without an answer" }];
        const r = await writeReceipt(em, ctx, pos, { ...describe(msg), outcome: "ignored", reason: verdict.reasons.join("; ") }, steps);
        return { outcome: "ignored", receiptId: r.id, ticketId: null, alreadyDone: false, errorCode: null, reason: r.reason, trail: steps } satisfies ProcessResult;
      }
      if ((verdict.kind === "bounce" || verdict.kind === "report") && bounce) {
        const b = await applyBounce(em, ctx, msg, bounce);
        const steps = [...trail, ...b.trail];
        const outcome: ReceiptOutcome = verdict.kind === "bounce" ? "bounce" : "report";
        const r = await writeReceipt(em, ctx, pos, { ...describe(msg), outcome, ticketId: b.ticketId, messageRowId: b.messageRowId, reason: verdict.reasons[0] ?? null }, steps);
        return { outcome, receiptId: r.id, ticketId: b.ticketId, alreadyDone: false, errorCode: null, reason: r.reason, trail: steps } satisfies ProcessResult;
      }
      const twin = await em.findOne(Message, { where: { messageId: msg.dedupKey }, select: { id: true, ticketId: true } });
      if (twin) {
        const steps = [...trail, { stage: "dedup" as const, verdict: "duplicate", detail: `Message-ID ${msg.dedupKey} is already message ${twin.id} of ticket ${twin.ticketId}` }];
        const r = await writeReceipt(em, ctx, pos, { ...describe(msg), outcome: "duplicate", ticketId: twin.ticketId, messageRowId: twin.id }, steps);
        return { outcome: "duplicate", receiptId: r.id, ticketId: twin.ticketId, alreadyDone: false, errorCode: null, reason: null, trail: steps } satisfies ProcessResult;
      }
      trail.push({ stage: "dedup", verdict: "new", detail: `Message-ID ${msg.dedupKey} not seen before` });

      const thread = await resolveThread(msg, ctx.tagFormat, threadLookup(em));
      trail.push({ stage: "thread", verdict: thread.ticketId === null ? "new-ticket" : `ticket-${thread.ticketId}`, detail: thread.reasons.join("; ") });

      const applied = thread.ticketId === null
        ? await createTicketFromMail(em, ctx, msg, { acknowledge: !verdict.automatic })
        : await addMailToTicket(em, ctx, thread.ticketId, msg, { automatic: verdict.automatic });
      const steps = [...trail, ...applied.trail];
      const outcome: ReceiptOutcome = applied.created ? "ticket_created" : "reply_added";
      const r = await writeReceipt(em, ctx, pos, { ...describe(msg), outcome, ticketId: applied.ticket.id, messageRowId: applied.message.id }, steps);
      return { outcome, receiptId: r.id, ticketId: applied.ticket.id, alreadyDone: false, errorCode: null, reason: null, trail: steps } satisfies ProcessResult;
    });
    return { ...result, messageId: msg.messageId };
  } catch (err) {
    if (err instanceof AlreadyRecorded || isUniqueViolation(err)) {
      // Another run (or instance) committed this mail first; what it decided stands.
      const existing = await findReceipt(ctx.db.manager, pos.mailbox, pos.uidValidity, pos.uid);
      if (existing) return fromReceipt(existing);
    }
    const tpErr = err instanceof TicketpostError ? err : new TicketpostError("EDB", (err as Error).message, { cause: err });
    if (tpErr.retryable) throw tpErr;
    return recordFailure(ctx, pos, tpErr, msg, trail);
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

/** One polite notice to a person whose mail was too large; never to a machine, never twice in a loop. */
async function noticeOversize(em: EntityManager, ctx: GatewayContext, head: InboundMessage, size: number): Promise<TrailStep | null> {
  const to = head.replyTo[0] ?? head.from;
  const auto = detectAutoReply(head, envelopeSender(head));
  if (!to || auto.automatic || ctx.directory.isOwn(to.address)) return { stage: "notify", verdict: "none", detail: "no notice: automatic or unknown sender" };
  const sent = await queueRejectedNotice(em, ctx, to, head, `the message is ${Math.round(size / 1048576)} MB, more than the ${Math.round(ctx.maxMessageBytes / 1048576)} MB we accept`);
  return { stage: "notify", verdict: sent ? "queued" : "withheld", detail: sent ?? `notice to ${to.address} withheld` };
}
