import nodemailer, { type Transporter } from "nodemailer";
import type { SmtpConfig } from "../config/schema.js";
import { TicketpostError } from "../shared/errors.js";

/** What the outbox hands to the SMTP side: a finished mail, headers included. */
export interface OutgoingMail {
  from: { name: string; address: string };
  to: { name: string | null; address: string };
  replyTo: string;
  subject: string;
  text: string;
  html: string | null;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  headers: Record<string, string>;
}

export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** The one real MailTransport: nodemailer over SMTP, errors sorted into temporary and permanent. */
export class SmtpTransport implements MailTransport {
  private readonly transporter: Transporter;

  constructor(cfg: SmtpConfig) {
    this.transporter = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      auth: cfg.user ? { user: cfg.user, pass: cfg.password ?? "" } : undefined,
      tls: { rejectUnauthorized: cfg.tls.rejectUnauthorized },
      pool: true,
      maxConnections: 2,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
    });
  }

  async send(mail: OutgoingMail): Promise<void> {
    try {
      await this.transporter.sendMail({
        from: { name: mail.from.name, address: mail.from.address },
        to: mail.to.name ? { name: mail.to.name, address: mail.to.address } : mail.to.address,
        replyTo: mail.replyTo,
        subject: mail.subject,
        text: mail.text,
        html: mail.html ?? undefined,
        messageId: `<${mail.messageId}>`,
        inReplyTo: mail.inReplyTo ? `<${mail.inReplyTo}>` : undefined,
        references: mail.references.length ? mail.references.map((r) => `<${r}>`) : undefined,
        headers: mail.headers,
        // Never let nodemailer pick up files or URLs named in content.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (err) {
      const e = err as { responseCode?: number; code?: string; response?: string; message: string };
      const detail = e.response ?? e.message;
      if (e.responseCode && e.responseCode >= 500) throw new TicketpostError("ESMTP_PERM", `SMTP ${e.responseCode}: ${detail}`, { cause: err });
      throw new TicketpostError("ESMTP_TEMP", `SMTP ${e.responseCode ?? e.code ?? "error"}: ${detail}`, { cause: err });
    }
  }

  close(): void {
    this.transporter.close();
  }
}
