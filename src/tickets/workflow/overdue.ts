import { Brackets, Not, type DataSource } from "typeorm";
import { Ticket } from "../../db/entities.js";
import { localDate } from "../../mail/dates.js";
import type { GatewayContext } from "../context.js";
import type { OutboundFacts } from "../facts.js";
import { persist } from "../persist.js";
import { ticketReads } from "../repository.js";
import { step } from "../trail.js";
import type { PlanEnv } from "./env.js";
import { planEvent } from "./notify.js";
import { emptyPlan, stateOf, type Plan } from "./plan.js";
import { workers } from "./rules.js";

/** One overdue notice for a ticket: to the assignee, or its department when nobody has it; the ticket is claimed for it. */
export function planOverdue(env: PlanEnv, t: Ticket, facts: OutboundFacts, now: Date, cutoff: Date): Plan {
  const before = stateOf(t);
  const to = workers(env.directory, t);
  const plan = emptyPlan("reply", "reply_added", []);
  plan.ticket = {
    id: t.id,
    state: { ...before, lastOverdueNoticeAt: now },
    patch: { lastOverdueNoticeAt: now },
    claimOverdueBefore: cutoff,
  };
  const sent = planEvent(env, facts, plan.ticket.state, { event: "overdue", to, actor: null, data: {} });
  plan.notifications = sent.notifications;
  plan.events.push({ action: "overdue", actor: null, detail: `due ${t.dueDate}; told ${to.map((p) => p.address).join(", ") || "nobody"}` });
  plan.trail.push(step("notify", sent.notifications.length ? "queued" : "none", sent.lines.join(", ") || "-"));
  return plan;
}

/**
 * Tickets whose due date has passed (the day after it, server time) and are not resolved get one
 * overdue mail per `repeatHours`: to the assignee, or the department when nobody has it. Each
 * ticket is claimed with a conditional update first, so two runs (or two instances) never both send.
 */
export async function notifyOverdue(db: DataSource, ctx: GatewayContext, repeatHours: number): Promise<number> {
  const now = ctx.clock.now();
  const today = localDate(now);
  const cutoff = new Date(now.getTime() - repeatHours * 3600 * 1000);
  const due = await db
    .getRepository(Ticket)
    .createQueryBuilder("t")
    .where({ status: Not("resolved") })
    .andWhere("t.dueDate IS NOT NULL AND t.dueDate < :today", { today })
    .andWhere(new Brackets((b) => b.where("t.lastOverdueNoticeAt IS NULL").orWhere("t.lastOverdueNoticeAt < :cutoff", { cutoff })))
    .orderBy("t.id", "ASC")
    .getMany();
  let sent = 0;
  for (const t of due) {
    const claimed = await db.transaction(async (em) => {
      const addresses = workers(ctx.directory, t).map((p) => p.address);
      const flags = new Map((await ticketReads(em).addressFlags(addresses)).map((f) => [f.address, f]));
      return (await persist(em, ctx, planOverdue(ctx, t, { flags, recentAnswers: new Map() }, now, cutoff), null, null)).claimed;
    });
    if (claimed) sent++;
  }
  return sent;
}
