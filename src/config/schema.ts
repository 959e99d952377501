import type { LogLevel } from "../shared/logger.js";
import type { OAuth2Grant, Provider } from "./presets.js";
import type { Urgency } from "../tickets/levels.js";

export interface DepartmentConfig {
  /** Short id, also the plus-address tag (support+web@) and what `#assign web` names. */
  id: string;
  name: string;
  /** Name per language, e.g. { "de": "Webentwicklung" }. */
  names: Record<string, string>;
  /** Dedicated addresses and alias addresses that route mail here. */
  addresses: string[];
  /** Other short names for the plus-address tag, `Department:` lines and `#assign`. */
  aliases: string[];
  /** Agents of this department (addresses). */
  members: string[];
  defaultUrgency: Urgency;
  /** Language of this department's members and of requesters who write to it. */
  language: string | null;
}

export interface AgentConfig {
  address: string;
  name: string | null;
}

export interface TlsConfig {
  /** Verify the server certificate. On by default; turn off only for a lab server. */
  rejectUnauthorized: boolean;
}

/**
 * An OAuth2 login (SASL XOAUTH2 / OAUTHBEARER) instead of a password. The access token is
 * obtained by the client-credentials grant (Microsoft 365 app-only access) or the refresh-token
 * grant (Google, Microsoft delegated access), cached and refreshed before it expires.
 */
export interface OAuth2Config {
  provider: Provider | null;
  grant: OAuth2Grant;
  tokenEndpoint: string;
  /** For `ticketpost auth` (browser consent); null when unknown. */
  authorizationEndpoint: string | null;
  /** For `ticketpost auth` (device-code consent, RFC 8628); null when the provider has none. */
  deviceAuthorizationEndpoint: string | null;
  clientId: string;
  /** From the environment (`env.clientSecret`); null for a certificate or a public client. */
  clientSecret: string | null;
  /** PEM file with the certificate and its private key (Microsoft certificate credentials). */
  certificateFile: string | null;
  /** Space-separated scopes asked for. */
  scope: string;
  /** The refresh token the environment holds (after consent); a rotated one stored in the database replaces it. */
  refreshToken: string | null;
  /** The environment variables to name in messages. */
  env: { clientSecret: string; refreshToken: string };
  /** Config key of the account ("imap", "mailboxes[1]", "smtp"), for messages. */
  key: string;
}

/** How one IMAP or SMTP account logs in. Secrets are looked at only when a connection needs them. */
export interface AccountLogin {
  user: string;
  /** Null with OAuth2, or when neither the file nor the environment has one (asked for at connect). */
  password: string | null;
  oauth2: OAuth2Config | null;
  /** The environment variable for the password, named when it is missing. */
  passwordEnv: string;
}

export interface ImapConfig extends AccountLogin {
  host: string;
  port: number;
  secure: boolean;
  tls: TlsConfig;
  mailbox: string;
  processedFolder: string;
  failedFolder: string;
  /** node-cron expression for the scheduled poll, on top of IDLE. */
  schedule: string;
  idle: boolean;
  /**
   * After mail came in, the mailbox is checked again every recheckMs (NOOP) for a short while
   * before the connection idles: Dovecot announces new mail to an idling client only after
   * 500 ms. 0: idle at once.
   */
  recheckMs: number;
  /** How many mails are fetched from the server in one round trip. */
  batchSize: number;
}

/** One mailbox Ticketpost drains: its own account, folders, schedule and IDLE. */
export interface MailboxConfig extends ImapConfig {
  /** Configured id; the `mailbox` of its receipts and the name of its lock among instances. */
  id: string;
  /** Its config key ("imap", "mailboxes[1]"), for messages. */
  key: string;
  /** The address this mailbox receives at; replies to its tickets leave from it. */
  address: string;
  /** Department for its mail when nothing else routes it; null: the global default. */
  defaultDepartment: string | null;
  provider: Provider | null;
  /** Its own sending account; null: the shared `smtp` block. */
  smtp: SmtpConfig | null;
}

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  /** No user means no SMTP authentication at all (a relay that trusts the network). */
  user: string | null;
  password: string | null;
  tls: TlsConfig;
  oauth2?: OAuth2Config | null;
  passwordEnv?: string;
}

