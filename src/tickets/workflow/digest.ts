import type { Ticket } from "../../db/entities.js";
import type { Person } from "../directory.js";
import type { OutboundFacts } from "../facts.js";
import { step } from "../trail.js";
import type { PlanEnv } from "./env.js";
import { languageOf, merge, planEvent } from "./notify.js";
import { localDate } from "../../mail/dates.js";
import { emptyPlan, type Plan } from "./plan.js";
import { queueLines } from "./queue.js";

/** The department a digest is for; without configured departments, every agent gets one of all tickets. */
export interface DigestScope {
  /** "*" for all tickets when no departments are configured. */
  id: string;
  members: Person[];
}

/** The slot a scheduled run belongs to (node-cron's matched time, to the second, UTC): every instance firing for it names the same period. */
export function digestPeriod(scheduled: Date): string {
  return scheduled.toISOString().slice(0, 19);
}

/**
 * One department's digest: the open tickets in work order (those waiting for the requester
 * apart), what is overdue (due before today) and what waits for the requester, to each member
 * in their language. Claimed by (period, department): a second instance writes nothing.
 * Nothing open, nothing sent.
 */
export function planDigest(env: PlanEnv, scope: DigestScope, tickets: Ticket[], facts: OutboundFacts, now: Date, period: string): Plan {
  const plan = emptyPlan("digest", "answered", []);
  plan.digestClaim = { period, departmentId: scope.id };
  const today = localDate(now);
  const overdue = tickets.filter((t) => t.dueDate !== null && t.dueDate < today);
  const waiting = tickets.filter((t) => t.status === "waiting");
  const open = tickets.filter((t) => t.status !== "waiting");
  if (tickets.length === 0) {
    plan.trail.push(step("notify", "none", `digest ${period} for ${scope.id}: no open tickets, nothing sent`));
    return plan;
  }
  const results = scope.members.map((m) => {
    const lang = languageOf(env.directory, null, m.address);
    const department =
      scope.id === "*"
        ? lang === "de"
          ? "allen Abteilungen"
          : "all departments"
        : (env.directory.departmentName(scope.id, lang) ?? scope.id);
    const data = {
      department,
      lines: queueLines(env, open, now, lang),
      overdue: queueLines(env, overdue, now, lang),
      waiting: queueLines(env, waiting, now, lang),
    };
    return planEvent(env, facts, null, { event: "digest", to: [m], actor: null, data });
  });
  const sent = merge(...results);
  plan.ticketless = sent.notifications;
  plan.trail.push(
    step(
      "notify",
      sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none",
      `digest ${period} for ${scope.id} (${open.length} open, ${overdue.length} overdue, ${waiting.length} waiting): ${sent.lines.join(", ") || "-"}`,
    ),
  );
  return plan;
}
