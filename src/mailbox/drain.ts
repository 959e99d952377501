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
  processBatch?(mails: Array<{ position: MailPosition; raw: RawMail }>, ahead?: unknown): Promise<Array<ProcessResult | null>>;
  /**
   * Starts the work on a fetched batch that needs no transaction (reading the mails, in another
   * thread), so that it runs while the batch before is committed; what it returns is handed to
   * processBatch with the batch. Must not reject.
   */
  readAhead?(mails: Array<{ position: MailPosition; raw: RawMail }>): unknown;
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
 *
 * Batches overlap: while one is committed and moved, the next ones (READ_AHEAD) are fetched and
 * read (deps.readAhead, in the reading thread). Only reading runs ahead; nothing of a batch is
 * written before the one before it is committed and moved, and a run that stops leaves the
 * batches read ahead in the inbox (their blobs are stored; the next run finds them there).
 */
export async function drainMailbox(
  source: MailSource,
  cfg: Pick<ImapConfig, "batchSize" | "processedFolder" | "failedFolder">,
  deps: DrainDeps,
): Promise<DrainSummary> {
  const summary: DrainSummary = { processed: 0, failed: 0, byOutcome: {}, stoppedBy: null };
  let stalled = 0;
  const fetchBatch = async (uids: number[]): Promise<Fetched> => {
    const mails = await source.fetch(uids);
    return { mails, fetchedAt: new Date(), ahead: mails.length ? deps.readAhead?.(mails) : undefined };
  };
  for (;;) {
    const uids = await source.listUids();
    if (uids.length === 0) break;
    let movedThisRound = 0;
    const batches: number[][] = [];
    for (let i = 0; i < uids.length; i += cfg.batchSize) batches.push(uids.slice(i, i + cfg.batchSize));
    // Settled, never rejected while unawaited: a failed fetch is thrown where it is awaited.
    const ahead: Array<Promise<Settled<Fetched>>> = [];
    const fill = () => {
      while (ahead.length < READ_AHEAD && batches.length) ahead.push(settle(fetchBatch(batches.shift()!)));
    };
    fill();
    while (ahead.length) {
      const current = unwrap(await ahead.shift()!);
      fill();
      movedThisRound += await handleBatch(source, current, cfg, deps, summary);
      // Everything before the batches fetched ahead is committed and moved: a clean place to
      // stop or hand over; they stay in the inbox.
      if (summary.stoppedBy || deps.shouldYield?.()) {
        await Promise.all(ahead);
        return summary;
      }
    }
    // Mails that vanish between SEARCH and FETCH (another client moved them) are not ours to
    // handle; if nothing moves twice in a row, stop rather than spin.
    stalled = movedThisRound === 0 ? stalled + 1 : 0;
    if (stalled >= 2) break;
  }
  return summary;
}

/**
 * Batches fetched and read ahead of the one being committed: two, so that the fetch of one and
 * the reading of another both overlap the commit.
 */
const READ_AHEAD = 2;

interface Fetched {
  mails: FetchedMail[];
  /** When the batch arrived from the server (where the time to the commit went). */
  fetchedAt: Date;
  /** deps.readAhead's handle for the batch. */
  ahead: unknown;
}

type Settled<T> = { value: T } | { error: unknown };

function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

function unwrap<T>(s: Settled<T>): T {
  if ("error" in s) throw s.error;
  return s.value;
}

/**
 * One fetched batch: processed together (group commit), then any mail the batch left alone
 * one at a time with retries; then the committed ones are moved. Returns how many were moved.
 */
async function handleBatch(
  source: MailSource,
  { mails, fetchedAt, ahead }: Fetched,
  cfg: Pick<ImapConfig, "processedFolder" | "failedFolder">,
  deps: DrainDeps,
  summary: DrainSummary,
): Promise<number> {
  const toProcessed: Array<{ uid: number; receipt: number }> = [];
  const toFailed: Array<{ uid: number; receipt: number }> = [];
  const batched = await processBatch(deps, mails, ahead);
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
async function processBatch(deps: DrainDeps, mails: FetchedMail[], ahead: unknown): Promise<Array<ProcessResult | null>> {
  if (!deps.processBatch || mails.length === 0) return [];
  try {
    return await deps.processBatch(mails, ahead);
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
