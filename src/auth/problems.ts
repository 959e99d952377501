import type { OAuth2Config } from "../config/schema.js";
import { TicketpostError } from "../shared/errors.js";

/**
 * What went wrong with a token, in words an administrator can act on: the kind, the message
 * and one fix. `check`, `status` and the daemon's log line all say the same.
 *
 * Error codes: RFC 6749 section 5.2 (invalid_client, invalid_grant, unauthorized_client,
 * invalid_scope) and Microsoft Entra's AADSTS codes ("Microsoft Entra authentication and
 * authorization error codes", learn.microsoft.com/entra/identity-platform/reference-error-codes).
 */
export type TokenProblemKind =
  | "wrong-tenant"
  | "wrong-client"
  | "client-secret"
  | "consent"
  | "missing-permission"
  | "clock-skew"
  | "scope"
  | "missing-secret"
  | "unreachable"
  | "refused";

export interface TokenProblem {
  kind: TokenProblemKind;
  /** One line; never a token or a secret. */
  message: string;
  fix: string;
  /** The server's clock differs from ours by this much (ms), when the server said its time. */
  skewMs?: number;
}

/** Over this, a signed assertion or a token's not-before time is refused by most servers. */
export const CLOCK_SKEW_LIMIT_MS = 5 * 60_000;

const AADSTS: Array<[RegExp, TokenProblemKind]> = [
  [/AADSTS(90002|900023|90072)\b/, "wrong-tenant"],
  [/AADSTS(700016|70001|700038)\b/, "wrong-client"],
  [/AADSTS(7000215|7000222|7000218|700027)\b/, "client-secret"],
  [/AADSTS(65001|50173|700082|70008|700084|50076|50079|500011)\b/, "consent"],
  [/AADSTS(700024|7000274)\b/, "clock-skew"],
  [/AADSTS(70011|28002|28003)\b/, "scope"],
  [/AADSTS(7000112|50105|65004)\b/, "missing-permission"],
];

export function fixFor(kind: TokenProblemKind, o: OAuth2Config): string {
  const key = o.key;
  switch (kind) {
    case "wrong-tenant":
      return `set ${key}.oauth2.tenant to the Directory (tenant) ID shown on the app's overview page in Microsoft Entra ID`;
    case "wrong-client":
      return `check ${key}.oauth2.clientId (the Application (client) ID) and that the app is registered in this tenant`;
    case "client-secret":
      return `create a new client secret for the app and put its value (not its ID) in ${o.env.clientSecret}`;
    case "consent":
      return o.grant === "refresh_token"
        ? `consent again: run "ticketpost auth ${key}" as the mailbox user (the refresh token was revoked or has expired)`
        : "grant admin consent for the app's API permissions in Microsoft Entra ID (Enterprise applications → Permissions)";
    case "missing-permission":
      return o.provider === "google"
        ? `the token does not open the mailbox: give the OAuth client the scope https://mail.google.com/, enable IMAP for the account, and run "ticketpost auth ${key}"`
        : "the token does not open the mailbox: add IMAP.AccessAsApp / SMTP.SendAsApp (Office 365 Exchange Online) with admin consent, register the app's service principal in Exchange (New-ServicePrincipal) and give it FullAccess on the mailbox (Add-MailboxPermission), then wait up to 30 minutes";
    case "clock-skew":
      return "set this machine's clock right (enable NTP, e.g. systemd-timesyncd or chrony)";
    case "scope":
      return `check ${key}.oauth2.scope (client credentials at Microsoft: https://outlook.office365.com/.default; Google: https://mail.google.com/)`;
    case "missing-secret":
      return o.grant === "refresh_token"
        ? `run "ticketpost auth ${key}" once (or set ${o.env.refreshToken})`
        : `set ${o.env.clientSecret}, or ${key}.oauth2.certificateFile`;
    case "unreachable":
      return `check that ${new URL(o.tokenEndpoint).host} can be reached from this machine (DNS, firewall, proxy)`;
    default:
      return "read the server's answer above";
  }
}

/** Sorts an error from the token endpoint (openid-client ResponseBodyError or a network error) into a problem. */
export function diagnoseTokenError(err: unknown, o: OAuth2Config, skewMs: number | null): TokenProblem {
  const e = err as {
    error?: string;
    error_description?: string;
    status?: number;
    message?: string;
    code?: string;
    cause?: { code?: string };
  };
  const described = [e.error, e.error_description].filter(Boolean).join(": ");
  const text = described || e.message || String(err);
  let kind: TokenProblemKind = "refused";
  const aad = AADSTS.find(([re]) => re.test(text));
  if (aad) kind = aad[1];
  else if (skewMs !== null && Math.abs(skewMs) > CLOCK_SKEW_LIMIT_MS) kind = "clock-skew";
  else if (e.error === "invalid_grant") kind = "consent";
  else if (e.error === "invalid_client" || e.error === "unauthorized_client")
    kind = e.error_description && /secret/i.test(e.error_description) ? "client-secret" : "wrong-client";
  else if (e.error === "invalid_scope") kind = "scope";
  else if (!e.error && (e.status === undefined || e.status >= 500)) kind = "unreachable";
  const skew =
    skewMs !== null && Math.abs(skewMs) > CLOCK_SKEW_LIMIT_MS
      ? ` (this machine's clock is ${Math.round(skewMs / 1000)} s off the server's)`
      : "";
  const what = o.grant === "refresh_token" ? "refresh token" : "client credentials";
  return {
    kind,
    message: `${o.key}: the token endpoint refused the ${what} of client ${o.clientId}: ${oneLine(text)}${skew}`,
    fix: fixFor(kind, o),
    ...(skewMs !== null ? { skewMs } : {}),
  };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim().slice(0, 400);
}

/** The problem as an error with a stable code: a refusal is not retried in a loop, a network error is. */
export function problemError(p: TokenProblem, cause?: unknown): TicketpostError {
  return new TicketpostError(p.kind === "unreachable" ? "EOAUTH" : "EOAUTH_REFUSED", `${p.message} → fix: ${p.fix}`, { cause });
}
