import type { EntityManager } from "typeorm";
import type { AddressFlag, Ticket } from "../db/entities.js";
import { inspectTags } from "../mail/subject.js";
import { requesterOf } from "../mail/parse.js";
import type { InboundMessage } from "../mail/types.js";
import { messageKey, type ReadMail, type StoredAttachment, type StoredMessage, type TicketReads } from "./facts.js";
import { ticketReads, type DbReads } from "./repository.js";
import type { GatewayContext } from "./context.js";
import type { Plan } from "./workflow/plan.js";

/*
 * The reads a batch of mails shares. Before the first mail of a batch is planned, the batch's
 * transaction reads in a few statements what planning will ask for every mail (the stored
 * messages their Message-IDs and reply headers name, those tickets with their people and
 * messages, the flags of every address involved); planning then reads from here.
 *
 * It stays exact while the batch writes: persist tells it what each mail wrote (forget), and
 * everything a write can change is forgotten and read again from the transaction when asked. A
 * mail rolled back to its savepoint forgets everything (clear).
 */

type Participants = Awaited<ReturnType<TicketReads["participants"]>>;

interface RecentRow {
  toAddress: string;
  event: string;
  createdAt: Date;
}

export class BatchReads implements TicketReads {
  private readonly db: DbReads;
  /** Message-ID → stored messages (oldest first); a key present with [] was looked for and is unknown. */
  private readonly byMessageId = new Map<string, StoredMessage[]>();
  private readonly tickets = new Map<number, Ticket | null>();
  private readonly people = new Map<number, Participants>();
  private readonly ticketMessages = new Map<number, StoredMessage[]>();
  private readonly flags = new Map<string, AddressFlag | null>();
  /** Answering mails sent to an address since `recentSince`, for the per-address limit. */
  private readonly recent = new Map<string, RecentRow[]>();
  private recentSince = new Date(0);
  private recentEvents: string[] = [];

  constructor(
    private readonly em: EntityManager,
    private readonly ctx: Pick<GatewayContext, "directory" | "tagFormat" | "safety">,
  ) {
    this.db = ticketReads(em);
  }

  /** Reads what the mails will ask for: a handful of statements for the whole batch. */
  async prefetch(mails: ReadMail[], now: Date, answeringEvents: string[]): Promise<void> {
    const parsed = mails.flatMap((r) => (r.kind === "mail" ? [r] : []));
    const ids = new Set<string>();
    for (const r of parsed) {
      ids.add(messageKey(r.msg));
      if (r.msg.inReplyTo) ids.add(r.msg.inReplyTo);
      for (const ref of r.msg.references.slice(-100)) ids.add(ref);
      if (r.bounce?.originalMessageId) ids.add(r.bounce.originalMessageId);
    }
    const stored = await this.db.messagesByMessageIds([...ids]);
    for (const id of ids) this.byMessageId.set(id, []);
    for (const m of stored) this.byMessageId.get(m.messageId)?.push(m);

    const ticketIds = new Set<number>(stored.map((m) => m.ticketId));
    for (const r of parsed) for (const tag of inspectTags(r.msg.subject, this.ctx.tagFormat)) if (tag.valid) ticketIds.add(tag.ticketId);
    await this.loadTickets([...ticketIds]);

    const addresses = new Set<string>(this.ctx.directory.members(null).map((m) => m.address.toLowerCase()));
    const answering = new Set<string>();
    const add = (a: string | null | undefined, into = addresses) => a && into.add(a.toLowerCase());
    for (const r of mails) {
      const msg: InboundMessage | null = r.kind === "mail" ? r.msg : r.kind === "oversize" ? r.head : null;
      if (!msg) continue;
      add(requesterOf(msg)?.address);
      add(requesterOf(msg)?.address, answering);
      add(msg.from?.address);
      // A new ticket's people are the mail's To and Cc: planning asks for their flags and answers.
      for (const x of [...msg.to, ...msg.cc]) {
        add(x.address);
        add(x.address, answering);
      }
      if (r.kind === "mail") for (const x of r.bounce?.recipients ?? []) add(x.address);
    }
    for (const [id, t] of this.tickets) {
      add(t?.requesterAddress);
      add(t?.requesterAddress, answering);
      for (const p of this.people.get(id) ?? []) add(p.address);
    }
    for (const f of await this.db.addressFlags([...addresses])) this.flags.set(f.address, f);
    for (const a of addresses) if (!this.flags.has(a)) this.flags.set(a, null);

    this.recentSince = new Date(now.getTime() - this.ctx.safety.autoReplyWindowMinutes * 60_000);
    this.recentEvents = answeringEvents;
    const rows = await this.db.recentMailRows([...answering], answeringEvents, this.recentSince);
    for (const a of answering) this.recent.set(a, []);
    for (const row of rows) this.recent.get(row.toAddress)?.push(row);
  }

