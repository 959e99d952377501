import "reflect-metadata";
import { parseArgs } from "node:util";
import { notifyOverdue } from "../tickets/workflow/overdue.js";
import { loadConfig } from "../config/load.js";
import type { TicketpostConfig } from "../config/schema.js";
import { openDatabase } from "../db/data-source.js";
import { drainMailbox } from "../mailbox/drain.js";
import { ImapMailbox } from "../mailbox/imap-mailbox.js";
import { asTicketpostError, TicketpostError } from "../shared/errors.js";
import { createLogger } from "../shared/logger.js";
import { listFailedMails, listTickets, showTicket } from "../tickets/queries.js";
import { closeDb, createSender, drainDeps, openGateway } from "./gateway.js";
import { runDaemon } from "./daemon.js";
import { runIngest } from "./ingest.js";
import { gatherStatus, printChecks, printStatus, runChecks } from "./ops-commands.js";
import { liveInstancesOfOtherVersions } from "../ops/instance.js";
import { printFailed, printTicket, printTicketList } from "./print.js";

const HELP: Record<string, string> = {
  main: `ticketpost — email-driven ticket gateway

Usage: ticketpost <command> [options]

Commands:
  start            run the gateway: IMAP IDLE + scheduled polls + outbox sender (stop with SIGTERM/SIGINT)
  poll-once        process the mailbox and the outbox once, then exit (for cron and tests)
  migrate          create or upgrade the database schema
  ingest           read one mail from standard input (for a mail server's pipe alias)
  status           mailbox, database, outbox and last poll at a glance (--json)
  check            validate the configuration and try every connection
  backup FILE      copy the SQLite database online to FILE
  tickets list     list tickets (--status S --department D --assignee A --overdue --queue --json)
  tickets show ID  one ticket with its history (ID: 42, T-42 or [#T-42]; --json)
  failed list      mails that could not be processed, with the reason (--json)

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
`,
  failed: `ticketpost failed list [--json] [--config FILE]

Lists the mails that went to the Failed folder, with the error code, the reason and what each
stage decided.
`,
};

function usage(message: string): never {
  throw new TicketpostError("EUSAGE", message);
}

function parseTicketId(arg: string | undefined, prefix: string): number {
  if (!arg) usage("tickets show needs a ticket ID");
  const m = new RegExp(`^(?:\\[#)?(?:${prefix}-)?(\\d+)\\]?$`, "i").exec(arg.trim());
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
      send: { type: "boolean" },
      "no-send": { type: "boolean" },
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
      usage(`ticketpost tickets: expected "list" or "show ID"`);
    }
    // falls through: usage() never returns
    case "failed": {
      if (sub !== "list") usage(`ticketpost failed: expected "list"`);
      const list = await withDb(config, (db) => listFailedMails(db));
      process.stdout.write(values.json ? JSON.stringify(list, null, 2) + "\n" : printFailed(list));
      return 0;
    }
    case "poll-once": {
      const ctx = await openGateway(config, logger);
      const sender = createSender(config, ctx);
      try {
        const mb = await ImapMailbox.open({ ...config.imap, idle: false }, logger);
        let summary;
        try {
          summary = await drainMailbox(mb, config.imap, drainDeps(ctx));
        } finally {
          await mb.close();
        }
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

