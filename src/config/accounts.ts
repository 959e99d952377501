import path from "node:path";
import cron from "node-cron";
import { ADDRESS, fail, type Reader } from "./reader.js";
import { PRESETS, PROVIDERS, type OAuth2Grant, type Provider } from "./presets.js";
import type { MailboxConfig, OAuth2Config, SmtpConfig } from "./schema.js";

/*
 * IMAP and SMTP accounts: host, login (password or OAuth2) and, for a mailbox, its folders and
 * schedule. Secrets come from the environment, under names derived from the account
 * (TICKETPOST_IMAP_PASSWORD, TICKETPOST_MAILBOX_WEB_CLIENT_SECRET, ...), and are only *read*
 * here: a missing one is reported by the connection that needs it, so `migrate` or `tickets list`
 * never ask for an IMAP password.
 */

/** Shared by every account whose own variable is not set: one app registration for all mailboxes. */
export const SHARED_CLIENT_SECRET_ENV = "TICKETPOST_OAUTH_CLIENT_SECRET";

export interface AccountEnv {
  env: NodeJS.ProcessEnv;
  baseDir: string;
}

const ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const GRANTS: readonly OAuth2Grant[] = ["client_credentials", "refresh_token"];
const OAUTH2_KEYS = [
  "grant",
  "tenant",
  "clientId",
  "tokenEndpoint",
  "authorizationEndpoint",
  "deviceAuthorizationEndpoint",
  "scope",
  "certificateFile",
];

function provider(r: Reader): Provider | null {
  const p = r.optionalString("provider");
  if (p !== null && !(PROVIDERS as readonly string[]).includes(p)) fail(r.name("provider"), `must be one of ${PROVIDERS.join(", ")}`);
  return p as Provider | null;
}

function url(r: Reader, k: string, def: string | null): string | null {
  const v = r.optionalString(k) ?? def;
  if (v === null) return null;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    fail(r.name(k), `must be a URL (got "${v}")`);
  }
  if (u.protocol !== "https:" && !(u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname))) {
    fail(r.name(k), "must be an https:// URL (plain http only on loopback, for a test server)");
  }
  return v;
}

/** The `oauth2` block of an account; null when the account logs in with a password. */
export function parseOAuth2(account: Reader, prov: Provider | null, envPrefix: string, e: AccountEnv): OAuth2Config | null {
  if (account.optionalRaw("oauth2") === null) return null;
  const o = account.section("oauth2");
  o.unknownKeys(OAUTH2_KEYS);
  const preset = prov ? PRESETS[prov] : null;
  const grant = o.string("grant", preset?.grant ?? "refresh_token");
  if (!(GRANTS as readonly string[]).includes(grant)) fail(o.name("grant"), `must be one of ${GRANTS.join(", ")}`);
  const tenant = o.optionalString("tenant");
  if (preset?.needsTenant && !tenant && !o.optionalString("tokenEndpoint")) {
    fail(o.name("tenant"), `is required for provider ${prov} (the directory (tenant) ID or primary domain from Microsoft Entra ID)`);
  }
  if (tenant && !/^[A-Za-z0-9.-]{1,253}$/.test(tenant))
    fail(o.name("tenant"), "must be a tenant ID (a GUID) or a domain like contoso.onmicrosoft.com");
  const ends = preset?.endpoints(tenant);
  const tokenEndpoint = url(o, "tokenEndpoint", ends?.token ?? null);
  if (!tokenEndpoint) fail(o.name("tokenEndpoint"), "is required (or set provider)");
  const scope = o.string("scope", preset?.scope(grant as OAuth2Grant) ?? "");
  if (!scope.trim()) fail(o.name("scope"), "is required (or set provider)");
  const cert = o.optionalString("certificateFile");
  const own = `${envPrefix}_CLIENT_SECRET`;
  return {
    provider: prov,
    grant: grant as OAuth2Grant,
    tokenEndpoint,
    authorizationEndpoint: url(o, "authorizationEndpoint", ends?.authorization ?? null),
    deviceAuthorizationEndpoint: url(o, "deviceAuthorizationEndpoint", ends?.deviceAuthorization ?? null),
    clientId: o.string("clientId"),
    clientSecret: cert ? null : e.env[own] || e.env[SHARED_CLIENT_SECRET_ENV] || null,
    certificateFile: cert ? path.resolve(e.baseDir, cert) : null,
    scope: scope.trim(),
    refreshToken: e.env[`${envPrefix}_REFRESH_TOKEN`] || null,
    env: { clientSecret: `${own} (or ${SHARED_CLIENT_SECRET_ENV})`, refreshToken: `${envPrefix}_REFRESH_TOKEN` },
    key: account.path,
  };
}

function folder(r: Reader, k: string, def: string): string {
  const v = r.string(k, def);
  if (/[\r\n*%]/.test(v)) fail(r.name(k), "must be a plain folder name");
  return v;
}

const MAILBOX_KEYS = [
  "id",
  "address",
  "defaultDepartment",
  "provider",
  "host",
  "port",
  "secure",
  "user",
  "password",
  "oauth2",
  "tls",
  "mailbox",
  "processedFolder",
  "failedFolder",
  "schedule",
  "idle",
  "recheckMs",
  "batchSize",
  "smtp",
];

export interface MailboxDefaults {
  /** The id when the block names none (the single `imap` block: its folder, as older receipts have it). */
  id: string | null;
  /** The address when the block names none. */
  address: string | null;
  envPrefix: (id: string) => string;
}

