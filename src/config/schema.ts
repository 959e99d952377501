import type { LogLevel } from "../shared/logger.js";

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
}
