import { createHash } from "node:crypto";
import { MailReceipt } from "../db/entities.js";
import { readMailFiles } from "../mailbox/file-sources.js";
import { withRetries } from "../shared/retry.js";
import type { GatewayContext } from "../tickets/context.js";
import { processMail, type MailPosition, type ProcessResult } from "../tickets/pipeline.js";

/** `ticketpost import PATH...`: .eml files, Maildirs and mbox files through the same pipeline as IMAP mail. */

export interface ImportFailure {
  origin: string;
  code: string;
  reason: string;
}

/** A report about a mail sent earlier (bounce, DSN, ARF, delivery notice): handled, not failed. */
export interface ImportReport {
  origin: string;
  /** "bounce" for a delivery failure or delay, "report" for the other reports. */
  kind: "bounce" | "report";
  reason: string;
}

export interface ImportSummary {
  /** Every item read: mails and unreadable paths. Equals the sum of the counts below plus reports.length and failed.length. */
  files: number;
  created: number;
  replies: number;
  duplicates: number;
  /** Imported by an earlier run (the same bytes, from any path), whatever became of them then. */
  alreadyImported: number;
  /** Our own mail coming back (a loop), recorded and otherwise left alone. */
  ignored: number;
  reports: ImportReport[];
  failed: ImportFailure[];
  /**
   * Set when the import stopped early: a mail kept failing for a reason retrying might fix
   * (database unreachable). Nothing was recorded for it, so running the same import again
   * continues there, skipping what was imported.
   */
  stoppedBy: ImportFailure | null;
}

export interface ImportOptions {
  progress?: (done: number, current: string) => void;
}

/** A code for what the file sources report; it is not a pipeline error, so no receipt is written. */
const READ_ERROR_CODE = "EREAD";

type Attempt = { result: ProcessResult } | { error: ImportFailure };

/**
 * processMail throws only when it could record nothing (the database); such a mail is tried
 * again, and after the last attempt it is left unrecorded, unlike the IMAP drain which must give up
 * on a mail to get past it: here the next run of the same import is the retry.
 */
async function processWithRetry(ctx: GatewayContext, pos: MailPosition, raw: Buffer, origin: string): Promise<Attempt> {
  const tried = await withRetries(
    () => processMail(ctx, pos, raw),
    (e, attempt) => ctx.logger.warn("import: mail processing failed", { origin, code: e.code, error: e.message, attempt }),
  );
  return "value" in tried ? { result: tried.value } : { error: { origin, code: tried.error.code, reason: tried.error.message } };
}

/**
 * Positions hold 48 bits of the SHA-256 of the bytes; a different mail with the same 48 bits
 * would look already imported and be skipped without a word. The receipt keeps the full hash.
 */
async function hashCollision(ctx: GatewayContext, result: ProcessResult, raw: Buffer): Promise<boolean> {
  const receipt = await ctx.db
    .getRepository(MailReceipt)
    .findOne({ where: { id: result.receiptId }, select: { id: true, rawSha256: true } });
  return !!receipt?.rawSha256 && receipt.rawSha256 !== createHash("sha256").update(raw).digest("hex");
}

function count(summary: ImportSummary, result: ProcessResult, origin: string): void {
  if (result.alreadyDone) summary.alreadyImported++;
  else if (result.outcome === "ticket_created") summary.created++;
  else if (result.outcome === "reply_added") summary.replies++;
  else if (result.outcome === "duplicate") summary.duplicates++;
  else if (result.outcome === "ignored") summary.ignored++;
  else if (result.outcome === "bounce" || result.outcome === "report")
    summary.reports.push({ origin, kind: result.outcome, reason: result.reason ?? result.outcome });
  else summary.failed.push({ origin, code: result.errorCode ?? "EINTERNAL", reason: result.reason ?? "failed" });
}

/**
 * Imports mails in the order of the paths, and within one in file order, so that an original
 * comes before the replies that thread into it. Queued notifications are left in the outbox for the
 * gateway's sender, as for IMAP mail.
 */
