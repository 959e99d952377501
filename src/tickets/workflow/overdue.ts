import { Brackets, Not, type DataSource } from "typeorm";
import { Ticket, TicketEvent } from "../../db/entities.js";
import type { GatewayContext } from "../context.js";
import { sendEvent } from "./notify.js";
import { workers } from "./rules.js";

/** The calendar date (YYYY-MM-DD) of an instant, in the server's time zone: due dates are days. */
export function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * Tickets whose due date has passed (the day after it, server time) and are not resolved get one
 * overdue mail per `repeatHours`: to the assignee, or the department when nobody has it. The
 * conditional UPDATE claims the ticket first, so two runs (or two instances) never both send.
 */
export async function notifyOverdue(db: DataSource, ctx: GatewayContext, repeatHours: number): Promise<number> {
  const now = ctx.clock.now();
  const today = localDate(now);
  const cutoff = new Date(now.getTime() - repeatHours * 3600 * 1000);
  const due = await db.getRepository(Ticket).createQueryBuilder("t")
    .where({ status: Not("resolved") })
    .andWhere("t.dueDate IS NOT NULL AND t.dueDate < :today", { today })
    .andWhere(new Brackets((b) => b.where("t.lastOverdueNoticeAt IS NULL").orWhere("t.lastOverdueNoticeAt < :cutoff", { cutoff })))
    .orderBy("t.id", "ASC")
    .getMany();
  let sent = 0;
  for (const t of due) {
    await db.transaction(async (em) => {
      const claimed = await em.createQueryBuilder().update(Ticket).set({ lastOverdueNoticeAt: now })
        .where("id = :id", { id: t.id })
        // Quoted: PostgreSQL folds unquoted camelCase names to lower case.
        .andWhere(new Brackets((b) => b.where('"lastOverdueNoticeAt" IS NULL').orWhere('"lastOverdueNoticeAt" < :cutoff', { cutoff })))
        .execute();
      if ((claimed.affected ?? 0) !== 1) return;
      t.lastOverdueNoticeAt = now;
      const to = workers(ctx.directory, t);
      await sendEvent(em, ctx, t, { event: "overdue", to, actor: null, inReplyTo: null, references: [] });
      await em.save(em.create(TicketEvent, { ticketId: t.id, at: now, actor: null, action: "overdue", detail: `due ${t.dueDate}; told ${to.map((p) => p.address).join(", ") || "nobody"}` }));
      sent++;
    });
  }
  return sent;
}