  private async loadTickets(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const { tickets, participants, messages } = await this.db.ticketsWithPeople(ids);
    for (const id of ids) {
      this.tickets.set(id, tickets.find((t) => t.id === id) ?? null);
      this.people.set(id, participants.get(id) ?? []);
      this.ticketMessages.set(id, messages.get(id) ?? []);
    }
  }

  /** What a mail just wrote: everything it can have changed is read again when next asked. */
  forget(plan: Plan, msg: InboundMessage | null, ticketId: number | null, now: Date): void {
    // #merge moves messages and people between tickets: nothing read before can be trusted.
    if (plan.merge) return this.clear();
    if (msg) {
      this.byMessageId.delete(messageKey(msg));
    }
    if (ticketId !== null) {
      this.tickets.delete(ticketId);
      this.people.delete(ticketId);
      this.ticketMessages.delete(ticketId);
    }
    for (const f of plan.addressFlags) this.flags.delete(f.address.toLowerCase());
    // Each planned mail is one outbox row written at `now`, to its To and Cc: counted here as
    // the database would count it, rather than read again (a scan of the window's rows with Cc).
    for (const n of [...plan.notifications, ...plan.ticketless]) {
      if (!this.recentEvents.includes(n.event)) continue;
      for (const p of [n.to, ...("cc" in n ? (n.cc ?? []) : [])]) {
        this.recent.get(p.address.toLowerCase())?.push({ toAddress: p.address.toLowerCase(), event: n.event, createdAt: now });
      }
    }
  }

  /** A mail rolled back to its savepoint: nothing read since can be trusted. */
  clear(): void {
    for (const m of [this.byMessageId, this.tickets, this.people, this.ticketMessages, this.flags, this.recent]) m.clear();
  }

  async messagesByMessageId(messageId: string): Promise<StoredMessage[]> {
    const known = this.byMessageId.get(messageId);
    return known ? [...known] : this.db.messagesByMessageId(messageId);
  }

  async ticketExists(ticketId: number): Promise<boolean> {
    const known = this.tickets.get(ticketId);
    return known !== undefined ? known !== null : this.db.ticketExists(ticketId);
  }

  async ticketByMessageIds(ids: string[]): Promise<{ ticketId: number; messageId: string } | null> {
    const wanted = ids.slice(0, 100);
    if (!wanted.every((id) => this.byMessageId.has(id))) return this.db.ticketByMessageIds(ids);
    // As the database answers: for each id in order, the first stored message with it.
    for (const id of wanted) {
      const first = this.byMessageId.get(id)![0];
      if (first) return { ticketId: first.ticketId, messageId: first.messageId };
    }
    return null;
  }

  async ticket(id: number): Promise<Ticket | null> {
    const known = this.tickets.get(id);
    return known !== undefined ? known : this.db.ticket(id);
  }

  async participants(ticketId: number): Promise<Participants> {
    return this.people.get(ticketId) ?? this.db.participants(ticketId);
  }

  openTickets(departmentIds: string[] | null): Promise<Ticket[]> {
    return this.db.openTickets(departmentIds);
  }

  attachments(ticketId: number): Promise<StoredAttachment[]> {
    return this.db.attachments(ticketId);
  }

  async messages(ticketId: number): Promise<StoredMessage[]> {
    return this.ticketMessages.get(ticketId) ?? this.db.messages(ticketId);
  }

  async addressFlags(addresses: string[]): Promise<AddressFlag[]> {
    if (!addresses.every((a) => this.flags.has(a))) return this.db.addressFlags(addresses);
    return addresses.flatMap((a) => (this.flags.get(a) ? [this.flags.get(a)!] : []));
  }

  async recentMails(addresses: string[], events: string[], since: Date): Promise<Map<string, number>> {
    const covered =
      since >= this.recentSince && events.every((e) => this.recentEvents.includes(e)) && addresses.every((a) => this.recent.has(a));
    if (!covered) return this.db.recentMails(addresses, events, since);
    return new Map(addresses.map((a) => [a, this.recent.get(a)!.filter((r) => r.createdAt > since && events.includes(r.event)).length]));
  }
}
