import type { MailboxConfig, TicketpostConfig } from "../../config/schema.js";
import type { moveFromFailed } from "../../mailbox/imap-mailbox.js";
import type { RetryOutcome } from "../../tickets/retry.js";
import { defineCommand, print, usage } from "../command.js";

/** One line per retried mail, and whether it worked now. */
function describeRetry(config: TicketpostConfig, { receipt: r, result }: RetryOutcome): { line: string; ok: boolean } {
  if (!result) return { line: `#${r.id}: its bytes were not kept; cannot retry`, ok: false };
  const ticket = result.ticketId ? ` (ticket ${config.referencePrefix}-${result.ticketId})` : "";
  const why = result.outcome === "failed" ? `: ${result.errorCode} ${result.reason}` : "";
  return { line: `#${r.id}: ${result.outcome}${ticket}${why} [now #${result.receiptId}]`, ok: result.outcome !== "failed" };
}

/**
 * The copies in the Failed folder of mails that now worked go to Processed, per mailbox: each has
 * its own folders and login (a stored OAuth2 grant among them).
 */
async function moveRecovered(
  recovered: Map<MailboxConfig, string[]>,
  logins: Parameters<typeof moveFromFailed>[2],
  lines: string[],
): Promise<void> {
  if (recovered.size === 0) return;
  const { moveFromFailed: move } = await import("../../mailbox/imap-mailbox.js");
  for (const [m, messageIds] of recovered) {
    const moved = await move(m, messageIds, logins).catch((err: Error) => {
      lines.push(`the copies in ${m.failedFolder} could not be moved: ${err.message}`);
      return 0;
    });
    if (moved) lines.push(`moved ${moved} mail(s) from ${m.failedFolder} to ${m.processedFolder}`);
  }
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
    const { retryFailedMails } = await import("../../tickets/retry.js");
    const { closeDb, createSender, openGateway } = await import("../gateway.js");
    const ctx = await openGateway(config, call.logger());
    const lines: string[] = [];
    let stillFailed = 0;
    try {
      const retried = await retryFailedMails(ctx, call.opts.all ? "all" : ids);
      for (const id of ids)
        if (!retried.some((r) => r.receipt.id === id)) lines.push(`#${id}: no failed mail with this id (see ticketpost failed list)`);
      const recovered = new Map<MailboxConfig, string[]>();
      for (const outcome of retried) {
        const { line, ok } = describeRetry(config, outcome);
        const r = outcome.receipt;
        lines.push(line);
        if (!ok) stillFailed++;
        else {
          const m = config.mailboxes.find((x) => x.id === r.mailbox) ?? config.imap;
          if (r.movedTo === m.failedFolder && r.messageIdHeader) recovered.set(m, [...(recovered.get(m) ?? []), r.messageIdHeader]);
        }
      }
      await moveRecovered(recovered, ctx.logins, lines);
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
