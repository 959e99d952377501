import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";

export const pollOnce = defineCommand({
  name: "poll-once",
  summary: "process the mailbox and the outbox once, then exit (for cron and tests)",
  options: JSON_OPTION,
  help: `Processes every mail in every configured mailbox, sends overdue notices and the queued notifications, prints a
summary and exits. Exit code 0 when everything was handled (mails that went to Failed count as
handled), 1 when the run stopped early (mailbox or database unreachable), 2 on a usage or
configuration error.`,
  async run(call) {
    const { notifyOverdue } = await import("../../tickets/workflow/overdue.js");
    const { closeDb, createSender, drainAllOnce, openGateway } = await import("../gateway.js");
    const config = call.config();
    const ctx = await openGateway(config, call.logger());
    const sender = createSender(config, ctx);
    try {
      const summary = await drainAllOnce(config, ctx);
      const overdue = await notifyOverdue(ctx.db, ctx, config.overdue.repeatHours);
      const sent = await sender.runOnce();
      const stoppedBy = summary.stoppedBy ? { code: summary.stoppedBy.code, message: summary.stoppedBy.message } : null;
      const result = {
        mails: summary.processed + summary.failed,
        byOutcome: summary.byOutcome,
        failed: summary.failed,
        overdueNotices: overdue,
        outbox: sent,
        stoppedBy,
      };
      if (call.opts.json) printJson(result, false);
      else
        print(
          `poll-once: ${result.mails} mail(s) ${JSON.stringify(summary.byOutcome)}, ${summary.failed} to Failed; outbox: ${sent.sent} sent, ${sent.deferred} deferred, ${sent.failed} failed\n`,
        );
      return stoppedBy ? 1 : 0;
    } finally {
      await sender.stop();
      await ctx.reader?.close();
      await closeDb(ctx.db);
    }
  },
});
