import type { DataSource } from "typeorm";
import type { AccountLogins } from "../auth/logins.js";
import type { TicketpostConfig } from "../config/schema.js";
import { SmtpTransport, type MailTransport, type OutgoingMail } from "../notify/smtp-transport.js";

/**
 * Replies leave from the mailbox the ticket came in through: its address as From and Reply-To,
 * sent through its own SMTP account when it has one (Microsoft 365's SendAsApp only sends as a
 * mailbox the app may use). The ticket's mailbox is the `mailbox` of the receipt that created
 * it, written in the same transaction as the ticket, so it is known before anything is queued.
 * Mail of a ticket that came from elsewhere (ingest, import, the terminal) leaves as before.
 */
export class MailboxRoutedTransport implements MailTransport {
  private readonly known = new Map<number, string | null>();

  constructor(
    private readonly shared: MailTransport,
    private readonly routes: Map<string, { address: string; transport: MailTransport | null }>,
    private readonly mailboxOf: (ticketId: number) => Promise<string | null>,
    private readonly defaultAddress: string,
  ) {}

  private async mailbox(ticketId: number): Promise<string | null> {
    if (this.known.has(ticketId)) return this.known.get(ticketId)!;
    const id = await this.mailboxOf(ticketId);
    // A ticket's first receipt never changes: remember it (bounded, oldest first out).
    if (this.known.size > 10_000) this.known.delete(this.known.keys().next().value!);
    this.known.set(ticketId, id);
    return id;
  }

  async send(mail: OutgoingMail): Promise<void> {
    const id = mail.ticketId ? await this.mailbox(mail.ticketId) : null;
    const route = id !== null ? this.routes.get(id) : undefined;
    if (!route) return this.shared.send(mail);
    const address = route.address;
    const replyTo = mail.replyTo === this.defaultAddress ? address : mail.replyTo;
    return (route.transport ?? this.shared).send({ ...mail, from: { ...mail.from, address }, replyTo });
  }

  close(): void {
    this.shared.close();
    for (const r of this.routes.values()) r.transport?.close();
  }
}

/** The mailbox id of the receipt that created a ticket (see migration 0006's index). */
export function ticketMailboxLookup(db: DataSource): (ticketId: number) => Promise<string | null> {
  return async (ticketId) => {
    const rows: Array<{ mailbox: string }> = await db.query(
      db.options.type === "postgres"
        ? `SELECT "mailbox" FROM mail_receipt WHERE "ticketId" = $1 AND "outcome" = 'ticket_created' ORDER BY "id" LIMIT 1`
        : `SELECT "mailbox" FROM mail_receipt WHERE "ticketId" = ? AND "outcome" = 'ticket_created' ORDER BY "id" LIMIT 1`,
      [ticketId],
    );
    return rows[0]?.mailbox ?? null;
  };
}

/** The outbox transport for a config: per-mailbox address and account, the shared `smtp` account otherwise. */
export function mailboxTransport(config: TicketpostConfig, db: DataSource, logins: AccountLogins): MailTransport {
  const shared = new SmtpTransport(config.smtp, logins);
  const routes = new Map<string, { address: string; transport: MailTransport | null }>();
  for (const m of config.mailboxes) {
    if (m.address === config.supportAddress && !m.smtp) continue;
    routes.set(m.id, { address: m.address, transport: m.smtp ? new SmtpTransport(m.smtp, logins) : null });
  }
  return routes.size ? new MailboxRoutedTransport(shared, routes, ticketMailboxLookup(db), config.supportAddress) : shared;
}
