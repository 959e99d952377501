import type { Ticket } from "../../db/entities.js";
import type { QueueLine } from "../../notify/events/index.js";
import { formatReference, formatTag } from "../../mail/subject.js";
import { PRIORITY_LABELS, STATUS_LABELS, URGENCY_LABELS, type Priority, type TicketStatusName, type Urgency } from "../levels.js";
import type { Person } from "../directory.js";
import type { MailFacts } from "../facts.js";
import { compareWorkOrder } from "../queue-order.js";
import { step } from "../trail.js";
import type { PlanEnv } from "./env.js";
import { languageOf, planEvent } from "./notify.js";
import { emptyPlan, type Plan } from "./plan.js";

const HOUR_MS = 3600_000;

/** How long a ticket has been open, in words of `lang`: hours for the first day, then days. */
export function ageText(ms: number, lang: string): string {
  const de = lang === "de";
  const hours = Math.max(0, Math.floor(ms / HOUR_MS));
  if (hours < 24) return de ? `${hours} ${hours === 1 ? "Stunde" : "Stunden"}` : `${hours} ${hours === 1 ? "hour" : "hours"}`;
  const days = Math.floor(hours / 24);
  return de ? `${days} ${days === 1 ? "Tag" : "Tage"}` : `${days} ${days === 1 ? "day" : "days"}`;
}

/**
 * A mailto: URL (RFC 6068) that takes the ticket: to the support address, the subject carrying
 * the ticket's tag (which threads it), the body "#take". One click and one send.
 */
export function takeUrl(supportAddress: string, tag: string, title: string): string {
  return `mailto:${supportAddress}?subject=${encodeURIComponent(`${tag} ${title}`)}&body=${encodeURIComponent("#take")}`;
}

function label<T extends string>(table: Record<string, Record<T, string>>, lang: string, v: string): string {
  return (table[lang] ?? table.en)[v as T] ?? v;
}

/** The tickets in an agent's work order (queue-order.ts), as lines in `lang`. */
export function queueLines(env: PlanEnv, tickets: Ticket[], now: Date, lang: string): QueueLine[] {
  return [...tickets].sort(compareWorkOrder).map((t) => {
    const tag = formatTag(env.tagFormat, t.id);
    const assignee = t.assigneeAddress ? (env.directory.agent(t.assigneeAddress) ?? { address: t.assigneeAddress, name: null }) : null;
    return {
      reference: formatReference(env.tagFormat, t.id),
      tag,
      title: t.title,
      statusLabel: label<TicketStatusName>(STATUS_LABELS, lang, t.status),
      priorityLabel: label<Priority>(PRIORITY_LABELS, lang, t.priority),
      urgencyLabel: label<Urgency>(URGENCY_LABELS, lang, t.urgency),
      dueDate: t.dueDate,
      assignee: assignee ? (assignee.name ?? assignee.address) : null,
      age: ageText(now.getTime() - t.createdAt.getTime(), lang),
      takeUrl: takeUrl(env.supportAddress, tag, t.title),
    };
  });
}

/** Is this mail an authenticated agent's #queue, alone? Then it is answered, and no ticket is made. */
export function isQueueRequest(f: MailFacts): boolean {
  return !f.ticket && f.queue !== null && !f.terminal && f.agentAuth?.ok === true;
}

/** #queue: the open tickets of the agent's departments, in work order, mailed back to the agent. */
export function planQueue(env: PlanEnv, f: MailFacts, agent: Person): Plan {
  const lang = languageOf(env.directory, null, agent.address);
  const departments = env.directory.departments.length
    ? env.directory.departmentsOf(agent.address).map((d) => env.directory.departmentName(d.id, lang) ?? d.id)
    : [];
  const lines = queueLines(env, f.queue ?? [], f.now, lang);
  const plan = emptyPlan("queue", "answered", [...f.trail, step("commands", "agent", `#queue; ${f.agentAuth?.reason ?? "-"}`)]);
  const sent = planEvent(env, f, null, { event: "queue", to: [agent], actor: agent, toActor: true, data: { departments, lines } });
  plan.ticketless = sent.notifications;
  plan.thread = { inReplyTo: f.msg.messageId, references: f.msg.references };
  plan.trail.push(
    step(
      "apply",
      "answered",
      `#queue: ${lines.length} open ticket(s) of ${departments.join(", ") || "all departments"} in work order: ${lines.map((l) => l.reference).join(", ") || "none"}`,
    ),
  );
  plan.trail.push(
    step("notify", sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none", sent.lines.join(", ") || "-"),
  );
  return plan;
}
