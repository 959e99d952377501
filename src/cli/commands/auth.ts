import type { TicketpostConfig } from "../../config/schema.js";
import { openDatabase } from "../../db/data-source.js";
import { runConsent, stdinLines } from "../../auth/consent.js";
import { databaseGrantStore } from "../../auth/token-store.js";

export const AUTH_HELP = `ticketpost auth [ACCOUNT] [--browser] [--config FILE]

The one-time consent of an OAuth2 account with the refresh-token grant (Google; Microsoft 365
delegated access). Sign in as the mailbox user: with Microsoft, open the printed address anywhere
and type the code (device code); with Google (or --browser), open the printed address, and if the
browser runs on another machine, paste the address its last page shows. The refresh token is
stored in the database; running gateways take it at their next token refresh.
ACCOUNT: imap, smtp, a mailbox id, or ID-smtp for a mailbox's own SMTP account (default: the first).
`;

/** `ticketpost auth`: consent, stored in the database. Exit 0 when stored. */
export async function authCommand(config: TicketpostConfig, account: string | undefined, opts: { browser?: boolean }): Promise<number> {
  const db = await openDatabase(config.database);
  try {
    const line = await runConsent(config, account, databaseGrantStore(db), { say: (l) => process.stderr.write(l + "\n"), lines: stdinLines() }, opts);
    process.stdout.write(line + "\n");
    return 0;
  } finally {
    await db.destroy();
    process.stdin.destroy();
  }
}
