import type { MailboxConfig, SmtpConfig, TicketpostConfig } from "../config/schema.js";
import { probeMailbox } from "../mailbox/imap-mailbox.js";
import { createSmtpTransporter } from "../notify/smtp-transport.js";
import type { AccountLogins } from "./logins.js";
import { fixFor } from "./problems.js";

/** One line of `ticketpost check`: what was tried, and for a failure, one fix. */
export interface CheckLine {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Obtains a token for an OAuth2 account, so that a refused grant is named before IMAP or SMTP says "login failed". */
async function checkToken(
  name: string,
  account: { user: string; oauth2: NonNullable<MailboxConfig["oauth2"]> },
  logins: AccountLogins,
): Promise<CheckLine> {
  const source = logins.sourceFor({ user: account.user, password: null, oauth2: account.oauth2, passwordEnv: "" })!;
  try {
    await source.accessToken();
    const left = Math.round((source.expiresAt - Date.now()) / 1000);
    return {
      name,
      ok: true,
      detail: `${account.oauth2.grant} token for ${account.user} from ${new URL(account.oauth2.tokenEndpoint).host}, valid for ${left} s`,
    };
  } catch {
    const p = source.problem!;
    return { name, ok: false, detail: `${p.kind}: ${p.message}`, fix: p.fix };
  }
}

/** The token (OAuth2), the login and the folders of one mailbox. */
export async function checkMailbox(m: MailboxConfig, logins: AccountLogins, several: boolean): Promise<CheckLine[]> {
  const suffix = several ? `/${m.id}` : "";
  const out: CheckLine[] = [];
  if (m.oauth2) {
    const token = await checkToken(`oauth2${suffix}`, { user: m.user, oauth2: m.oauth2 }, logins);
    out.push(token);
    if (!token.ok) return [...out, { name: `imap${suffix}`, ok: false, detail: "not tried: no access token", fix: token.fix }];
  }
  const folders = [m.mailbox, m.processedFolder, m.failedFolder];
  const probe = await probeMailbox(m, folders, logins);
  if (!probe.ok) {
    const fix =
      probe.code === "EIMAP_AUTH"
        ? m.oauth2
          ? fixFor("missing-permission", m.oauth2)
          : `check ${m.key}.user and the password (${m.passwordEnv})`
        : probe.code === "EIMAP_CONNECT"
          ? `check ${m.key}.host, ${m.key}.port and ${m.key}.secure, and that the server is running`
          : probe.code === "ECONFIG"
            ? `set ${m.passwordEnv}`
            : "see the server's answer above";
    out.push({ name: `imap${suffix}`, ok: false, detail: `${probe.code}: ${probe.error}`, fix });
    return out;
  }
  const missing = probe.folders[m.mailbox] === null;
  out.push({
    name: `imap${suffix}`,
    ok: !missing,
    detail: `logged in as ${m.user} at ${m.host}:${m.port}${m.oauth2 ? " with OAuth2" : ""}; ${folders.map((f) => `${f}: ${probe.folders[f] ?? "missing"}`).join(", ")}`,
    fix: missing ? `create the folder ${m.mailbox} or change ${m.key}.mailbox` : undefined,
  });
  return out;
}

/** Greeting and, with a user, authentication. No user means no AUTH at all, and the line says so. */
export async function checkSmtp(name: string, key: string, cfg: SmtpConfig, logins: AccountLogins): Promise<CheckLine[]> {
  const out: CheckLine[] = [];
  if (cfg.oauth2 && cfg.user) {
    const token = await checkToken(`oauth2/${name}`, { user: cfg.user, oauth2: cfg.oauth2 }, logins);
    if (!token.ok) return [token, { name, ok: false, detail: "not tried: no access token", fix: token.fix }];
  }
  if (cfg.user && !cfg.oauth2 && cfg.password === null) {
    return [
      {
        name,
        ok: false,
        detail: `${key}.user is set but there is no password`,
        fix: `set ${cfg.passwordEnv ?? "TICKETPOST_SMTP_PASSWORD"}, or leave ${key}.user out if the server needs no authentication`,
      },
    ];
  }
  const transport = createSmtpTransporter(cfg, logins, { connectionTimeout: 10_000, greetingTimeout: 10_000 });
  try {
    await transport.verify();
    const how = !cfg.user
      ? `; no authentication (${key}.user is not set)`
      : cfg.oauth2
        ? ` and XOAUTH2 as ${cfg.user}`
        : ` and authentication as ${cfg.user}`;
    out.push({ name, ok: true, detail: `greeting ok at ${cfg.host}:${cfg.port}${how}` });
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message: string };
    const noAuth =
      /not implemented|not supported|not available|unrecognized command/i.test(e.message) ||
      e.responseCode === 502 ||
      e.responseCode === 504;
    const fix =
      e.code === "EAUTH" && noAuth
        ? `this server offers no authentication: leave ${key}.user out (no user means no authentication)`
        : e.code === "EAUTH" && cfg.oauth2
          ? fixFor("missing-permission", cfg.oauth2).replace("IMAP.AccessAsApp / ", "")
          : e.code === "EAUTH"
            ? `check ${key}.user and the password (${cfg.passwordEnv ?? "TICKETPOST_SMTP_PASSWORD"})`
            : `check ${key}.host, ${key}.port and ${key}.secure, and that the server is running`;
    out.push({ name, ok: false, detail: `${e.code ?? e.responseCode ?? "error"}: ${e.message}`, fix });
  } finally {
    transport.close();
  }
  return out;
}

/** Every account of the config: each mailbox, the shared SMTP account and each mailbox's own. */
export async function checkAccounts(config: TicketpostConfig, logins: AccountLogins): Promise<CheckLine[]> {
  const several = config.mailboxes.length > 1;
  const out: CheckLine[] = [];
  for (const m of config.mailboxes) out.push(...(await checkMailbox(m, logins, several)));
  if (!config.mailboxes.every((m) => m.smtp)) out.push(...(await checkSmtp("smtp", "smtp", config.smtp, logins)));
  for (const m of config.mailboxes) if (m.smtp) out.push(...(await checkSmtp(`smtp/${m.id}`, `${m.key}.smtp`, m.smtp, logins)));
  return out;
}
