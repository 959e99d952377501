import { defineCommand, print } from "../command.js";

/** `ticketpost auth`: the one-time OAuth2 consent of a refresh-token account, stored in the database. */
export const auth = defineCommand({
  name: "auth",
  args: [{ name: "ACCOUNT", optional: true }],
  summary: "one-time OAuth2 consent for a refresh-token account (Google, Microsoft delegated)",
  options: { browser: { type: "boolean", help: "sign in through a browser address instead of a device code" } },
  help: `The one-time consent of an OAuth2 account with the refresh-token grant (Google; Microsoft 365
delegated access). Sign in as the mailbox user: with Microsoft, open the printed address anywhere
and type the code (device code); with Google (or --browser), open the printed address, and if the
browser runs on another machine, paste the address its last page shows. The refresh token is
stored in the database; running gateways take it at their next token refresh.
ACCOUNT: imap, smtp, a mailbox id, or ID-smtp for a mailbox's own SMTP account (default: the first).
Exit 0 when the consent was stored.`,
  async run(call) {
    const { openDatabase } = await import("../../db/data-source.js");
    const { runConsent, stdinLines } = await import("../../auth/consent.js");
    const { databaseGrantStore } = await import("../../auth/token-store.js");
    const { closeDb } = await import("../gateway.js");
    const config = call.config();
    const db = await openDatabase(config.database);
    try {
      const line = await runConsent(
        config,
        call.args[0],
        databaseGrantStore(db),
        { say: (l) => process.stderr.write(l + "\n"), lines: stdinLines() },
        { browser: call.opts.browser === true },
      );
      print(line + "\n");
      return 0;
    } finally {
      await closeDb(db);
      process.stdin.destroy();
    }
  },
});
