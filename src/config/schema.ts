import type { LogLevel } from "../shared/logger.js";
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

export interface ImapConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
  tls: TlsConfig;
  mailbox: string;
  processedFolder: string;
  failedFolder: string;
  /** node-cron expression for the scheduled poll, on top of IDLE. */
  schedule: string;
  idle: boolean;
  /** How many mails are fetched from the server in one round trip. */
  batchSize: number;
}

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user: string | null;
  password: string | null;
  tls: TlsConfig;
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
  imap: ImapConfig;
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
  /** Key of the check in ticket tags; generated and kept in the database when not given. */
  referenceSecret: string | null;
  agentAuth: {
    /**
     * How an agent's command mail is proven to come from the agent: "authentication-results"
     * (a header from a trusted server showing dmarc=pass or dkim=pass for the From domain),
     * "dkim" (Ticketpost verifies DKIM itself with mailauth), or "trust-from" (none: insecure).
     */
    mode: "authentication-results" | "dkim" | "trust-from";
    trustedAuthservIds: string[];
  };
  /** A reply with a valid reference from someone who is not a participant: kept internal (default), treated as public, or made a new ticket. */
  strangerPolicy: "internal" | "public" | "new-ticket";
  /** Automatic mails to any one address within the window, at most. */
  autoReplyLimit: { perAddress: number; windowMinutes: number };
  /** Bounds for hostile mail. */
  limits: { maxParticipants: number; maxAttachments: number };
  /** Several instances on one PostgreSQL database: a standby takes over the mailbox within this time. */
  instances: { leaseSeconds: number };
  /** Optional health and metrics endpoint; off by default, loopback by default. */
  http: { enabled: boolean; host: string; port: number };
}
