import "reflect-metadata";
import { parseArgs } from "node:util";
import { notifyOverdue } from "../tickets/workflow/overdue.js";
import { loadConfig } from "../config/load.js";
import type { TicketpostConfig } from "../config/schema.js";
import { openDatabase } from "../db/data-source.js";
import { TicketpostError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { listFailedMails, listTickets, showTicket } from "../tickets/queries.js";
import { closeDb, createSender, drainAllOnce, openGateway } from "./gateway.js";
import { runDaemon } from "./daemon.js";
import { runIngest } from "./ingest.js";
import { printInspection, runAddresses, runFailedRetry, runInspect } from "./hygiene-commands.js";
import { formatImportSummary, runImport, terminalProgress } from "./import.js";
import { runTicketAction, TICKET_ACTIONS } from "./ticket-actions.js";
import { gatherStatus, printChecks, printStatus, runChecks } from "./ops-commands.js";
import { liveInstancesOfOtherVersions } from "../ops/instance.js";
import { printFailed, printTicket, printTicketList } from "./print.js";
import { AUTH_HELP, authCommand } from "./commands/auth.js";

const HELP: Record<string, string> = {
  main: `ticketpost — email-driven ticket gateway

Usage: ticketpost <command> [options]

Commands:
  start            run the gateway: IMAP IDLE + scheduled polls + outbox sender (stop with SIGTERM/SIGINT)
  poll-once        process the mailbox and the outbox once, then exit (for cron and tests)
  migrate          create or upgrade the database schema
  ingest           read one mail from standard input (for a mail server's pipe alias)
  import PATH...   import mail from .eml files, Maildir folders and mbox files (migration, backlog)
  status           mailbox, database, outbox and last poll at a glance (--json)
  check            validate the configuration and try every connection
  auth [ACCOUNT]   one-time OAuth2 consent for a refresh-token account (Google, Microsoft delegated)
  backup FILE      copy the SQLite database online to FILE
  tickets list     list tickets (--status S --department D --assignee A --overdue --queue --json)
  tickets show ID  one ticket with its history (ID: 42, T-42 or [#T-42]; --json)
  tickets ACTION ID --as AGENT   take, ask, assign, note, priority, urgency, due, resolve, reopen
                   (the mail commands, from the terminal; see "ticketpost tickets --help")
  failed list      mails that could not be processed, with the reason (--json)
  failed retry ID|--all   process failed mails again (after a fix or a config change)
  inspect FILE|-   what the gateway would do with a mail, changing nothing (--json)
  addresses list|clear ADDRESS   addresses that bounced; lift a block

Options for every command:
  --config FILE    configuration file (default: $TICKETPOST_CONFIG, then ./config/ticketpost.json)
  --help           help for a command, e.g. "ticketpost tickets --help"
`,
  start: `ticketpost start [--config FILE]

Runs until SIGTERM or SIGINT: keeps an IMAP IDLE connection on the mailbox (new mail is handled at
once), polls on the schedule imap.schedule as well, and sends queued notifications. Runs never
overlap. On a signal it finishes the mail in hand, stops and exits 0.
`,
  "poll-once": `ticketpost poll-once [--config FILE] [--json]

Processes every mail in the mailbox, sends the queued notifications, prints a summary and exits.
Exit code 0 when everything was handled (mails that went to Failed count as handled), 1 when the
run stopped early (mailbox or database unreachable), 2 on a usage or configuration error.
`,
  migrate: `ticketpost migrate [--force] [--config FILE]

Applies pending database migrations (SQLite file or PostgreSQL database from the configuration).
Refuses while a gateway process of another version is running on the same database (stop it
first, or --force).
`,
  ingest: `ticketpost ingest [--send | --no-send] [--config FILE] < mail.eml

Reads one mail from standard input and processes it like a mail from the mailbox. For a mail
server's pipe alias, e.g. in /etc/aliases:  support: "|/usr/bin/ticketpost ingest --config /etc/ticketpost.json"
Exit codes (sysexits): 0 accepted, 65 rejected for good (reason on stderr), 75 try again later
(database unreachable). Notifications are sent at once unless a running daemon will send them.
`,
  import: `ticketpost import PATH... [--notify] [--json] [--config FILE]

Imports mail from files through the same pipeline as IMAP mail, in the order given:
  FILE.eml     one message (any file that does not start with an mbox "From " line)
  FOLDER       a Maildir (new/ and cur/ in delivery order, never tmp/; Maildir++ subfolders
               such as .Sent are not descended into: name one to import it), or a folder of .eml files
  FILE.mbox    an mbox file (first line "From "), read as a stream; mboxrd ">From " lines unquoted
Importing the same files again changes nothing: a mail is known by its bytes, wherever it lies;
the same Message-ID in other bytes is skipped as a duplicate.
No notifications are sent for imported mail (a backlog must not mail every old customer);
--notify queues them as for mail from the mailbox.
Prints a summary and one line per mail that failed (--json: the summary as JSON).
Exit code 0 when nothing failed, 1 when some mails failed or the import stopped early (run it
again to continue; imported mails are skipped), 2 on a usage or configuration error.
`,
  status: `ticketpost status [--json] [--config FILE]

Is the mailbox reachable, how many mails wait in it and in Failed, how deep is the outbox and how
old its oldest row, when did the last poll run, which migrations are applied. Exit 1 when the
mailbox or the database cannot be reached.
`,
  check: `ticketpost check [--config FILE]

Validates the configuration and the templates, logs in to IMAP (and looks at the folders), greets
and authenticates at SMTP, and opens the database. One line per check, with a fix for each failure.
Exit 0 when all pass, 1 otherwise.
`,
  backup: `ticketpost backup FILE [--config FILE]

Copies the SQLite database to FILE while the gateway keeps running (SQLite online backup). For
PostgreSQL use pg_dump. The stored mails and attachments are files under dataDir/blobs: copy
them with any file backup (they are never changed once written).
`,
  tickets: `ticketpost tickets list [filters] [--queue] [--json] [--config FILE]
ticketpost tickets show ID [--json] [--config FILE]

Filters: --status new|in_progress|waiting|resolved, --department ID, --assignee ADDRESS, --overdue.
--queue sorts by work order: urgency, then priority, then due date, then age (see the README).

Working a ticket from the terminal, as agent AGENT (the same code as the mail commands; the
requester and colleagues get the same mails; the confirmation is printed):
  ticketpost tickets take ID --as AGENT
  ticketpost tickets ask ID --as AGENT --text "Which model is it?"
  ticketpost tickets assign ID COLLEAGUE|DEPARTMENT --as AGENT [--text "handover note"]
  ticketpost tickets note ID --as AGENT --text "internal note"
  ticketpost tickets priority ID low|normal|high|critical --as AGENT
  ticketpost tickets urgency ID 1-5|change-request|minor|impaired|blocked|system-down --as AGENT
  ticketpost tickets due ID 2026-12-03 --as AGENT
  ticketpost tickets resolve ID --as AGENT [--text "resolution"]
  ticketpost tickets reopen ID --as AGENT
`,
  failed: `ticketpost failed list [--json] [--config FILE]
ticketpost failed retry ID... | --all [--config FILE]

list: the mails that went to the Failed folder, with the error code, the reason and what each
stage decided. retry: processes them again from the bytes kept when they failed (after a fix or
a configuration change); a mail that now succeeds is moved from Failed to Processed.
Exit 1 when a retried mail failed again.
`,
  inspect: `ticketpost inspect FILE.eml | - [--json] [--config FILE]

Shows what the gateway would do with a mail, changing nothing: the verdict (new-ticket, reply,
command, bounce, report, auto-reply, loop, duplicate, stranger, rejected) with every reason on
the trail, the parsed fields (title, requester, department, priority, urgency, due date,
commands, attachments) and, for a bounce, the failed recipients with status and reason.
`,
  auth: AUTH_HELP,
  addresses: `ticketpost addresses list [--json] [--config FILE]
ticketpost addresses clear ADDRESS [--config FILE]

Addresses whose mail bounced. A permanent failure blocks all mail to the address until the flag
is cleared; a temporary one is only recorded.
`,
};

function usage(message: string): never {
  throw new TicketpostError("EUSAGE", message);
}

function parseTicketId(arg: string | undefined, prefix: string): number {
  if (!arg) usage("tickets show needs a ticket ID");
  const m = new RegExp(`^(?:\\[#)?(?:${prefix}-)?(\\d+)(?:-[0-9a-z]{5})?\\]?$`, "i").exec(arg.trim());
  if (!m) usage(`"${arg}" is not a ticket ID (use 42, ${prefix}-42 or [#${prefix}-42])`);
  return Number(m[1]);
}

async function withDb<T>(config: TicketpostConfig, fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const db = await openDatabase(config.database);
  try {
    return await fn(db);
  } finally {
    await closeDb(db);
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: "string", short: "c" },
      help: { type: "boolean", short: "h" },
      json: { type: "boolean" },
      status: { type: "string" },
      department: { type: "string" },
      assignee: { type: "string" },
      overdue: { type: "boolean" },
      queue: { type: "boolean" },
      force: { type: "boolean" },
      as: { type: "string" },
      text: { type: "string" },
      send: { type: "boolean" },
      "no-send": { type: "boolean" },
      notify: { type: "boolean" },
      all: { type: "boolean" },
      browser: { type: "boolean" },
    },
  });
  const [command, sub, arg] = positionals;
  if (!command || command === "help") {
    process.stdout.write(HELP.main);
    return command ? 0 : values.help ? 0 : 2;
  }
  if (values.help) {
    process.stdout.write(HELP[command] ?? HELP.main);
    return 0;
  }
  if (!HELP[command] || command === "main") usage(`unknown command "${command}"; see ticketpost --help`);

  const config = loadConfig(values.config);
  // JSON lines for a log collector; readable lines when a person watches a terminal.
  const logger = createLogger(config.log.level, { service: "ticketpost" }, undefined, process.stderr.isTTY === true);

  switch (command) {
    case "migrate": {
      const probe = await openDatabase(config.database, { allowPending: true });
      try {
        const hasInstances = (await probe.query(`SELECT COUNT(*) AS n FROM ticketpost_migrations WHERE name = 'Instances1764345600000'`).catch(() => [{ n: 0 }]))[0];
        const others = Number(hasInstances?.n ?? 0) > 0 ? await liveInstancesOfOtherVersions(probe) : [];
        if (others.length && !values.force) {
          throw new TicketpostError("EUSAGE", `refusing to migrate: ${others.map((o) => `${o.id} (version ${o.version})`).join(", ")} is running on this database; stop it first (or --force)`);
        }
      } finally {
        await closeDb(probe);
      }
      const db = await openDatabase(config.database, { migrate: true });
      const applied = await db.query(`SELECT name FROM ticketpost_migrations ORDER BY id`);
      await closeDb(db);
      process.stdout.write(`database is up to date (${applied.length} migration(s): ${applied.map((r: { name: string }) => r.name).join(", ")})\n`);
      return 0;
    }
    case "tickets": {
      if (sub === "list") {
        const list = await withDb(config, (db) => listTickets(db, { prefix: config.referencePrefix }, { status: values.status, department: values.department, assignee: values.assignee, overdue: values.overdue, order: values.queue ? "work" : "id" }));
        process.stdout.write(values.json ? JSON.stringify(list, null, 2) + "\n" : printTicketList(list));
        return 0;
      }
      if (sub === "show") {
        const id = parseTicketId(arg, config.referencePrefix);
        const t = await withDb(config, (db) => showTicket(db, { prefix: config.referencePrefix }, id));
        if (!t) throw new TicketpostError("ENOTFOUND", `no ticket ${config.referencePrefix}-${id}`);
        process.stdout.write(values.json ? JSON.stringify(t, null, 2) + "\n" : printTicket(t));
        return 0;
      }
      if (sub && TICKET_ACTIONS[sub]) {
        return runTicketAction(config, logger, sub, parseTicketId(arg, config.referencePrefix), positionals[3], { as: values.as, text: values.text, send: values.send ? true : values["no-send"] ? false : null });
      }
      usage(`ticketpost tickets: expected "list", "show ID" or an action (${Object.keys(TICKET_ACTIONS).join(", ")})`);
    }
    // falls through: usage() never returns
    case "inspect": {
      if (!sub) usage("ticketpost inspect needs a FILE (or - for standard input)");
      const i = await runInspect(config, logger, sub);
      process.stdout.write(values.json ? JSON.stringify(i, null, 2) + "\n" : printInspection(i));
      return 0;
    }
    case "addresses":
      return runAddresses(config, logger, sub, arg, values.json === true);
    case "failed": {
      if (sub === "retry") {
        const ids = values.all ? ("all" as const) : positionals.slice(2).map((x) => Number(x.replace(/^#/, "")));
        if (ids !== "all" && (ids.length === 0 || ids.some((n) => !Number.isInteger(n)))) usage("ticketpost failed retry needs receipt IDs (from ticketpost failed list) or --all");
        const r = await runFailedRetry(config, logger, ids);
        process.stdout.write(r.lines.join("\n") + "\n");
        return r.stillFailed ? 1 : 0;
      }
      if (sub !== "list") usage(`ticketpost failed: expected "list" or "retry"`);
      const list = await withDb(config, (db) => listFailedMails(db));
      process.stdout.write(values.json ? JSON.stringify(list, null, 2) + "\n" : printFailed(list));
      return 0;
    }
    case "poll-once": {
      const ctx = await openGateway(config, logger);
      const sender = createSender(config, ctx);
      try {
        const summary = await drainAllOnce(config, ctx);
        const overdue = await notifyOverdue(ctx.db, ctx, config.overdue.repeatHours);
        const sent = await sender.runOnce();
        const result = { mails: summary.processed + summary.failed, byOutcome: summary.byOutcome, failed: summary.failed, overdueNotices: overdue, outbox: sent, stoppedBy: summary.stoppedBy ? { code: summary.stoppedBy.code, message: summary.stoppedBy.message } : null };
        process.stdout.write(values.json ? JSON.stringify(result) + "\n"
          : `poll-once: ${result.mails} mail(s) ${JSON.stringify(summary.byOutcome)}, ${summary.failed} to Failed; outbox: ${sent.sent} sent, ${sent.deferred} deferred, ${sent.failed} failed\n`);
        return summary.stoppedBy ? 1 : 0;
      } finally {
        await sender.stop();
        await closeDb(ctx.db);
      }
    }
    case "start":
      return runDaemon(config, logger);
    case "auth":
      return authCommand(config, sub, { browser: values.browser });
    case "import": {
      const paths = positionals.slice(1);
      if (paths.length === 0) usage("ticketpost import: name at least one .eml file, Maildir folder or mbox file");
      const ctx = await openGateway(config, logger);
      ctx.quiet = !values.notify;
      const progress = values.json ? undefined : terminalProgress(process.stderr);
      try {
        const summary = await runImport(ctx, paths, { progress });
        progress?.finish();
        process.stdout.write(values.json ? JSON.stringify(summary) + "\n" : formatImportSummary(summary));
        return summary.failed.length > 0 || summary.stoppedBy ? 1 : 0;
      } finally {
        progress?.finish();
        await closeDb(ctx.db);
      }
    }
    case "ingest":
      return runIngest(config, logger, { send: values.send ? true : values["no-send"] ? false : null });
    case "status": {
      const s = await gatherStatus(config);
      process.stdout.write(values.json ? JSON.stringify(s, null, 2) + "\n" : printStatus(s));
      return s.ok ? 0 : 1;
    }
    case "check": {
      const lines = await runChecks(config);
      process.stdout.write(printChecks(lines));
      return lines.every((l) => l.ok) ? 0 : 1;
    }
    case "backup": {
      if (!sub) usage("ticketpost backup needs a target FILE");
      if (config.database.url) usage("backup copies the SQLite database; for PostgreSQL use pg_dump");
      const db = await openDatabase(config.database, { allowPending: true });
      try {
        const conn = (db.driver as unknown as { databaseConnection: { backup(file: string): Promise<{ totalPages: number }> } }).databaseConnection;
        const r = await conn.backup(sub);
        process.stdout.write(`backed up ${config.database.sqlitePath} to ${sub} (${r.totalPages} pages)\n`);
      } finally {
        await closeDb(db);
      }
      return 0;
    }
  }
  usage(`unknown command "${command}"`);
}

