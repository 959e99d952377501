import type { DataSource } from "typeorm";
import type { TicketpostConfig } from "../config/schema.js";
import { GatewayInstance, MailReceipt, OutboxMail } from "../db/entities.js";
import { openDatabase } from "../db/data-source.js";
import { probeMailbox, type MailboxProbe } from "../mailbox/imap-mailbox.js";
import { AccountLogins } from "../auth/logins.js";
import { checkAccounts, type CheckLine } from "../auth/account-checks.js";
import { databaseGrantStore } from "../auth/token-store.js";
import type { MailboxConfig } from "../config/schema.js";
import { NOTIFICATION_EVENTS } from "../notify/events/index.js";
import { TemplateSet } from "../notify/templates.js";
import { ALIVE_MS } from "../ops/instance.js";
import { asTicketpostError } from "../shared/errors.js";
import { directoryOf } from "./gateway.js";

/** What `status` says about the database: its figures when it answered, else the error code and message. */
export type DatabaseStatus =
  | {
      ok: true;
      engine: "postgres" | "sqlite";
      migrationsApplied: string[];
      migrationsPending: boolean;
      outbox: { pending: number; failed: number; oldestPendingAgeSeconds: number | null };
      failedMails: number;
      lastPollAt: string | null;
      instances: Array<{
        id: string;
        version: string;
        alive: boolean;
        mailboxes: string[];
        lastPollAt: string | null;
        lastPollError: string | null;
        idleConnected: boolean;
      }>;
    }
  | { ok: false; code: string; error: string };

/** `ticketpost status`: is everything reachable, and how much work is waiting. */
export async function gatherStatus(config: TicketpostConfig) {
  const now = Date.now();
  let database: DatabaseStatus;
  let db: DataSource | null = null;
  const mailboxes: Array<ReturnType<typeof mailboxStatus>> = [];
  try {
    db = await openDatabase(config.database, { migrate: false, allowPending: true });
    // The stored (rotated) refresh tokens are what the daemon uses; status must use the same.
    const logins = new AccountLogins(databaseGrantStore(db));
    for (const m of config.mailboxes)
      mailboxes.push(mailboxStatus(m, await probeMailbox(m, [m.mailbox, m.processedFolder, m.failedFolder], logins)));
    const applied: Array<{ name: string }> = await db.query(`SELECT name FROM ticketpost_migrations ORDER BY id`);
    const pending = await db.showMigrations();
    const outbox = db.getRepository(OutboxMail);
    const oldest = await outbox.findOne({ where: { status: "pending" }, order: { createdAt: "ASC" } });
    const instances = await db.getRepository(GatewayInstance).find({ order: { heartbeatAt: "DESC" } });
    const lastPoll =
      instances
        .map((i) => i.lastPollAt)
        .filter((d): d is Date => !!d)
        .sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    database = {
      ok: true,
      engine: config.database.url ? "postgres" : "sqlite",
      migrationsApplied: applied.map((r) => r.name),
      migrationsPending: pending,
      outbox: {
        pending: await outbox.count({ where: { status: "pending" } }),
        failed: await outbox.count({ where: { status: "failed" } }),
        oldestPendingAgeSeconds: oldest ? Math.round((now - oldest.createdAt.getTime()) / 1000) : null,
      },
      failedMails: await db.getRepository(MailReceipt).count({ where: { outcome: "failed" } }),
      lastPollAt: lastPoll?.toISOString() ?? null,
      instances: instances.map((i) => ({
        id: i.id,
        version: i.version,
        alive: !i.stoppedAt && now - i.heartbeatAt.getTime() < ALIVE_MS,
        mailboxes: i.mailboxes ? (JSON.parse(i.mailboxes) as string[]) : [],
        lastPollAt: i.lastPollAt?.toISOString() ?? null,
        lastPollError: i.lastPollError,
        idleConnected: i.idleConnected,
      })),
    };
  } catch (err) {
    const e = asTicketpostError(err, "EDB");
    database = { ok: false, code: e.code, error: e.message };
  } finally {
    if (db?.isInitialized) await db.destroy();
  }
  // Without a database there is no stored token: still show what the mail server says.
  if (mailboxes.length === 0)
    for (const m of config.mailboxes)
      mailboxes.push(mailboxStatus(m, await probeMailbox(m, [m.mailbox, m.processedFolder, m.failedFolder])));
  return {
    ok: mailboxes.every((m) => m.ok) && database.ok === true,
    mailbox: mailboxes[0],
    mailboxes,
    database,
  };
}

