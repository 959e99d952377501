import { defineCommand } from "../command.js";

export const start = defineCommand({
  name: "start",
  summary: "run the gateway: IMAP IDLE, scheduled polls and the outbox sender, until SIGTERM/SIGINT",
  help: `Runs until SIGTERM or SIGINT: keeps an IMAP IDLE connection on the mailbox (new mail is handled at
once), polls on the schedule imap.schedule as well, and sends queued notifications. Runs never
overlap. On a signal it finishes the mail in hand, stops and exits 0.`,
  async run(call) {
    const { runDaemon } = await import("../daemon.js");
    return runDaemon(call.config(), call.logger());
  },
});
