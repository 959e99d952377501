import { createRequire } from "node:module";
import type Nodemailer from "nodemailer";
import type { Transporter } from "nodemailer";
import type { SmtpConfig } from "../config/schema.js";
import { AccountLogins } from "../auth/logins.js";
import { TicketpostError } from "../shared/errors.js";

// nodemailer is loaded when the first transporter is made: a command that sends nothing
// (--help, import, tickets list) does not pay for loading it. It is CommonJS, so it loads synchronously.
const require = createRequire(import.meta.url);
let loaded: typeof Nodemailer | undefined;
const nodemailer = (): typeof Nodemailer => (loaded ??= require("nodemailer") as typeof Nodemailer);

/** What the outbox hands to the SMTP side: a finished mail, headers included. */
export interface OutgoingMail {
  from: { name: string; address: string };
  to: { name: string | null; address: string };
  /** The ticket's participants on a public mail: one mail, so a reply-all keeps everyone. */
  cc?: Array<{ name: string | null; address: string }>;
  replyTo: string;
  subject: string;
  text: string;
  html: string | null;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  headers: Record<string, string>;
  /** The ticket the mail belongs to: it decides the mailbox (and address) it leaves from. */
  ticketId?: number | null;
  /** Files, read from the blob store; one with a `cid` is shown inline by the HTML part. */
  attachments?: OutgoingAttachment[];
}

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  /** Content-ID without angle brackets (RFC 2392), for an inline image; null for an ordinary attachment. */
  cid: string | null;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

type TransportOptions = Record<string, unknown>;

/**
 * nodemailer options for an SMTP account. No user: no AUTH at all. OAuth2: SASL XOAUTH2 with a
 * token from the account's source; nodemailer asks again with `renew` after a 535 and retries once.
 */
export function smtpOptions(
  cfg: SmtpConfig,
  logins: AccountLogins,
): {
  options: TransportOptions;
  provision: ((user: string, renew: boolean, cb: (err: Error | null, token?: string) => void) => void) | null;
} {
  const base = { host: cfg.host, port: cfg.port, secure: cfg.secure, tls: { rejectUnauthorized: cfg.tls.rejectUnauthorized } };
  const source = cfg.user
    ? logins.sourceFor({
        user: cfg.user,
        password: null,
        oauth2: cfg.oauth2 ?? null,
        passwordEnv: cfg.passwordEnv ?? "TICKETPOST_SMTP_PASSWORD",
      })
    : null;
  if (source && cfg.user) {
    const provision = (_user: string, renew: boolean, cb: (err: Error | null, token?: string) => void) => {
      source.accessToken(renew).then(
        (t) => cb(null, t),
        (err: Error) => cb(err),
      );
    };
    return { options: { ...base, auth: { type: "OAuth2", user: cfg.user } }, provision };
  }
  return { options: { ...base, auth: cfg.user ? { user: cfg.user, pass: cfg.password ?? "" } : undefined }, provision: null };
}

export function createSmtpTransporter(cfg: SmtpConfig, logins: AccountLogins, extra: Record<string, unknown>): Transporter {
  const { options, provision } = smtpOptions(cfg, logins);
  const t = nodemailer().createTransport({ ...options, ...extra } as Parameters<typeof Nodemailer.createTransport>[0]);
  if (provision) t.set("oauth2_provision_cb", provision);
  return t;
}

/** The one real MailTransport: nodemailer over SMTP, errors sorted into temporary and permanent. */
export class SmtpTransport implements MailTransport {
  private readonly transporter: Transporter;

  constructor(
    private readonly cfg: SmtpConfig,
    logins: AccountLogins = new AccountLogins(),
  ) {
    this.transporter = createSmtpTransporter(cfg, logins, {
      pool: true,
      maxConnections: 2,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
    });
  }

  async send(mail: OutgoingMail): Promise<void> {
    if (this.cfg.user && !this.cfg.oauth2 && this.cfg.password === null) {
      // Kept queued (retryable): the mail is fine, the configuration is not yet.
      throw new TicketpostError(
        "ECONFIG",
        `config: smtp.password is required with smtp.user (or set ${this.cfg.passwordEnv ?? "TICKETPOST_SMTP_PASSWORD"}; leave smtp.user out for a server without AUTH)`,
        { retryable: true },
      );
    }
    try {
      await this.transporter.sendMail({
        from: { name: mail.from.name, address: mail.from.address },
        to: mail.to.name ? { name: mail.to.name, address: mail.to.address } : mail.to.address,
        cc: mail.cc?.length ? mail.cc.map((c) => (c.name ? { name: c.name, address: c.address } : c.address)) : undefined,
        replyTo: mail.replyTo,
        subject: mail.subject,
        text: mail.text,
        html: mail.html ?? undefined,
        messageId: `<${mail.messageId}>`,
        inReplyTo: mail.inReplyTo ? `<${mail.inReplyTo}>` : undefined,
        references: mail.references.length ? mail.references.map((r) => `<${r}>`) : undefined,
        headers: mail.headers,
        // An inline image becomes a related part of the HTML (multipart/related), the rest mixed.
        attachments: mail.attachments?.map((a) => ({
          filename: a.filename,
          contentType: a.contentType,
          content: a.content,
          ...(a.cid ? { cid: a.cid, contentDisposition: "inline" as const } : {}),
        })),
        // Never let nodemailer pick up files or URLs named in content.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (err) {
      const e = err as { responseCode?: number; code?: string; response?: string; message: string };
      const detail = e.response ?? e.message;
      // A refused login is the account's problem, not the mail's: the mail stays queued.
      if (e.code === "EAUTH")
        throw new TicketpostError("ESMTP_TEMP", `SMTP authentication as ${this.cfg.user} failed: ${detail}`, { cause: err });
      if (e.responseCode && e.responseCode >= 500)
        throw new TicketpostError("ESMTP_PERM", `SMTP ${e.responseCode}: ${detail}`, { cause: err });
      throw new TicketpostError("ESMTP_TEMP", `SMTP ${e.responseCode ?? e.code ?? "error"}: ${detail}`, { cause: err });
    }
  }

  close(): void {
    this.transporter.close();
  }
}
