/**
 * What `provider: "microsoft365"` and `provider: "google"` fill in, so that a config names only
 * the tenant, the client and the mailbox. Every value can still be set explicitly.
 *
 * Sources:
 * - Microsoft: "Authenticate an IMAP, POP or SMTP connection using OAuth" (learn.microsoft.com,
 *   exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth):
 *   outlook.office365.com:993, smtp.office365.com:587 STARTTLS, scope
 *   https://outlook.office365.com/.default for client credentials, and
 *   https://outlook.office.com/IMAP.AccessAsUser.All / SMTP.Send for delegated access;
 *   endpoints from the Microsoft identity platform v2.0 (login.microsoftonline.com/{tenant}/oauth2/v2.0/…).
 * - Google: "IMAP, POP, and SMTP" and "OAuth 2.0 for Mobile & Desktop Apps" (developers.google.com):
 *   imap.gmail.com:993, smtp.gmail.com:465, scope https://mail.google.com/, endpoints
 *   accounts.google.com/o/oauth2/v2/auth and oauth2.googleapis.com/token.
 */
export type Provider = "microsoft365" | "google";
export const PROVIDERS: readonly Provider[] = ["microsoft365", "google"];

export type OAuth2Grant = "client_credentials" | "refresh_token";

export interface ProviderPreset {
  imap: { host: string; port: number; secure: boolean };
  smtp: { host: string; port: number; secure: boolean };
  /** The grant a config gets when it names none. */
  grant: OAuth2Grant;
  endpoints(tenant: string | null): { token: string; authorization: string; deviceAuthorization: string | null };
  scope(grant: OAuth2Grant): string;
  /** A preset that needs a tenant (Microsoft) says so; null when none is needed. */
  needsTenant: boolean;
}

const microsoft = (tenant: string | null) => `https://login.microsoftonline.com/${encodeURIComponent(tenant ?? "common")}/oauth2/v2.0`;

export const PRESETS: Record<Provider, ProviderPreset> = {
  microsoft365: {
    imap: { host: "outlook.office365.com", port: 993, secure: true },
    smtp: { host: "smtp.office365.com", port: 587, secure: false },
    grant: "client_credentials",
    endpoints: (tenant) => ({
      token: `${microsoft(tenant)}/token`,
      authorization: `${microsoft(tenant)}/authorize`,
      deviceAuthorization: `${microsoft(tenant)}/devicecode`,
    }),
    scope: (grant) =>
      grant === "client_credentials"
        ? "https://outlook.office365.com/.default"
        : "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access",
    needsTenant: true,
  },
  google: {
    imap: { host: "imap.gmail.com", port: 993, secure: true },
    smtp: { host: "smtp.gmail.com", port: 465, secure: true },
    grant: "refresh_token",
    // Google's device flow does not allow the Gmail scope, so consent goes through the browser.
    endpoints: () => ({
      token: "https://oauth2.googleapis.com/token",
      authorization: "https://accounts.google.com/o/oauth2/v2/auth",
      deviceAuthorization: null,
    }),
    scope: () => "https://mail.google.com/",
    needsTenant: false,
  },
};
