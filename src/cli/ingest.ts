import type { TicketpostConfig } from "../config/schema.js";
import { asTicketpostError, TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { processMail } from "../tickets/pipeline.js";
import { closeDb, openGateway, sendQueuedNow } from "./gateway.js";
import { importPosition } from "../mailbox/file-sources.js";

/** sysexits.h, as mail servers read a delivery program's exit code. */
export const EX_OK = 0;
export const EX_DATAERR = 65;
export const EX_TEMPFAIL = 75;

async function readStdin(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    // Keep reading (the mail server waits for us to drain the pipe) but stop storing.
    if (size <= limit + 1) chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * `ticketpost ingest`: one mail on standard input, as a mail server's pipe alias delivers it.
 * 0 accepted; 65 rejected for good (the reason on stderr; the mail server bounces it);
 * 75 try again later (database unreachable and the like; the mail server keeps it queued).
 */
export async function runIngest(config: TicketpostConfig, logger: Logger, opts: { send: boolean | null }): Promise<number> {
  const raw = await readStdin(config.maxMessageBytes);
  if (raw.length === 0) {
    process.stderr.write("ticketpost ingest: EPARSE: no mail on standard input\n");
    return EX_DATAERR;
  }
  let ctx;
  try {
    ctx = await openGateway(config, logger);
  } catch (err) {
    const e = asTicketpostError(err, "EDB");
    process.stderr.write(`ticketpost ingest: ${e.code}: ${e.message}\n`);
    return EX_TEMPFAIL;
  }
  try {
    let result;
    try {
      result = await processMail(ctx, importPosition(raw, "(stdin)"), raw);
    } catch (err) {
      const e = asTicketpostError(err, "EDB");
      process.stderr.write(`ticketpost ingest: ${e.code}: ${e.message}\n`);
      return e.retryable ? EX_TEMPFAIL : EX_DATAERR;
    }
    if (result.outcome === "failed") {
      process.stderr.write(`ticketpost ingest: ${result.errorCode}: ${result.reason}\n`);
      return EX_DATAERR;
    }
    await sendQueuedNow(config, ctx, opts.send);
    logger.info("mail ingested", { outcome: result.outcome, ticket: result.ticketId, replay: result.alreadyDone || undefined });
    return EX_OK;
  } catch (err) {
    if (err instanceof TicketpostError && err.retryable) return EX_TEMPFAIL;
    throw err;
  } finally {
    await closeDb(ctx.db);
  }
}
