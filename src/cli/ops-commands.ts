import nodemailer from "nodemailer";
import type { DataSource } from "typeorm";
import type { TicketpostConfig } from "../config/schema.js";
import { GatewayInstance, MailReceipt, OutboxMail } from "../db/entities.js";
import { openDatabase } from "../db/data-source.js";
import { probeMailbox } from "../mailbox/imap-mailbox.js";
import { NOTIFICATION_EVENTS } from "../notify/events/index.js";
import { TemplateSet } from "../notify/templates.js";
import { ALIVE_MS } from "../ops/instance.js";
import { asTicketpostError } from "../shared/errors.js";
import { directoryOf } from "./gateway.js";

/** `ticketpost status`: is everything reachable, and how much work is waiting. */
export async function gatherStatus(config: TicketpostConfig) {
  const now = Date.now();
  const mailbox = await probeMailbox(config.imap, [config.imap.mailbox, config.imap.processedFolder, config.imap.failedFolder]);
  let database: Record<string, unknown>;
  let db: DataSource | null = null;
  try {
    db = await openDatabase(config.database, { migrate: false, allowPending: true });
    const applied: Array<{ name: string }> = await db.query(`SELECT name FROM ticketpost_migrations ORDER BY id`);
    const pending = await db.showMigrations();
    const outbox = db.getRepository(OutboxMail);
    const oldest = await outbox.findOne({ where: { status: "pending" }, order: { createdAt: "ASC" } });
    const instances = await db.getRepository(GatewayInstance).find({ order: { heartbeatAt: "DESC" } });
    const lastPoll = instances.map((i) => i.lastPollAt).filter((d): d is Date => !!d).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
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
      instances: instances.map((i) => ({ id: i.id, version: i.version, alive: !i.stoppedAt && now - i.heartbeatAt.getTime() < ALIVE_MS, lastPollAt: i.lastPollAt?.toISOString() ?? null, lastPollError: i.lastPollError, idleConnected: i.idleConnected })),
    };
  } catch (err) {
    const e = asTicketpostError(err, "EDB");
    database = { ok: false, code: e.code, error: e.message };
  } finally {
    if (db?.isInitialized) await db.destroy();
  }
  return {
    ok: mailbox.ok && database.ok === true,
    mailbox: { ok: mailbox.ok, host: `${config.imap.host}:${config.imap.port}`, user: config.imap.user, code: mailbox.code, error: mailbox.error, waiting: mailbox.folders[config.imap.mailbox] ?? null, inFailed: mailbox.folders[config.imap.failedFolder] ?? null, inProcessed: mailbox.folders[config.imap.processedFolder] ?? null },
    database,
  };
}

export function printStatus(s: Awaited<ReturnType<typeof gatherStatus>>): string {
  const m = s.mailbox;
  const d = s.database as Record<string, any>;
  const lines = [
    m.ok ? `mailbox   ok    ${m.user} at ${m.host}: ${m.waiting ?? "?"} waiting, ${m.inFailed ?? 0} in Failed, ${m.inProcessed ?? 0} in Processed` : `mailbox   FAIL  ${m.code}: ${m.error}`,
  ];
  if (d.ok) {
    lines.push(`database  ok    ${d.engine}; migrations applied: ${d.migrationsApplied.length}${d.migrationsPending ? " (PENDING: run ticketpost migrate)" : ""}`);
    lines.push(`outbox          ${d.outbox.pending} queued${d.outbox.oldestPendingAgeSeconds !== null ? `, oldest ${d.outbox.oldestPendingAgeSeconds} s` : ""}, ${d.outbox.failed} failed for good`);
    lines.push(`failed mails    ${d.failedMails} (ticketpost failed list)`);
    lines.push(`last poll       ${d.lastPollAt ?? "never"}`);
    for (const i of d.instances) lines.push(`instance        ${i.id} v${i.version} ${i.alive ? "alive" : "stopped"}${i.idleConnected ? ", IDLE connected" : ""}${i.lastPollError ? `, last error: ${i.lastPollError}` : ""}`);
  } else {
    lines.push(`database  FAIL  ${d.code}: ${d.error}`);
  }
  return lines.join("\n") + "\n";
}

