import { IsNull, Not, type EntityManager } from "typeorm";
import { AddressFlag, Attachment, MailReceipt, Message, Participant, Ticket } from "../db/entities.js";
import { FastSql } from "../db/fast-sql.js";
import type { ParticipantFact, StoredAttachment, StoredMessage, TicketReads } from "./facts.js";
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
    participants: Map<number, ParticipantFact[]>;
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
      const participants = new Map<number, ParticipantFact[]>();
      const messages = new Map<number, StoredMessage[]>();
      if (tickets.length) {
        const found = sql.list(tickets.map((t) => t.id));
        for (const p of await sql.select(Participant, sql.anyOf("ticketId"), [found], 'ORDER BY "id" ASC')) {
          participants.set(p.ticketId, [...(participants.get(p.ticketId) ?? []), participantFact(p)]);
        }
        for (const m of await sql.select(Message, sql.anyOf("ticketId"), [found], 'ORDER BY "id" ASC'))
          messages.set(m.ticketId, [...(messages.get(m.ticketId) ?? []), stored(m)]);
      }
      return { tickets, participants, messages };
    },
    recentMailRows: (addresses, events, since) => recentMailRows(sql, addresses, events, since),
    async messagesByMessageId(messageId) {
      return (await sql.select(Message, '"messageId" = ?', [messageId], 'ORDER BY "id" ASC')).map(stored);
    },
    ticket: async (id) => (await sql.select(Ticket, '"id" = ?', [id]))[0] ?? null,
    participants: async (ticketId) =>
      (await sql.select(Participant, '"ticketId" = ?', [ticketId], 'ORDER BY "id" ASC')).map(participantFact),
    async openTickets(departmentIds) {
      if (departmentIds && departmentIds.length === 0) return [];
      const where = { status: Not("resolved" as const), mergedIntoId: IsNull() };
      return em.find(Ticket, {
        where: departmentIds ? departmentIds.map((d) => ({ ...where, departmentId: d })) : where,
        order: { id: "ASC" },
        take: 1000,
      });
    },
    async messages(ticketId) {
      return (await sql.select(Message, '"ticketId" = ?', [ticketId], 'ORDER BY "id" ASC')).map(stored);
    },
    async attachments(ticketId) {
      const rows = await em
        .createQueryBuilder(Attachment, "a")
        .innerJoin(Message, "m", "m.id = a.messageRowId")
        .select([
          'a.messageRowId AS "messageRowId"',
          "m.visibility AS visibility",
          "a.filename AS filename",
          'a.contentType AS "contentType"',
          "a.size AS size",
          "a.sha256 AS sha256",
          "a.inline AS inline",
        ])
        .where("m.ticketId = :ticketId", { ticketId })
        .orderBy("a.id", "ASC")
        .getRawMany<Omit<StoredAttachment, "inline" | "size"> & { inline: unknown; size: unknown }>();
      // SQLite hands booleans back as 0/1, PostgreSQL integers of some drivers as strings.
      return rows.map((r) => ({ ...r, size: Number(r.size), inline: r.inline === true || r.inline === 1 || r.inline === "1" }));
    },
    async addressFlags(addresses) {
      return addresses.length ? sql.select(AddressFlag, sql.anyOf("address"), [sql.list(addresses)]) : [];
    },
    async recentMails(addresses, events, since) {
      const out = new Map<string, number>(addresses.map((a) => [a, 0]));
      for (const r of await recentMailRows(sql, addresses, events, since)) out.set(r.toAddress, (out.get(r.toAddress) ?? 0) + 1);
      return out;
    },
  };
}

export async function findReceipt(em: EntityManager, mailbox: string, uidValidity: number, uid: number): Promise<MailReceipt | null> {
  return (
    (await new FastSql(em).select(MailReceipt, '"mailbox" = ? AND "uidValidity" = ? AND "uid" = ?', [mailbox, uidValidity, uid]))[0] ?? null
  );
}

/** Mails of these events sent since `since`, one row per address of `addresses` in To or Cc. */
async function recentMailRows(
  sql: FastSql,
  addresses: string[],
  events: string[],
  since: Date,
): Promise<Array<{ toAddress: string; event: string; createdAt: Date }>> {
  if (addresses.length === 0) return [];
  const wanted = new Set(addresses);
  // A participant copied on a mail got it too: the limit is per address, To or Cc.
  const rows = await sql.run(
    `SELECT "toAddress", "ccAddresses", "event", "createdAt" FROM "outbox" WHERE "createdAt" > ? AND ${sql.anyOf("event")} AND (${sql.anyOf("toAddress")} OR "ccAddresses" IS NOT NULL)`,
    [sql.persistentDate(since), sql.list(events), sql.list(addresses)],
  );
  return rows.flatMap((r) => {
    const at = { event: String(r.event), createdAt: sql.hydratedDate(r.createdAt) };
    return [String(r.toAddress), ...ccOf(r.ccAddresses)].filter((a) => wanted.has(a)).map((toAddress) => ({ toAddress, ...at }));
  });
}

/** The addresses of an outbox row's ccAddresses (JSON written by us: [{address, name}]). */
function ccOf(value: unknown): string[] {
  if (typeof value !== "string" || value === "") return [];
  try {
    return (JSON.parse(value) as Array<{ address: string }>).map((c) => c.address.toLowerCase());
  } catch {
    return [];
  }
}

function participantFact(p: Participant): ParticipantFact {
  return { address: p.address, name: p.name, role: p.role, removedAt: p.removedAt };
}