function mailboxStatus(m: MailboxConfig, probe: MailboxProbe) {
  return {
    id: m.id,
    address: m.address,
    ok: probe.ok,
    host: `${m.host}:${m.port}`,
    user: m.user,
    login: m.oauth2 ? `oauth2 ${m.oauth2.grant}` : "password",
    code: probe.code,
    error: probe.error,
    waiting: probe.folders[m.mailbox] ?? null,
    inFailed: probe.folders[m.failedFolder] ?? null,
    inProcessed: probe.folders[m.processedFolder] ?? null,
  };
}

export function printStatus(s: Awaited<ReturnType<typeof gatherStatus>>): string {
  const d = s.database;
  const name = (m: (typeof s.mailboxes)[number]) => (s.mailboxes.length > 1 ? `${m.id} ` : "");
  const lines = s.mailboxes.map((m) =>
    m.ok
      ? `mailbox   ok    ${name(m)}${m.user} at ${m.host}: ${m.waiting ?? "?"} waiting, ${m.inFailed ?? 0} in Failed, ${m.inProcessed ?? 0} in Processed`
      : `mailbox   FAIL  ${name(m)}${m.code}: ${m.error}`,
  );
  if (d.ok) {
    lines.push(
      `database  ok    ${d.engine}; migrations applied: ${d.migrationsApplied.length}${d.migrationsPending ? " (PENDING: run ticketpost migrate)" : ""}`,
    );
    lines.push(
      `outbox          ${d.outbox.pending} queued${d.outbox.oldestPendingAgeSeconds !== null ? `, oldest ${d.outbox.oldestPendingAgeSeconds} s` : ""}, ${d.outbox.failed} failed for good`,
    );
    lines.push(`failed mails    ${d.failedMails} (ticketpost failed list)`);
    lines.push(`last poll       ${d.lastPollAt ?? "never"}`);
    for (const i of d.instances)
      lines.push(
        `instance        ${i.id} v${i.version} ${i.alive ? "alive" : "stopped"}${i.alive && i.mailboxes.length ? `, drains ${i.mailboxes.join(", ")}` : ""}${i.idleConnected ? ", IDLE connected" : ""}${i.lastPollError ? `, last error: ${i.lastPollError}` : ""}`,
      );
  } else {
    lines.push(`database  FAIL  ${d.code}: ${d.error}`);
  }
  return lines.join("\n") + "\n";
}

export type { CheckLine };

/** `ticketpost check`: the configuration is valid (it loaded) and every connection works. */
export async function runChecks(config: TicketpostConfig): Promise<CheckLine[]> {
  const out: CheckLine[] = [{ name: "config", ok: true, detail: "valid" }];
  try {
    const templates = new TemplateSet(config.templatesDir, config.language);
    const langs = directoryOf(config).languagesInUse();
    const missing = NOTIFICATION_EVENTS.flatMap((e) => langs.filter((l) => !templates.has(e.name, l)).map((l) => `${e.name}.${l}.hbs`));
    out.push(
      missing.length
        ? { name: "templates", ok: false, detail: `missing: ${missing.join(", ")}`, fix: `add them to ${config.templatesDir}` }
        : { name: "templates", ok: true, detail: `${templates.list().length} templates for ${langs.join(", ")}` },
    );
  } catch (err) {
    out.push({ name: "templates", ok: false, detail: (err as Error).message, fix: "fix the template named above" });
  }

  // The database first: a rotated refresh token is stored there, and the check must use it.
  const db: DataSource | null = await openDatabase(config.database, { allowPending: true }).catch(() => null);
  try {
    out.push(...(await checkAccounts(config, new AccountLogins(db ? databaseGrantStore(db) : undefined))));
  } finally {
    if (db?.isInitialized) await db.destroy();
  }

  try {
    const db = await openDatabase(config.database, { allowPending: true });
    const pending = await db.showMigrations();
    await db.destroy();
    out.push(
      pending
        ? { name: "database", ok: false, detail: "reachable; migrations are pending", fix: "run ticketpost migrate" }
        : {
            name: "database",
            ok: true,
            detail: `${config.database.url ? "PostgreSQL" : config.database.sqlitePath} reachable, schema up to date`,
          },
    );
  } catch (err) {
    out.push({
      name: "database",
      ok: false,
      detail: (err as Error).message,
      fix: config.database.url
        ? "check database.url (TICKETPOST_DATABASE_URL) and that PostgreSQL is running"
        : "check that dataDir is writable",
    });
  }
  return out;
}

export function printChecks(lines: CheckLine[]): string {
  return (
    lines
      .map(
        (l) =>
          `${l.ok ? "ok  " : "FAIL"}  ${l.name.padEnd(Math.max(9, ...lines.map((x) => x.name.length)))} ${l.detail}${l.fix ? `\n                → fix: ${l.fix}` : ""}`,
      )
      .join("\n") + "\n"
  );
}