export interface CheckLine {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** `ticketpost check`: the configuration is valid (it loaded) and every connection works. */
export async function runChecks(config: TicketpostConfig): Promise<CheckLine[]> {
  const out: CheckLine[] = [{ name: "config", ok: true, detail: "valid" }];
  try {
    const templates = new TemplateSet(config.templatesDir, config.language);
    const langs = directoryOf(config).languagesInUse();
    const missing = NOTIFICATION_EVENTS.flatMap((e) => langs.filter((l) => !templates.has(e.name, l)).map((l) => `${e.name}.${l}.hbs`));
    out.push(missing.length ? { name: "templates", ok: false, detail: `missing: ${missing.join(", ")}`, fix: `add them to ${config.templatesDir}` } : { name: "templates", ok: true, detail: `${templates.list().length} templates for ${langs.join(", ")}` });
  } catch (err) {
    out.push({ name: "templates", ok: false, detail: (err as Error).message, fix: "fix the template named above" });
  }

  const folders = [config.imap.mailbox, config.imap.processedFolder, config.imap.failedFolder];
  const probe = await probeMailbox(config.imap, folders);
  if (!probe.ok) {
    const fix = probe.code === "EIMAP_AUTH" ? "check imap.user and the password (TICKETPOST_IMAP_PASSWORD)" : probe.code === "EIMAP_CONNECT" ? "check imap.host, imap.port and imap.secure, and that the server is running" : "see the server's answer above";
    out.push({ name: "imap", ok: false, detail: `${probe.code}: ${probe.error}`, fix });
  } else {
    out.push({ name: "imap", ok: probe.folders[config.imap.mailbox] !== null, detail: `logged in as ${config.imap.user} at ${config.imap.host}:${config.imap.port}; ${folders.map((f) => `${f}: ${probe.folders[f] ?? "missing"}`).join(", ")}`, fix: probe.folders[config.imap.mailbox] === null ? `create the folder ${config.imap.mailbox} or change imap.mailbox` : undefined });
  }

  const transport = nodemailer.createTransport({ host: config.smtp.host, port: config.smtp.port, secure: config.smtp.secure, auth: config.smtp.user ? { user: config.smtp.user, pass: config.smtp.password ?? "" } : undefined, tls: { rejectUnauthorized: config.smtp.tls.rejectUnauthorized }, connectionTimeout: 10_000, greetingTimeout: 10_000 });
  try {
    await transport.verify();
    out.push({ name: "smtp", ok: true, detail: `greeting${config.smtp.user ? " and authentication" : ""} ok at ${config.smtp.host}:${config.smtp.port}` });
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message: string };
    const fix = e.code === "EAUTH" ? "check smtp.user and the password (TICKETPOST_SMTP_PASSWORD)" : "check smtp.host, smtp.port and smtp.secure, and that the server is running";
    out.push({ name: "smtp", ok: false, detail: `${e.code ?? e.responseCode ?? "error"}: ${e.message}`, fix });
  } finally {
    transport.close();
  }

  try {
    const db = await openDatabase(config.database, { allowPending: true });
    const pending = await db.showMigrations();
    await db.destroy();
    out.push(pending ? { name: "database", ok: false, detail: "reachable; migrations are pending", fix: "run ticketpost migrate" } : { name: "database", ok: true, detail: `${config.database.url ? "PostgreSQL" : config.database.sqlitePath} reachable, schema up to date` });
  } catch (err) {
    out.push({ name: "database", ok: false, detail: (err as Error).message, fix: config.database.url ? "check database.url (TICKETPOST_DATABASE_URL) and that PostgreSQL is running" : "check that dataDir is writable" });
  }
  return out;
}

export function printChecks(lines: CheckLine[]): string {
  return lines.map((l) => `${l.ok ? "ok  " : "FAIL"}  ${l.name.padEnd(9)} ${l.detail}${l.fix ? `\n                → fix: ${l.fix}` : ""}`).join("\n") + "\n";
}
