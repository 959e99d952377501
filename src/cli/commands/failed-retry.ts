import type { TicketpostConfig } from "../../config/schema.js";
import { moveFromFailed } from "../../mailbox/imap-mailbox.js";
import { retryFailedMails, type RetryOutcome } from "../../tickets/retry.js";
import { defineCommand, print, usage } from "../command.js";
import { closeDb, createSender, openGateway } from "../gateway.js";

/** One line per retried mail, and whether it worked now. */
function describeRetry(config: TicketpostConfig, { receipt: r, result }: RetryOutcome): { line: string; ok: boolean } {
  if (!result) return { line: `#${r.id}: its bytes were not kept; cannot retry`, ok: false };
  const ticket = result.ticketId ? ` (ticket ${config.referencePrefix}-${result.ticketId})` : "";
  const why = result.outcome === "failed" ? `: ${result.errorCode} ${result.reason}` : "";
  return { line: `#${r.id}: ${result.outcome}${ticket}${why} [now #${result.receiptId}]`, ok: result.outcome !== "failed" };
}

/** The copies in the Failed folder of mails that now worked go to Processed. */
async function moveRecovered(config: TicketpostConfig, messageIds: string[], lines: string[]): Promise<void> {
  if (!messageIds.length) return;
  const moved = await moveFromFailed(config.imap, messageIds).catch((err: Error) => {
    lines.push(`the copies in ${config.imap.failedFolder} could not be moved: ${err.message}`);
    return 0;
  });
  if (moved) lines.push(`moved ${moved} mail(s) from ${config.imap.failedFolder} to ${config.imap.processedFolder}`);
}

export const failedRetry = defineCommand({
  name: "failed retry",
  args: [{ name: "ID", variadic: true, optional: true }],
  summary: "process failed mails again (after a fix or a configuration change)",
  options: { all: { type: "boolean", help: "retry every failed mail" } },
  help: `Processes failed mails again, from the bytes kept when they failed (after a fix or a
configuration change); a mail that now succeeds is moved from Failed to Processed. IDs are the
receipt numbers of ticketpost failed list. Exit 1 when a retried mail failed again.`,
  async run(call) {
    const ids = call.args.map((x) => Number(x.replace(/^#/, "")));
    if (call.opts.all ? ids.length > 0 : ids.length === 0)
      usage("failed retry needs receipt IDs (from ticketpost failed list) or --all, not both");
    if (ids.some((n) => !Number.isInteger(n) || n <= 0))
      usage(`failed retry: IDs are receipt numbers such as 7 or #7; got ${call.args.join(" ")}`);
    const config = call.config();
    const ctx = await openGateway(config, call.logger());
    const lines: string[] = [];
    let stillFailed = 0;
    try {
      const retried = await retryFailedMails(ctx, call.opts.all ? "all" : ids);
      for (const id of ids)
        if (!retried.some((r) => r.receipt.id === id)) lines.push(`#${id}: no failed mail with this id (see ticketpost failed list)`);
      const recovered: string[] = [];
      for (const outcome of retried) {
        const { line, ok } = describeRetry(config, outcome);
        const r = outcome.receipt;
        lines.push(line);
        if (!ok) stillFailed++;
        else if (r.movedTo === config.imap.failedFolder && r.messageIdHeader) recovered.push(r.messageIdHeader);
      }
      await moveRecovered(config, recovered, lines);
      const sender = createSender(config, ctx);
      try {
        await sender.runOnce();
      } finally {
        await sender.stop();
      }
      if (retried.length === 0 && call.opts.all) lines.push("no failed mails");
      print(lines.join("\n") + "\n");
      return stillFailed ? 1 : 0;
    } finally {
      await closeDb(ctx.db);
    }
  },
});