export async function runImport(ctx: GatewayContext, paths: string[], opts: ImportOptions = {}): Promise<ImportSummary> {
  const summary: ImportSummary = {
    files: 0,
    created: 0,
    replies: 0,
    duplicates: 0,
    alreadyImported: 0,
    ignored: 0,
    reports: [],
    failed: [],
    stoppedBy: null,
  };
  for await (const item of readMailFiles(paths)) {
    summary.files++;
    if ("error" in item) {
      summary.failed.push({ origin: item.origin, code: READ_ERROR_CODE, reason: item.error });
      ctx.logger.warn("import: cannot read", { origin: item.origin, reason: item.error });
    } else {
      const attempt = await processWithRetry(ctx, item.position, item.raw, item.origin);
      if ("error" in attempt) {
        summary.failed.push(attempt.error);
        summary.stoppedBy = attempt.error;
        opts.progress?.(summary.files, item.origin);
        break;
      }
      const { result } = attempt;
      if (result.alreadyDone && (await hashCollision(ctx, result, item.raw))) {
        summary.failed.push({
          origin: item.origin,
          code: "EINTERNAL",
          reason: `import position ${item.position.uid} is taken by a different mail (receipt ${result.receiptId}); not imported`,
        });
      } else {
        count(summary, result, item.origin);
      }
      const level = result.outcome === "failed" && !result.alreadyDone ? "warn" : "debug";
      ctx.logger[level]("import: mail handled", {
        origin: item.origin,
        outcome: result.outcome,
        ticket: result.ticketId,
        code: result.errorCode ?? undefined,
        replay: result.alreadyDone || undefined,
      });
    }
    opts.progress?.(summary.files, item.origin);
  }
  return summary;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A few lines for people: the counts, then one line per failed mail. */
export function formatImportSummary(s: ImportSummary): string {
  const counts = [
    plural(s.created, "ticket created", "tickets created"),
    plural(s.replies, "reply threaded", "replies threaded"),
    `${s.duplicates} skipped as duplicate`,
    `${s.alreadyImported} already imported`,
    ...(s.ignored ? [`${s.ignored} ignored (our own mail)`] : []),
    ...(s.reports.length ? [plural(s.reports.length, "report (bounce, DSN, ARF)", "reports (bounces, DSNs, ARF)")] : []),
  ].join(", ");
  const lines = [`read ${s.files} mail(s): ${counts}; ${s.failed.length ? `${s.failed.length} failed:` : "none failed"}`];
  for (const f of s.failed) lines.push(`  ${f.origin}: ${f.code} ${f.reason}`);
  if (s.stoppedBy) {
    lines.push(
      `stopped early at ${s.stoppedBy.origin} (${s.stoppedBy.code}); run the same import again to continue: mails already imported are skipped`,
    );
  }
  return lines.join("\n") + "\n";
}

/** An entry of `failed` in the JSON; `kind` tells a report from a failure. */
export type ImportJsonEntry =
  | { origin: string; kind: "failure"; code: string; reason: string }
  | { origin: string; kind: "report"; code: "BOUNCE" | "REPORT"; reason: string };

/**
 * `import --json`. Reports are listed in `failed` as well, each with `kind: "report"` and the code
 * BOUNCE or REPORT, because tools written against the earlier output (which counted reports among
 * the failures) tell a report by an entry of `failed` that `failed list` does not hold; `failures`
 * and `reports` are the counts to read, and the exit code follows `failures`.
 */
export function importSummaryJson(s: ImportSummary) {
  const failed: ImportJsonEntry[] = [
    ...s.failed.map((f): ImportJsonEntry => ({ origin: f.origin, kind: "failure", code: f.code, reason: f.reason })),
    ...s.reports.map((r): ImportJsonEntry => ({
      origin: r.origin,
      kind: "report",
      code: r.kind === "bounce" ? "BOUNCE" : "REPORT",
      reason: r.reason,
    })),
  ];
  const { files, created, replies, duplicates, alreadyImported, ignored, stoppedBy } = s;
  return {
    files,
    created,
    replies,
    duplicates,
    alreadyImported,
    ignored,
    reports: s.reports.length,
    failures: s.failed.length,
    failed,
    stoppedBy,
  };
}

export type TerminalProgress = ((done: number, current: string) => void) & { finish(): void };

/**
 * A one-line progress indicator redrawn with `\r` on a terminal; undefined for a pipe or a log
 * file, which should get the summary only. The cursor is left at the start of the line, so a log
 * line or the summary written next overwrites the indicator instead of being glued to it;
 * call finish() before printing the summary to clear what is left.
 */
export function terminalProgress(stream: NodeJS.WriteStream): TerminalProgress | undefined {
  if (!stream.isTTY) return undefined;
  let last = 0;
  let drawn = false;
  const draw = (done: number, current: string) => {
    const now = Date.now();
    // Redrawing for every one of 100 000 small mails costs more than the import of them.
    if (drawn && now - last < 100) return;
    last = now;
    drawn = true;
    const width = Math.max(20, (stream.columns || 80) - 1);
    const head = `importing: ${done} mail(s) `;
    const room = width - head.length;
    const tail = current.length <= room ? current : room > 1 ? "…" + current.slice(current.length - room + 1) : "";
    // A line wider than the terminal wraps and \r then only returns to the wrapped part.
    stream.write(`\r${(head + tail).slice(0, width)}\x1b[K\r`);
  };
  return Object.assign(draw, {
    finish: () => {
      if (drawn) stream.write("\r\x1b[K");
    },
  });
}