/** One mailbox: the single `imap` block or one entry of `mailboxes`. */
export function parseMailbox(r: Reader, d: MailboxDefaults, e: AccountEnv, legacy: boolean): MailboxConfig {
  r.unknownKeys(legacy ? MAILBOX_KEYS.filter((k) => !["id", "address", "defaultDepartment", "smtp"].includes(k)) : MAILBOX_KEYS);
  const prov = provider(r);
  const preset = prov ? PRESETS[prov].imap : null;
  const tls = r.section("tls");
  tls.unknownKeys(["rejectUnauthorized"]);
  const secure = r.bool("secure", preset?.secure ?? true);
  const schedule = r.string("schedule", "* * * * *");
  if (!cron.validate(schedule)) fail(r.name("schedule"), `is not a valid cron expression ("${schedule}")`);
  const mailboxFolder = folder(r, "mailbox", "INBOX");
  if (!legacy && r.optionalString("id") === null) fail(r.name("id"), "is required: a short name for this mailbox, like web");
  // The single imap block keeps its folder as id, exactly as the receipts written before have it.
  const id = legacy ? mailboxFolder : r.string("id").toLowerCase();
  if (!legacy && !ID.test(id)) fail(r.name("id"), "must be a short id of letters, digits and dashes, like web");
  const user = r.string("user");
  const address = (r.optionalString("address") ?? d.address ?? (ADDRESS.test(user) ? user : null))?.toLowerCase() ?? null;
  if (!address || !ADDRESS.test(address))
    fail(r.name("address"), "must be the mail address of this mailbox (it is required when user is not an address)");
  const envPrefix = d.envPrefix(id);
  const oauth2 = parseOAuth2(r, prov, envPrefix, e);
  const password = oauth2 ? null : e.env[`${envPrefix}_PASSWORD`] || r.optionalString("password");
  return {
    id,
    key: r.path,
    address,
    defaultDepartment: r.optionalString("defaultDepartment")?.toLowerCase() ?? null,
    provider: prov,
    host: r.string("host", preset?.host),
    port: r.int("port", preset?.port ?? (secure ? 993 : 143), 1, 65535),
    secure,
    user,
    password,
    oauth2,
    passwordEnv: `${envPrefix}_PASSWORD`,
    tls: { rejectUnauthorized: tls.bool("rejectUnauthorized", true) },
    mailbox: mailboxFolder,
    processedFolder: folder(r, "processedFolder", "Processed"),
    failedFolder: folder(r, "failedFolder", "Failed"),
    schedule,
    idle: r.bool("idle", true),
    // The providers' servers announce new mail to an idling client at once.
    recheckMs: r.int("recheckMs", prov ? 0 : 25, 0, 60_000),
    batchSize: r.int("batchSize", 50, 1, 1000),
    smtp: !legacy && r.optionalRaw("smtp") !== null ? parseSmtp(r.section("smtp"), `${envPrefix}_SMTP`, e) : null,
  };
}

/** An SMTP account. No `user` means no authentication at all, as a relay on the local network expects. */
export function parseSmtp(r: Reader, envPrefix: string, e: AccountEnv): SmtpConfig {
  r.unknownKeys(["provider", "host", "port", "secure", "user", "password", "oauth2", "tls"]);
  const prov = provider(r);
  const preset = prov ? PRESETS[prov].smtp : null;
  const tls = r.section("tls");
  tls.unknownKeys(["rejectUnauthorized"]);
  const secure = r.bool("secure", preset?.secure ?? false);
  const user = r.optionalString("user");
  const oauth2 = parseOAuth2(r, prov, envPrefix, e);
  if (oauth2 && !user) fail(r.name("user"), "is required with oauth2 (the mailbox the token logs in to)");
  return {
    host: r.string("host", preset?.host),
    port: r.int("port", preset?.port ?? (secure ? 465 : 587), 1, 65535),
    secure,
    user,
    password: oauth2 || !user ? null : e.env[`${envPrefix}_PASSWORD`] || r.optionalString("password"),
    tls: { rejectUnauthorized: tls.bool("rejectUnauthorized", true) },
    oauth2,
    passwordEnv: `${envPrefix}_PASSWORD`,
  };
}

/** `mailboxes: [...]` or the single `imap` block (exactly one of the two). */
export function parseMailboxes(root: Reader, supportAddress: string, e: AccountEnv): MailboxConfig[] {
  const hasList = root.optionalRaw("mailboxes") !== null;
  const hasImap = root.optionalRaw("imap") !== null;
  if (hasList && hasImap) fail("mailboxes", "and imap are both set; list the imap account as one of mailboxes");
  if (!hasList) {
    return [parseMailbox(root.section("imap"), { id: null, address: supportAddress, envPrefix: () => "TICKETPOST_IMAP" }, e, true)];
  }
  const list = root
    .objects("mailboxes")
    .map((r) =>
      parseMailbox(
        r,
        { id: null, address: null, envPrefix: (id) => `TICKETPOST_MAILBOX_${id.toUpperCase().replace(/-/g, "_")}` },
        e,
        false,
      ),
    );
  if (list.length === 0) fail("mailboxes", "must list at least one mailbox");
  const seen = new Set<string>();
  for (const [i, m] of list.entries()) {
    if (m.id === undefined || seen.has(m.id)) fail(`mailboxes[${i}].id`, `"${m.id}" is used twice`);
    seen.add(m.id);
  }
  return list;
}
