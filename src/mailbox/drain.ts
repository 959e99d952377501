import type { ImapConfig } from "../config/schema.js";
import { asTicketpostError, type TicketpostError } from "../shared/errors.js";
import { withRetries } from "../shared/retry.js";
import type { Logger } from "../shared/logger.js";
import type { MailPosition, ProcessResult, RawMail } from "../tickets/pipeline.js";
import type { FetchedMail, MailSource } from "./imap-mailbox.js";

export interface DrainDeps {
  process(pos: MailPosition, raw: RawMail): Promise<ProcessResult>;
  /**
   * Processes a fetched batch in one transaction (group commit); null for a mail it left to
   * `process`. Throws when the batch did not commit: then every mail goes through `process`.
   */
  processBatch?(mails: Array<{ position: MailPosition; raw: RawMail }>): Promise<Array<ProcessResult | null>>;
  /** Records a mail as failed after it kept failing for reasons that retrying did not fix. */
  giveUp(pos: MailPosition, err: TicketpostError): Promise<ProcessResult>;
  /** Notes where a mail was moved (best effort: the receipt already makes the mail safe). */
  markMoved(receiptIds: number[], folder: string): Promise<void>;
  /** Told after each committed batch, e.g. to wake the outbox sender. */
  afterBatch?(): void;
  /** Told what became of each mail (metrics). */
  onResult?(result: ProcessResult): void;
  /** Asked after each batch: stop here (this instance is to hand the mailbox to another). */
  shouldYield?(): boolean;
  logger: Logger;
}

export interface DrainSummary {
  processed: number;
  failed: number;
  byOutcome: Record<string, number>;
  /** Set when the run stopped early; the mails left stay in the inbox for the next run. */
  stoppedBy: TicketpostError | null;
}

/**
 * Empties the mailbox: fetch a batch, process it (one transaction, a savepoint per mail), then
 * move the committed ones to Processed and the failed ones to Failed. Mails are moved only after their
 * receipt is committed, so a crash between the two leaves a mail the next run just moves.
 */
export async function drainMailbox(
  source: MailSource,
  cfg: Pick<ImapConfig, "batchSize" | "processedFolder" | "failedFolder">,
  deps: DrainDeps,
): Promise<DrainSummary> {
  const summary: DrainSummary = { processed: 0, failed: 0, byOutcome: {}, stoppedBy: null };
  let stalled = 0;
  for (;;) {
    const uids = await source.listUids();
    if (uids.length === 0) break;
    let movedThisRound = 0;
    for (let i = 0; i < uids.length; i += cfg.batchSize) {
      const mails = await source.fetch(uids.slice(i, i + cfg.batchSize));
      movedThisRound += await handleBatch(source, mails, cfg, deps, summary, new Date());
      if (summary.stoppedBy) return summary;
      // Everything fetched so far is committed and moved: a clean place to hand over.
      if (deps.shouldYield?.()) return summary;
    }
    // Mails that vanish between SEARCH and FETCH (another client moved them) are not ours to
    // handle; if nothing moves twice in a row, stop rather than spin.
    stalled = movedThisRound === 0 ? stalled + 1 : 0;
    if (stalled >= 2) break;
  }
  return summary;
}

/**
 * One fetched batch: processed together (group commit), then any mail the batch left alone
 * one at a time with retries; then the committed ones are moved. Returns how many were moved.
 */
async function handleBatch(
  source: MailSource,
  mails: FetchedMail[],
  cfg: Pick<ImapConfig, "processedFolder" | "failedFolder">,
  deps: DrainDeps,
  summary: DrainSummary,
  fetchedAt: Date,
): Promise<number> {
  const toProcessed: Array<{ uid: number; receipt: number }> = [];
  const toFailed: Array<{ uid: number; receipt: number }> = [];
  const batched = await processBatch(deps, mails);
  for (const [index, mail] of mails.entries()) {
    const result = batched[index] ?? (await processAlone(mail, deps, summary));
    if (!result) break;
    deps.onResult?.(result);
    summary.byOutcome[result.outcome] = (summary.byOutcome[result.outcome] ?? 0) + 1;
    if (result.outcome === "failed") {
      toFailed.push({ uid: mail.position.uid, receipt: result.receiptId });
      deps.logger.warn("mail moved to Failed", {
        uid: mail.position.uid,
        messageId: result.messageId,
        code: result.errorCode,
        reason: result.reason,
      });
    } else {
      toProcessed.push({ uid: mail.position.uid, receipt: result.receiptId });
      // fetchedAt: when its batch arrived from the server (where the time to the commit went).
      deps.logger.info("mail processed", {
        uid: mail.position.uid,
        messageId: result.messageId,
        outcome: result.outcome,
        ticket: result.ticketId,
        replay: result.alreadyDone || undefined,
        fetchedAt: fetchedAt.toISOString(),
      });
    }
  }
  deps.afterBatch?.();
  await source.move(
    toProcessed.map((m) => m.uid),
    cfg.processedFolder,
  );
  await source.move(
    toFailed.map((m) => m.uid),
    cfg.failedFolder,
  );
  await deps
    .markMoved(
      toProcessed.map((m) => m.receipt),
      cfg.processedFolder,
    )
    .catch(() => {});
  await deps
    .markMoved(
      toFailed.map((m) => m.receipt),
      cfg.failedFolder,
    )
    .catch(() => {});
  summary.processed += toProcessed.length;
  summary.failed += toFailed.length;
  return toProcessed.length + toFailed.length;
}

/** The batch's results; when it did not commit (the database failed), none: each mail goes alone. */
async function processBatch(deps: DrainDeps, mails: FetchedMail[]): Promise<Array<ProcessResult | null>> {
  if (!deps.processBatch || mails.length === 0) return [];
  try {
    return await deps.processBatch(mails);
  } catch (err) {
    deps.logger.warn("batch not committed; its mails are processed one at a time", { mails: mails.length, error: (err as Error).message });
    return [];
  }
}

/** One mail in its own transaction, retried; given up on, it is recorded as failed. Null: stop (nothing can be recorded). */
async function processAlone(mail: FetchedMail, deps: DrainDeps, summary: DrainSummary): Promise<ProcessResult | null> {
  const tried = await withRetries(
    () => deps.process(mail.position, mail.raw),
    (e, attempt) => deps.logger.warn("mail processing failed", { uid: mail.position.uid, code: e.code, error: e.message, attempt }),
  );
  if ("value" in tried) return tried.value;
  try {
    return await deps.giveUp(mail.position, tried.error);
  } catch (recordErr) {
    // Not even the failure can be recorded (database down): stop, leave the mail, retry later.
    summary.stoppedBy = asTicketpostError(recordErr, "EDB");
    return null;
  }
}
