import type { EntityManager } from "typeorm";
import { AddressFlag, MailReceipt, Message, Participant, Ticket } from "../db/entities.js";
import { FastSql } from "../db/fast-sql.js";
import type { StoredMessage, TicketReads } from "./facts.js";
import type { ThreadLookup } from "./thread.js";

/*
 * What planning reads, as plain parameterised statements (FastSql): their text never changes, so
 * SQLite and PostgreSQL prepare each once, and no query builder runs per mail.
 */

export function stored(m: Message): StoredMessage {
  let to: string[] = [];
  try {
    to = JSON.parse(m.toAddresses) as string[];
  } catch {
    // Rows are written by us as JSON; an unreadable one names nobody.
  }
  return {
    id: m.id,
    ticketId: m.ticketId,
    messageId: m.messageId,
    fingerprint: m.fingerprint,
    direction: m.direction,
    visibility: m.visibility,
    fromAddress: m.fromAddress,
    toAddresses: to,
    text: m.text,
    createdAt: m.createdAt,
  };
}

/** Threading lookups against the database, inside whatever transaction the manager belongs to. */
export function threadLookup(em: EntityManager): ThreadLookup {
  const sql = new FastSql(em);
  return {
    async ticketExists(ticketId) {
      return (await sql.run('SELECT 1 AS "one" FROM "ticket" WHERE "id" = ?', [ticketId])).length > 0;
    },
    async ticketByMessageIds(ids) {
      if (ids.length === 0) return null;
      // A Message-ID that two different mails reused names the ticket of the first one stored.
      const rows = await sql.run(`SELECT "id", "messageId", "ticketId" FROM "message" WHERE ${sql.anyOf("messageId")} ORDER BY "id" ASC`, [
        sql.list(ids.slice(0, 100)),
      ]);
      for (const id of ids) {
        const row = rows.find((r) => r.messageId === id);
        if (row) return { ticketId: Number(row.ticketId), messageId: String(row.messageId) };
      }
      return null;
    },
  };
}

/** Planning's reads plus the bulk reads a batch shares (batch-reads.ts). */
export interface DbReads extends TicketReads {
  /** Stored messages with any of these Message-IDs, oldest first. */
  messagesByMessageIds(ids: string[]): Promise<StoredMessage[]>;
  /** Tickets with their participants and messages (oldest first), by ticket id. */
  ticketsWithPeople(ids: number[]): Promise<{
    tickets: Ticket[];
    participants: Map<number, Array<{ address: string; name: string | null; role: Participant["role"] }>>;
    messages: Map<number, StoredMessage[]>;
  }>;
  /** Outbox rows of these events to these addresses since `since` (for the per-address limit). */
  recentMailRows(addresses: string[], events: string[], since: Date): Promise<Array<{ toAddress: string; event: string; createdAt: Date }>>;
}

/** Everything planning reads, through one manager: processMail's transaction, or inspect's read-only one. */
export function ticketReads(em: EntityManager): DbReads {
  const sql = new FastSql(em);
  return {
    ...threadLookup(em),
    async messagesByMessageIds(ids) {
      return ids.length ? (await sql.select(Message, sql.anyOf("messageId"), [sql.list(ids)], 'ORDER BY "id" ASC')).map(stored) : [];
    },
    async ticketsWithPeople(ids) {
      const tickets = ids.length ? await sql.select(Ticket, sql.anyOf("id"), [sql.list(ids)]) : [];
      const participants = new Map<number, Array<{ address: string; name: string | null; role: Participant["role"] }>>();
      const messages = new Map<number, StoredMessage[]>();
      if (tickets.length) {
        const found = sql.list(tickets.map((t) => t.id));
        for (const p of await sql.select(Participant, sql.anyOf("ticketId"), [found], 'ORDER BY "id" ASC')) {
          participants.set(p.ticketId, [...(participants.get(p.ticketId) ?? []), { address: p.address, name: p.name, role: p.role }]);
        }
        for (const m of await sql.select(Message, sql.anyOf("ticketId"), [found], 'ORDER BY "id" ASC'))
          messages.set(m.ticketId, [...(messages.get(m.ticketId) ?? []), stored(m)]);
      }
      return { tickets, participants, messages };
    },
    async recentMailRows(addresses, events, since) {
      if (addresses.length === 0) return [];
      const rows = await sql.run(
        `SELECT "toAddress", "event", "createdAt" FROM "outbox" WHERE ${sql.anyOf("toAddress")} AND "createdAt" > ? AND ${sql.anyOf("event")}`,
        [sql.list(addresses), sql.persistentDate(since), sql.list(events)],
      );
      return rows.map((r) => ({ toAddress: String(r.toAddress), event: String(r.event), createdAt: sql.hydratedDate(r.createdAt) }));
    },
    async messagesByMessageId(messageId) {
      return (await sql.select(Message, '"messageId" = ?', [messageId], 'ORDER BY "id" ASC')).map(stored);
    },
    ticket: async (id) => (await sql.select(Ticket, '"id" = ?', [id]))[0] ?? null,
    participants: async (ticketId) =>
      (await sql.select(Participant, '"ticketId" = ?', [ticketId], 'ORDER BY "id" ASC')).map((p) => ({
        address: p.address,
        name: p.name,
        role: p.role,
      })),
    async messages(ticketId) {
      return (await sql.select(Message, '"ticketId" = ?', [ticketId], 'ORDER BY "id" ASC')).map(stored);
    },
    async addressFlags(addresses) {
      return addresses.length ? sql.select(AddressFlag, sql.anyOf("address"), [sql.list(addresses)]) : [];
    },
    async recentMails(addresses, events, since) {
      const out = new Map<string, number>(addresses.map((a) => [a, 0]));
      if (addresses.length === 0) return out;
      const rows = await sql.run(
        `SELECT "toAddress", COUNT(*) AS "n" FROM "outbox" WHERE ${sql.anyOf("toAddress")} AND "createdAt" > ? AND ${sql.anyOf("event")} GROUP BY "toAddress"`,
        [sql.list(addresses), sql.persistentDate(since), sql.list(events)],
      );
      for (const r of rows) out.set(String(r.toAddress), Number(r.n));
      return out;
    },
  };
}

export async function findReceipt(em: EntityManager, mailbox: string, uidValidity: number, uid: number): Promise<MailReceipt | null> {
  return (
    (await new FastSql(em).select(MailReceipt, '"mailbox" = ? AND "uidValidity" = ? AND "uid" = ?', [mailbox, uidValidity, uid]))[0] ?? null
  );
}
