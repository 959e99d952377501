import { COMMAND_HELP } from "../mail/commands.js";
import { formatReference, formatTag, type TicketTagFormat } from "../mail/subject.js";
import type { Directory } from "../tickets/directory.js";
import { PRIORITY_LABELS, STATUS_LABELS, URGENCY_LABELS, type Priority, type TicketStatusName, type Urgency } from "../tickets/levels.js";
import type { PlannedNotification, TicketState } from "../tickets/workflow/plan.js";
import { describeChange } from "./change-text.js";
import { filesView } from "./files-view.js";
import type { BaseData, EventName, TemplateData, TicketView } from "./events/types.js";

/** What the data of a mail is made from, besides the plan. */
export interface TemplateEnv {
  directory: Directory;
  tagFormat: TicketTagFormat;
  gatewayName: string;
  supportAddress: string;
  reopenDays: number;
}

function label<T extends string>(table: Record<string, Record<T, string>>, lang: string, v: string): string {
  return (table[lang] ?? table.en)[v as T] ?? v;
}

/** The ticket as its mails show it, with labels in `lang`. */
export function ticketView(env: TemplateEnv, t: TicketState & { id: number }, lang: string): TicketView {
  const dir = env.directory;
  const dept = dir.department(t.departmentId);
  const assignee = t.assigneeAddress ? (dir.agent(t.assigneeAddress) ?? { address: t.assigneeAddress, name: null }) : null;
  return {
    id: t.id,
    reference: formatReference(env.tagFormat, t.id),
    tag: formatTag(env.tagFormat, t.id),
    title: t.title,
    description: t.description,
    status: t.status,
    statusLabel: label<TicketStatusName>(STATUS_LABELS, lang, t.status),
    priority: t.priority,
    priorityLabel: label<Priority>(PRIORITY_LABELS, lang, t.priority),
    urgency: t.urgency,
    urgencyLabel: label<Urgency>(URGENCY_LABELS, lang, t.urgency),
    dueDate: t.dueDate,
    department: dept ? { id: dept.id, name: dir.departmentName(dept.id, lang)! } : null,
    assignee,
    requester: { address: t.requesterAddress, name: t.requesterName },
    createdAt: t.createdAt.toISOString(),
    relatedReference: t.relatedTicketId ? formatReference(env.tagFormat, t.relatedTicketId) : null,
    reopenDays: env.reopenDays,
  };
}

/** The valid commands, in the agent's language, for the mail that says a command failed. */
export function commandHelp(lang: string): string[] {
  return COMMAND_HELP.map((h) => `${[...(lang === "de" ? h.de : h.en)].join(" / ")} ${h.args}`.trim() + ` — ${h.description}`);
}

/** The whole data a planned mail is rendered with; `t` is null only for a ticketless notice. */
export function templateData(env: TemplateEnv, n: PlannedNotification, t: (TicketState & { id: number }) | null): TemplateData<EventName> {
  const base: BaseData = {
    lang: n.language,
    gateway: { name: env.gatewayName, address: env.supportAddress },
    recipient: n.to,
    files: filesView(n.files),
  };
  if (n.event === "rejected" || n.event === "queue" || n.event === "digest") return { ...base, ...n.data } as TemplateData<EventName>;
  if (!t) throw new Error(`notification ${n.event} needs a ticket`);
  const ticket = ticketView(env, t, n.language);
  const deptName = (id: string) => env.directory.departmentName(id, n.language) ?? id;
  switch (n.event) {
    case "command-confirmation":
      return { ...base, ticket, changes: n.data.changes.map((c) => describeChange(c, n.language, deptName, ticket.reference)) };
    case "command-error":
      return { ...base, ticket, errors: n.data.errors, commandHelp: commandHelp(n.language) };
    default:
      return { ...base, ticket, ...n.data } as TemplateData<EventName>;
  }
}
