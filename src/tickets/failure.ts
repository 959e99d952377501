import { TypeORMError } from "typeorm";
import type { ReceiptOutcome, MailReceipt } from "../db/entities.js";
import type { InboundMessage } from "../mail/types.js";
import { TicketpostError, type ErrorCode } from "../shared/errors.js";
import type { GatewayContext } from "./context.js";
import { describeMail, writeReceipt, type MailPosition, type Persisted } from "./persist.js";
import { findReceipt } from "./repository.js";
import { step, type TrailStep } from "./trail.js";
import type { Plan } from "./workflow/plan.js";

/*
 * A mail that fails keeps its evidence: its bytes (stored before anything can fail), its
 * Message-ID, the hash of its bytes and the trail up to where it failed, so that `failed list`
 * says what happened and `failed retry` can process it again after a fix.
 */

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

/** What is known about a mail when processing it fails. */
export interface Evidence {
  messageId: string | null;
  subject: string | null;
  fromAddress: string | null;
  rawSha256: string;
  rawSize: number;
  trail: TrailStep[];
}

/** An error while processing a mail, carrying the mail's evidence so that even giving up on it later keeps it. */
export class MailProcessingError extends TicketpostError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly evidence: Evidence,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(code, message, options);
  }
}

export function evidenceOf(err: unknown): Evidence | null {
  for (let e = err; e; e = (e as Error).cause) if (e instanceof MailProcessingError) return e.evidence;
  return null;
}

export function evidenceFrom(msg: InboundMessage | null, raw: { sha256: string; size: number }, trail: TrailStep[]): Evidence {
  return {
    messageId: msg?.messageId ?? null,
    subject: msg?.subject.slice(0, 500) ?? null,
    fromAddress: msg?.from?.address ?? null,
    rawSha256: raw.sha256,
    rawSize: raw.size,
    trail: [...trail],
  };
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; driverError?: { code?: string } };
  const code = e?.driverError?.code ?? e?.code;
  return (
    code === "23505" ||
    code === "SQLITE_CONSTRAINT_UNIQUE" ||
    /UNIQUE constraint failed|duplicate key/i.test(String((err as Error)?.message))
  );
}

/**
 * What went wrong, as a code: our own errors keep theirs; the database's (TypeORM, the drivers,
 * a refused connection) are EDB and retryable; anything else is a bug, EINTERNAL, and retrying
 * the same mail cannot help.
 */
export function classifyError(err: unknown): TicketpostError {
  if (err instanceof TicketpostError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const driverCode = typeof e?.code === "string" && !e.code.startsWith("ERR_");
  if (err instanceof TypeORMError || driverCode) return new TicketpostError("EDB", String(e?.message ?? err), { cause: err });
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new TicketpostError("EINTERNAL", `unexpected error: ${what}`, { cause: err });
}

/** What became of a mail whose plan was just written (by the single-mail path or a batch). */
export function fromPlan(plan: Plan, saved: Persisted, msg: InboundMessage | null): ProcessResult {
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
}

export function fromReceipt(r: MailReceipt, trail: TrailStep[] = []): ProcessResult {
  return {
    outcome: r.outcome,
    receiptId: r.id,
    ticketId: r.ticketId,
    alreadyDone: true,
    errorCode: r.errorCode,
    reason: r.reason,
    trail,
    messageId: r.messageIdHeader,
  };
}

/**
 * Records a mail that cannot be processed: its receipt says why, keeps the evidence (the error's,
 * or `msg` and `trail`), and the mail goes to Failed.
 */
export async function recordFailure(
  ctx: GatewayContext,
  pos: MailPosition,
  err: TicketpostError,
  msg: InboundMessage | null = null,
  trail: TrailStep[] = [],
): Promise<ProcessResult> {
  const ev = evidenceOf(err);
  const steps = [...(ev?.trail ?? trail), step("apply", "failed", `${err.code}: ${err.message}`)];
  const fields: Partial<MailReceipt> = ev
    ? { messageIdHeader: ev.messageId, subject: ev.subject, fromAddress: ev.fromAddress, rawSha256: ev.rawSha256, rawSize: ev.rawSize }
    : describeMail(msg);
  try {
    const receiptId = await ctx.db.transaction((em) =>
      writeReceipt(em, ctx, pos, { ...fields, outcome: "failed", errorCode: err.code, reason: err.message.slice(0, 2000) }, steps),
    );
    return {
      outcome: "failed",
      receiptId,
      ticketId: null,
      alreadyDone: false,
      errorCode: err.code,
      reason: err.message,
      trail: steps,
      messageId: fields.messageIdHeader ?? null,
    };
  } catch (dbErr) {
    if (isUniqueViolation(dbErr)) {
      const existing = await findReceipt(ctx.db.manager, pos.mailbox, pos.uidValidity, pos.uid);
      if (existing) return fromReceipt(existing);
    }
    throw new TicketpostError("EDB", `could not record the failure of a mail: ${(dbErr as Error).message}`, { cause: dbErr });
  }
}
