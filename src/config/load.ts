import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import cron from "node-cron";
import { TicketpostError } from "../shared/errors.js";
import { parseDepartments } from "./departments.js";
import { parseMailboxes, parseSmtp } from "./accounts.js";
import { address, fail, Reader, type Json } from "./reader.js";
import type { TicketpostConfig } from "./schema.js";

/** The only module that reads process.env: everything else gets a validated config object. */
export const ENV = {
  config: "TICKETPOST_CONFIG",
  /** The single imap block; a mailbox of `mailboxes` with id ID reads TICKETPOST_MAILBOX_ID_PASSWORD. */
  imapPassword: "TICKETPOST_IMAP_PASSWORD",
  smtpPassword: "TICKETPOST_SMTP_PASSWORD",
  databaseUrl: "TICKETPOST_DATABASE_URL",
  logLevel: "TICKETPOST_LOG_LEVEL",
  referenceSecret: "TICKETPOST_REFERENCE_SECRET",
} as const;

const AGENT_AUTH_MODES = ["authentication-results", "dkim", "trust-from", "exchange-online", "google-workspace"];

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const DEFAULT_TEMPLATES_DIR = path.join(PROJECT_ROOT, "templates");

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Relative paths in the file are resolved against this folder (default: the working directory). */
  baseDir?: string;
}

