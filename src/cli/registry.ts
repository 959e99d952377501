import type { Command } from "./command.js";
import { addressesClear } from "./commands/addresses-clear.js";
import { addressesList } from "./commands/addresses-list.js";
import { auth } from "./commands/auth.js";
import { backup } from "./commands/backup.js";
import { check } from "./commands/check.js";
import { failedList } from "./commands/failed-list.js";
import { failedRetry } from "./commands/failed-retry.js";
import { importMail } from "./commands/import.js";
import { ingest } from "./commands/ingest.js";
import { inspect } from "./commands/inspect.js";
import { migrate } from "./commands/migrate.js";
import { pollOnce } from "./commands/poll-once.js";
import { start } from "./commands/start.js";
import { status } from "./commands/status.js";
import { loadValueParsers, ticketActions } from "./commands/tickets-action.js";
import { ticketsList } from "./commands/tickets-list.js";
import { ticketsShow } from "./commands/tickets-show.js";

/**
 * Every command of `ticketpost`, in the order `ticketpost --help` lists them. A command is one
 * file under commands/ that declares its arguments, options and help; adding one is adding it here.
 * A command file imports its implementation inside `run` (`await import(...)`), so that a command
 * loads only what it uses: `--help` and `import` never load the IMAP, SMTP or OAuth2 libraries.
 */
export const COMMANDS: readonly Command[] = [
  start,
  pollOnce,
  migrate,
  ingest,
  importMail,
  status,
  check,
  auth,
  backup,
  ticketsList,
  ticketsShow,
  ...ticketActions,
  failedList,
  failedRetry,
  inspect,
  addressesList,
  addressesClear,
];

/** Loads what the argument checks of command `c` need before the dispatcher runs them. */
export async function prepareChecks(c: Command): Promise<void> {
  if (ticketActions.includes(c)) await loadValueParsers();
}
