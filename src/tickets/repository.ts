import { In, IsNull, MoreThan, Not, type EntityManager } from "typeorm";
import { AddressFlag, Attachment, MailReceipt, Message, OutboxMail, Participant, Ticket } from "../db/entities.js";
import type { StoredAttachment, StoredMessage, TicketReads } from "./facts.js";
import type { ThreadLookup } from "./thread.js";

function stored(m: Message): StoredMessage {
  let to: string[] = [];
  try {
    to = JSON.parse(m.toAddresses) as string[];
  } catch {
    // Rows are written by us as JSON; an unreadable one names nobody.
  }
  return { id: m.id, ticketId: m.ticketId, messageId: m.messageId, fingerprint: m.fingerprint, direction: m.direction, visibility: m.visibility, fromAddress: m.fromAddress, toAddresses: to, text: m.text, createdAt: m.createdAt };
}

/** Threading lookups against the database, inside whatever transaction the manager belongs to. */
export function threadLookup(em: EntityManager): ThreadLookup {
  return {
    async ticketExists(ticketId) {
      return (await em.count(Ticket, { where: { id: ticketId } })) > 0;
    },
    async ticketByMessageIds(ids) {
      if (ids.length === 0) return null;
      // A Message-ID that two different mails reused names the ticket of the first one stored.
      const rows = await em.find(Message, { where: { messageId: In(ids.slice(0, 100)) }, select: { id: true, messageId: true, ticketId: true }, order: { id: "ASC" } });
      for (const id of ids) {
        const row = rows.find((r) => r.messageId === id);
        if (row) return { ticketId: row.ticketId, messageId: row.messageId };
      }
      return null;
    },
  };
}

/** Everything planning reads, through one manager: processMail's transaction, or inspect's read-only one. */
export function ticketReads(em: EntityManager): TicketReads {
  return {
    ...threadLookup(em),
    async messagesByMessageId(messageId) {
      return (await em.find(Message, { where: { messageId }, order: { id: "ASC" } })).map(stored);
    },
    ticket: (id) => em.findOne(Ticket, { where: { id } }),
    participants: (ticketId) => em.find(Participant, { where: { ticketId }, order: { id: "ASC" }, select: { address: true, name: true, role: true, removedAt: true } }),
    async openTickets(departmentIds) {
      if (departmentIds && departmentIds.length === 0) return [];
      const where = { status: Not("resolved" as const), mergedIntoId: IsNull() };
      return em.find(Ticket, { where: departmentIds ? departmentIds.map((d) => ({ ...where, departmentId: d })) : where, order: { id: "ASC" }, take: 1000 });
    },
    async messages(ticketId) {
      return (await em.find(Message, { where: { ticketId }, order: { id: "ASC" } })).map(stored);
    },
    async attachments(ticketId) {
      const rows = await em.createQueryBuilder(Attachment, "a").innerJoin(Message, "m", "m.id = a.messageRowId")
        .select(["a.messageRowId AS \"messageRowId\"", "m.visibility AS visibility", "a.filename AS filename", "a.contentType AS \"contentType\"", "a.size AS size", "a.sha256 AS sha256", "a.inline AS inline"])
        .where("m.ticketId = :ticketId", { ticketId }).orderBy("a.id", "ASC").getRawMany<Omit<StoredAttachment, "inline" | "size"> & { inline: unknown; size: unknown }>();
      // SQLite hands booleans back as 0/1, PostgreSQL integers of some drivers as strings.
      return rows.map((r) => ({ ...r, size: Number(r.size), inline: r.inline === true || r.inline === 1 || r.inline === "1" }));
    },
    async addressFlags(addresses) {
      return addresses.length ? em.find(AddressFlag, { where: { address: In(addresses) } }) : [];
    },
    async recentMails(addresses, events, since) {
      const out = new Map<string, number>();
      // A participant copied on a mail got it too: the limit is per address, To or Cc.
      for (const address of addresses) {
        const to = await em.count(OutboxMail, { where: { toAddress: address, createdAt: MoreThan(since), event: In(events) } });
        const like = `%${JSON.stringify(address).replace(/[\\%_]/g, "\\$&")}%`;
        const cc = await em.getRepository(OutboxMail).createQueryBuilder("o")
          .where("o.createdAt > :since AND o.event IN (:...events) AND o.ccAddresses IS NOT NULL", { since, events })
          .andWhere("o.ccAddresses LIKE :like ESCAPE '\\'", { like })
          .getCount();
        const n = to + cc;
        out.set(address, n);
      }
      return out;
    },
  };
}

export async function findReceipt(em: EntityManager, mailbox: string, uidValidity: number, uid: number): Promise<MailReceipt | null> {
  return em.findOne(MailReceipt, { where: { mailbox, uidValidity, uid } });
}