/** Validates a parsed config object; a bad value stops with one line naming the key. */
export function parseConfig(input: unknown, options: LoadOptions = {}): TicketpostConfig {
  const env = options.env ?? {};
  const baseDir = options.baseDir ?? process.cwd();
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TicketpostError("ECONFIG", "config: the file must hold one JSON object");
  }
  const root = new Reader(input as Json, "");
  root.unknownKeys([
    "name",
    "supportAddress",
    "messageIdDomain",
    "referencePrefix",
    "language",
    "dataDir",
    "database",
    "imap",
    "mailboxes",
    "smtp",
    "outbox",
    "templatesDir",
    "maxMessageBytes",
    "log",
    "departments",
    "defaultDepartment",
    "agents",
    "languages",
    "reopenDays",
    "overdue",
    "digest",
    "http",
    "referenceSecret",
    "agentAuth",
    "strangerPolicy",
    "autoReplyLimit",
    "limits",
    "instances",
    "notify",
  ]);
  const supportAddress = address(root, "supportAddress");
  const dataDir = path.resolve(baseDir, root.string("dataDir", "./data"));

  const db = root.section("database");
  db.unknownKeys(["url", "sqlitePath", "logging"]);
  const dbUrl = env[ENV.databaseUrl] || db.optionalString("url");
  if (dbUrl && !/^postgres(ql)?:\/\//.test(dbUrl)) fail("database.url", "must start with postgres:// (leave it empty for SQLite)");

  const accountEnv = { env, baseDir };
  const mailboxes = parseMailboxes(root, supportAddress, accountEnv);
  // With a sending account on every mailbox, the shared block may be left out.
  const ownSmtp = mailboxes.every((m) => m.smtp) && root.optionalRaw("smtp") === null;
  const smtp = ownSmtp ? mailboxes[0].smtp! : parseSmtp(root.section("smtp"), "TICKETPOST_SMTP", accountEnv);

  const outbox = root.section("outbox");
  outbox.unknownKeys(["intervalMs", "maxAttempts", "backoffBaseMs", "backoffMaxMs", "claimMs"]);
  const log = root.section("log");
  log.unknownKeys(["level"]);
  const level = (env[ENV.logLevel] || log.string("level", "info")) as string;
  if (!["debug", "info", "warn", "error"].includes(level)) fail("log.level", "must be one of debug, info, warn, error");

  const referencePrefix = root.string("referencePrefix", "T");
  if (!/^[A-Za-z]{1,6}$/.test(referencePrefix)) fail("referencePrefix", "must be 1 to 6 letters");
  const language = root.string("language", "en");
  if (!/^[a-z]{2}$/.test(language)) fail("language", "must be a two-letter language code such as en or de");

  const people = parseDepartments(root, supportAddress);
  for (const [i, m] of mailboxes.entries()) {
    if (m.defaultDepartment && !people.departments.some((d) => d.id === m.defaultDepartment)) {
      fail(`mailboxes[${i}].defaultDepartment`, `names "${m.defaultDepartment}", which is not a configured department`);
    }
  }
  const overdue = root.section("overdue");
  overdue.unknownKeys(["schedule", "repeatHours"]);
  const overdueSchedule = overdue.string("schedule", "*/15 * * * *");
  if (!cron.validate(overdueSchedule)) fail("overdue.schedule", `is not a valid cron expression ("${overdueSchedule}")`);

  const digest = root.section("digest");
  digest.unknownKeys(["enabled", "schedule", "timezone"]);
  const digestSchedule = digest.string("schedule", "30 7 * * 1-5");
  if (!cron.validate(digestSchedule)) fail("digest.schedule", `is not a valid cron expression ("${digestSchedule}")`);
  const digestZone = digest.optionalString("timezone");
  if (digestZone && !validTimeZone(digestZone)) fail("digest.timezone", `is not a time zone name such as Europe/Berlin ("${digestZone}")`);

  const agentAuth = root.section("agentAuth");
  agentAuth.unknownKeys(["mode", "trustedAuthservIds"]);
  const authMode = agentAuth.string("mode", "authentication-results");
  if (!AGENT_AUTH_MODES.includes(authMode)) fail("agentAuth.mode", `must be one of ${AGENT_AUTH_MODES.join(", ")}`);
  const strangerPolicy = root.string("strangerPolicy", "internal");
  if (!["internal", "public", "new-ticket"].includes(strangerPolicy)) fail("strangerPolicy", "must be internal, public or new-ticket");
  const autoReply = root.section("autoReplyLimit");
  autoReply.unknownKeys(["perAddress", "windowMinutes"]);
  const limits = root.section("limits");
  limits.unknownKeys(["maxParticipants", "maxAttachments"]);
  const referenceSecret = env[ENV.referenceSecret] || root.optionalString("referenceSecret");
  if (referenceSecret && referenceSecret.length < 16) fail("referenceSecret", "must be at least 16 characters");
  const notify = root.section("notify");
  notify.unknownKeys(["maxAttachmentBytes"]);
  const instances = root.section("instances");
  instances.unknownKeys(["leaseSeconds"]);
  const http = root.section("http");
  http.unknownKeys(["enabled", "host", "port"]);

  return {
    ...people,
    referenceSecret: referenceSecret || null,
    instances: { leaseSeconds: instances.int("leaseSeconds", 30, 3, 3600) },
    agentAuth: {
      mode: authMode as TicketpostConfig["agentAuth"]["mode"],
      trustedAuthservIds: agentAuth.strings("trustedAuthservIds").map((s) => s.toLowerCase()),
    },
    strangerPolicy: strangerPolicy as TicketpostConfig["strangerPolicy"],
    autoReplyLimit: {
      perAddress: autoReply.int("perAddress", 10, 1, 10_000),
      windowMinutes: autoReply.int("windowMinutes", 60, 1, 7 * 24 * 60),
    },
    limits: { maxParticipants: limits.int("maxParticipants", 50, 1, 10_000), maxAttachments: limits.int("maxAttachments", 100, 0, 10_000) },
    notify: { maxAttachmentBytes: notify.int("maxAttachmentBytes", 10 * 1024 * 1024, 0, 1024 * 1024 * 1024) },
    http: { enabled: http.bool("enabled", false), host: http.string("host", "127.0.0.1"), port: http.int("port", 9464, 0, 65535) },
    reopenDays: root.int("reopenDays", 14, 0, 3650),
    overdue: { schedule: overdueSchedule, repeatHours: overdue.int("repeatHours", 24, 1, 24 * 365) },
    digest: { enabled: digest.bool("enabled", true), schedule: digestSchedule, timezone: digestZone ?? null },
    name: root.string("name", "Ticketpost"),
    supportAddress,
    messageIdDomain: root.string("messageIdDomain", supportAddress.split("@")[1]).toLowerCase(),
    referencePrefix: referencePrefix.toUpperCase(),
    language,
    dataDir,
    database: {
      url: dbUrl || null,
      sqlitePath: path.resolve(dataDir, db.string("sqlitePath", "ticketpost.sqlite")),
      logging: db.bool("logging", false),
    },
    mailboxes,
    imap: mailboxes[0],
    smtp,
    outbox: {
      intervalMs: outbox.int("intervalMs", 5000, 100),
      maxAttempts: outbox.int("maxAttempts", 10, 1, 1000),
      backoffBaseMs: outbox.int("backoffBaseMs", 30_000, 10),
      backoffMaxMs: outbox.int("backoffMaxMs", 3_600_000, 10),
      claimMs: outbox.int("claimMs", 60_000, 100),
    },
    templatesDir: path.resolve(baseDir, root.string("templatesDir", DEFAULT_TEMPLATES_DIR)),
    maxMessageBytes: root.int("maxMessageBytes", 25 * 1024 * 1024, 1024),
    log: { level: level as TicketpostConfig["log"]["level"] },
  };
}

/** Finds the config file (--config, then TICKETPOST_CONFIG, then ./config/ticketpost.json) and loads it. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): TicketpostConfig {
  const chosen = file ?? env[ENV.config] ?? "config/ticketpost.json";
  const full = path.resolve(chosen);
  let text: string;
  try {
    text = readFileSync(full, "utf8");
  } catch (err) {
    throw new TicketpostError(
      "ECONFIG",
      `config: cannot read ${full} (${(err as NodeJS.ErrnoException).code ?? err}); pass --config FILE or set ${ENV.config}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // V8 quotes the text around the error ("Unexpected token 'h', ..."password": hunter2"... is not
    // valid JSON"), which may be a secret: keep what went wrong and the position, never that text.
    const reason = (err as Error).message.replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, "");
    throw new TicketpostError("ECONFIG", `config: ${full} is not valid JSON: ${reason}`);
  }
  // Relative paths count from the working directory, as ./data/ticketpost.sqlite does by default.
  return parseConfig(json, { env });
}

/** Is this an IANA time zone name the runtime knows (Intl throws a RangeError for others)? */
function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
