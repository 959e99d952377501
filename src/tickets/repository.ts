import { In, type EntityManager } from "typeorm";
import { MailReceipt, Message, Ticket } from "../db/entities.js";
import type { ThreadLookup } from "./thread.js";

/** Threading lookups against the database, inside whatever transaction the manager belongs to. */
export function threadLookup(em: EntityManager): ThreadLookup {
  return {
    async ticketExists(ticketId) {
      return (await em.count(Ticket, { where: { id: ticketId } })) > 0;
    },
    async ticketByMessageIds(ids) {
      if (ids.length === 0) return null;
      const rows = await em.find(Message, { where: { messageId: In(ids.slice(0, 100)) }, select: { messageId: true, ticketId: true } });
      for (const id of ids) {
        const row = rows.find((r) => r.messageId === id);
        if (row) return { ticketId: row.ticketId, messageId: row.messageId };
      }
      return null;
    },
  };
}

export async function findReceipt(em: EntityManager, mailbox: string, uidValidity: number, uid: number): Promise<MailReceipt | null> {
  return em.findOne(MailReceipt, { where: { mailbox, uidValidity, uid } });
}
