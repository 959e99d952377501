import type { Readable } from "node:stream";
import { asTicketpostError } from "../../shared/errors.js";
import { defineCommand, SEND_OPTIONS, sendChoice } from "../command.js";

/** sysexits.h, as mail servers read a delivery program's exit code (Postfix pipe(8), local(8); Exim's pipe transport). */
export const EX_OK = 0;
export const EX_DATAERR = 65;
export const EX_TEMPFAIL = 75;

/** A mail on standard input: its bytes when within the limit, else only how many there were. */
export type StdinMail = { raw: Buffer; size: number } | { raw: null; size: number };

/**
 * Reads the stream to its end, keeping at most `limit` bytes: the mail server waits for its pipe
 * to be drained before it reads our exit code, but an oversized mail must not sit in memory.
 */
export async function readMail(input: Readable, limit: number): Promise<StdinMail> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
    else chunks.length = 0;
  }
  return size > limit ? { raw: null, size } : { raw: Buffer.concat(chunks, size), size };
}

function refuse(code: string, message: string, exit: number): number {
  process.stderr.write(`ticketpost: ${code}: ${message}\n`);
  return exit;
}

export const ingest = defineCommand({
  name: "ingest",
  summary: "read one mail from standard input (for a mail server's pipe alias)",
  options: SEND_OPTIONS,
  exclusive: [["send", "no-send"]],
  help: `Reads one mail from standard input and processes it like a mail from the mailbox. For a mail
server's pipe alias, e.g. in /etc/aliases:

  support: "|/usr/bin/node /opt/ticketpost/dist/src/cli/main.js ingest --config /etc/ticketpost/ticketpost.json"

Exit codes (sysexits), one line on stderr saying why when not 0:
  0   accepted: a ticket, a reply, a report (bounce, DSN, ARF), our own mail, or a mail accepted before
  65  rejected for good (EX_DATAERR): no sender, unreadable (kept in ticketpost failed list), or
      larger than maxMessageBytes (nothing is recorded); the mail server bounces it
  75  try again later (EX_TEMPFAIL): the database is unreachable, or the configuration or the
      command line is wrong, or an unexpected error; the mail server keeps the mail queued
Notifications are sent at once unless a running daemon will send them (--send, --no-send override).`,
  async run(call) {
    const { importPosition } = await import("../../mailbox/file-sources.js");
    const { processMail } = await import("../../tickets/pipeline.js");
    const { closeDb, openGateway, sendQueuedNow } = await import("../gateway.js");
    const config = call.config();
    const stdin = await readMail(process.stdin, config.maxMessageBytes);
    if (stdin.raw === null)
      return refuse("EOVERSIZE", `mail is ${stdin.size} bytes; the limit is ${config.maxMessageBytes} (maxMessageBytes)`, EX_DATAERR);
    if (stdin.size === 0) return refuse("EPARSE", "no mail on standard input", EX_DATAERR);
    const raw = stdin.raw;
    let ctx;
    try {
      ctx = await openGateway(config, call.logger());
    } catch (err) {
      const e = asTicketpostError(err, "EDB");
      return refuse(e.code, e.message, EX_TEMPFAIL);
    }
    try {
      let result;
      try {
        result = await processMail(ctx, importPosition(raw, "(stdin)"), raw);
      } catch (err) {
        const e = asTicketpostError(err, "EDB");
        return refuse(e.code, e.message, e.retryable ? EX_TEMPFAIL : EX_DATAERR);
      }
      if (result.outcome === "failed") return refuse(result.errorCode ?? "EPARSE", result.reason ?? "the mail cannot be used", EX_DATAERR);
      await sendQueuedNow(config, ctx, sendChoice(call.opts));
      call.logger().info("mail ingested", { outcome: result.outcome, ticket: result.ticketId, replay: result.alreadyDone || undefined });
      return EX_OK;
    } finally {
      await closeDb(ctx.db);
    }
  },
  // A mail server bounces the mail on any code but 75: a broken alias line, a broken configuration
  // or a fault of ours must keep the mail queued until the operator fixes it, not return it to
  // the sender. The refusals that are the mail's own fault return 65 from run() above.
  exitCodeFor: () => EX_TEMPFAIL,
});