export interface OutboxConfig {
  /** How often the sender loop looks for queued mail when nothing woke it. */
  intervalMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * A sender takes a row for this long before sending it. If the process dies mid-send, the
   * row is sent again after the lease (never earlier, so two senders never race on one row).
   */
  claimMs: number;
}

export interface TicketpostConfig {
  /** Name shown in status mails, e.g. "ACME Support". */
  name: string;
  supportAddress: string;
  /** Domain of the Message-IDs we generate; our own mails are recognised by it. */
  messageIdDomain: string;
  /** Letter(s) in the subject tag: "T" gives [#T-1042]. */
  referencePrefix: string;
  language: string;
  dataDir: string;
  database: { url: string | null; sqlitePath: string; logging: boolean };
  /** Every mailbox drained; a config with the single `imap` block has exactly one. */
  mailboxes: MailboxConfig[];
  /** The first mailbox (the single `imap` block of older configs). */
  imap: MailboxConfig;
  smtp: SmtpConfig;
  outbox: OutboxConfig;
  templatesDir: string;
  /** Mails above this size (bytes) are not processed; they go to Failed. */
  maxMessageBytes: number;
  log: { level: LogLevel };
  departments: DepartmentConfig[];
  /** Department for mail to the general support address; null only when none are configured. */
  defaultDepartment: string | null;
  /** Names of agents (members are agents whether listed here or not). */
  agents: AgentConfig[];
  /** Language per address, overriding the department's and the default. */
  languages: Record<string, string>;
  /** A requester's reply within this many days of the resolution reopens the ticket. */
  reopenDays: number;
  overdue: { schedule: string; repeatHours: number };
  /**
   * The queue digest mailed to each department's members (issue 12): node-cron `schedule`
   * (default weekdays 07:30), read in `timezone` (IANA name; null: the server's).
   */
  digest: { enabled: boolean; schedule: string; timezone: string | null };
  /** Key of the check in ticket tags; generated and kept in the database when not given. */
  referenceSecret: string | null;
  agentAuth: {
    /**
     * How an agent's command mail is proven to come from the agent: "authentication-results"
     * (a header from a trusted server showing dmarc=pass or dkim=pass for the From domain),
     * "dkim" (Ticketpost verifies DKIM itself with mailauth), "exchange-online" and
     * "google-workspace" (the headers those systems write; see agent-auth.ts), or "trust-from"
     * (none: insecure).
     */
    mode: "authentication-results" | "dkim" | "trust-from" | "exchange-online" | "google-workspace";
    trustedAuthservIds: string[];
  };
  /** A reply with a valid reference from someone who is not a participant: kept internal (default), treated as public, or made a new ticket. */
  strangerPolicy: "internal" | "public" | "new-ticket";
  /** Automatic mails to any one address within the window, at most. */
  autoReplyLimit: { perAddress: number; windowMinutes: number };
  /** Bounds for hostile mail. */
  limits: { maxParticipants: number; maxAttachments: number };
  /**
   * Status mails: `maxAttachmentBytes` is the most that the files carried by one mail may add up
   * to (bytes, default 10 MB); beyond it the mail lists the files instead, and agents get them
   * with #files in parts under the cap. 0 attaches nothing.
   */
  notify: { maxAttachmentBytes: number };
  /** Several instances on one PostgreSQL database: a standby takes over the mailbox within this time. */
  instances: { leaseSeconds: number };
  /** Optional health and metrics endpoint; off by default, loopback by default. */
  http: { enabled: boolean; host: string; port: number };
}
