import { formatReference, formatTag } from "../../src/mail/subject.js";
import {
  eventByName,
  type EventData,
  type EventName,
  type FilesView,
  type QueueLine,
  type TemplateData,
} from "../../src/notify/events/index.js";
import { PRIORITY_LABELS, STATUS_LABELS, URGENCY_LABELS } from "../../src/tickets/levels.js";

/*
 * The data of every status mail, exactly as each event's contract (src/notify/events/types.ts)
 * gives it: full (every field set, every {{#if}} taken), sparse (nulls and empty lists: every
 * {{else}}) and hostile (what a person could write, aimed at our templates and headers).
 */

export type Lang = "en" | "de";
interface Person {
  address: string;
  name: string | null;
}
interface HistoryEntry {
  at: string;
  from: string;
  visibility: "public" | "internal";
  direction: "inbound" | "outbound";
  text: string;
}
/** Every field any event provides; eventData() takes what one event gets. */
export interface NotificationData {
  lang: Lang;
  gateway: { name: string; address: string };
  recipient: Person;
  ticket: {
    id: number;
    reference: string;
    tag: string;
    title: string;
    description: string;
    status: string;
    statusLabel: string;
    priority: string;
    priorityLabel: string;
    urgency: string;
    urgencyLabel: string;
    dueDate: string | null;
    department: { id: string; name: string } | null;
    assignee: Person | null;
    requester: Person;
    createdAt: string;
    relatedReference: string | null;
    reopenDays: number;
  };
  actor: Person | null;
  text: string | null;
  history: HistoryEntry[];
  changes: string[];
  errors: string[];
  commandHelp: string[];
  attachments: Array<{ filename: string; contentType: string; size: number }>;
  textEmpty: boolean;
  files: FilesView | null;
  mergedReference: string;
  mergedTitle: string;
  departments: string[];
  department: string;
  lines: QueueLine[];
  overdue: QueueLine[];
  waiting: QueueLine[];
}

/** Per event, the fields of its contract, from the superset: the type makes the list exact. */
const EXTRAS: { [E in EventName]: (d: NotificationData) => EventData[E] } = {
  received: () => ({}),
  "new-ticket": (d) => ({ attachments: d.attachments, textEmpty: d.textEmpty }),
  taken: () => ({}),
  assigned: (d) => ({ actor: d.actor, text: d.text, history: d.history }),
  question: (d) => ({ actor: d.actor, text: d.text }),
  "agent-reply": (d) => ({ actor: d.actor, text: d.text }),
  "answer-received": (d) => ({ actor: d.actor, text: d.text }),
  note: (d) => ({ actor: d.actor, text: d.text }),
  resolved: (d) => ({ text: d.text }),
  reopened: (d) => ({ actor: d.actor, text: d.text }),
  overdue: () => ({}),
  "command-confirmation": (d) => ({ changes: d.changes }),
  "command-error": (d) => ({ errors: d.errors, commandHelp: d.commandHelp }),
  "stranger-reply": (d) => ({ actor: d.actor, text: d.text }),
  rejected: (d) => ({ text: d.text, errors: d.errors }),
  files: () => ({}),
  merged: (d) => ({ mergedReference: d.mergedReference, mergedTitle: d.mergedTitle }),
  queue: (d) => ({ departments: d.departments, lines: d.lines }),
  digest: (d) => ({ department: d.department, lines: d.lines, overdue: d.overdue, waiting: d.waiting }),
};

/** Exactly the data event `name` is rendered with. */
export function eventData(name: string, d: NotificationData): TemplateData<EventName> {
  const event = eventByName(name);
  const base = { lang: d.lang, gateway: d.gateway, recipient: d.recipient, files: d.files };
  return (
    event.ticketless ? { ...base, ...EXTRAS[event.name](d) } : { ...base, ticket: d.ticket, ...EXTRAS[event.name](d) }
  ) as TemplateData<EventName>;
}

export const FORMAT = { prefix: "T" };
export const TAG = formatTag(FORMAT, 42);
export const LANGS: Lang[] = ["en", "de"];

export const REQUESTER: Person = { address: "anna@customer.example.org", name: "Anna Berg" };
export const AGENT: Person = { address: "jonas@example.net", name: "Jonas Weber" };
export const COLLEAGUE: Person = { address: "lena@example.net", name: "Lena Koch" };

/** Every field filled, for ticket T-42, as the event's recipient gets it. */
export function fullData(lang: Lang, event = "received"): NotificationData {
  const requester = REQUESTER;
  const agent = AGENT;
  const audience = eventByName(event).audience;
  const actor = ["answer-received", "reopened"].includes(event) ? requester : audience === "requester" ? agent : COLLEAGUE;
  return {
    lang,
    gateway: { name: "ACME Support", address: "support@example.net" },
    recipient: audience === "requester" ? requester : agent,
    ticket: {
      id: 42,
      reference: formatReference(FORMAT, 42),
      tag: TAG,
      title: "Printer on floor 3 is jammed",
      description: "The printer shows error E-17.\nIt started this morning.",
      status: "in_progress",
      statusLabel: STATUS_LABELS[lang].in_progress,
      priority: "high",
      priorityLabel: PRIORITY_LABELS[lang].high,
      urgency: "blocked",
      urgencyLabel: URGENCY_LABELS[lang].blocked,
      dueDate: "2026-12-03",
      department: { id: "it", name: lang === "de" ? "IT-Service" : "IT Service" },
      assignee: agent,
      requester,
      createdAt: "2026-12-01T08:15:00.000Z",
      relatedReference: "T-17",
      reopenDays: 14,
    },
    actor,
    text: "Which model is it exactly?\nA photo of the display would help.",
    history: [
      { at: "2026-12-01 09:15", from: "Anna Berg", visibility: "public", direction: "inbound", text: "First entry: E-17 on the display." },
      {
        at: "2026-12-01 10:02",
        from: "Jonas Weber",
        visibility: "internal",
        direction: "inbound",
        text: "Second entry: spare part ordered.",
      },
    ],
    changes: lang === "de" ? ["Status: in Bearbeitung", "Priorität: hoch"] : ["Status: in progress", "Priority: high"],
    errors: lang === "de" ? ["Unbekannter Befehl #tkae"] : ["Unknown command #tkae"],
    commandHelp:
      lang === "de"
        ? ["#übernehmen – Ticket übernehmen", "#erledigt – Ticket abschließen"]
        : ["#take – take the ticket", "#resolve – resolve the ticket"],
    attachments: [{ filename: "scan.pdf", contentType: "application/pdf", size: 48213 }],
    textEmpty: true,
    files: {
      attached: [
        { filename: "display.png", contentType: "image/png", size: 20_480, cid: "file1.0123456789abcdef@ticketpost" },
        { filename: "scan.pdf", contentType: "application/pdf", size: 48_213, cid: null },
      ],
      listed: [{ filename: "trace.zip", contentType: "application/zip", size: 31_457_280, cid: null }],
      command: audience === "requester" ? null : lang === "de" ? "#dateien" : "#files",
      limit: 10_485_760,
      part: event === "files" ? { n: 1, of: 2 } : null,
    },
    mergedReference: "T-17",
    mergedTitle: "Printer jammed again",
    departments: [lang === "de" ? "IT-Service" : "IT Service"],
    department: lang === "de" ? "IT-Service" : "IT Service",
    lines: [queueLine(lang, "Printer on floor 3 is jammed", "Jonas Weber"), queueLine(lang, "VPN drops every hour", null)],
    overdue: [queueLine(lang, "Printer on floor 3 is jammed", "Jonas Weber")],
    waiting: [queueLine(lang, "VPN drops every hour", null)],
  };
}

function queueLine(lang: Lang, title: string, assignee: string | null): QueueLine {
  return {
    reference: "T-42",
    tag: TAG,
    title,
    statusLabel: STATUS_LABELS[lang].in_progress,
    priorityLabel: PRIORITY_LABELS[lang].high,
    urgencyLabel: URGENCY_LABELS[lang].blocked,
    dueDate: assignee ? "2026-12-03" : null,
    assignee,
    age: lang === "de" ? "3 Tage" : "3 days",
    takeUrl: `mailto:support@example.net?subject=${encodeURIComponent(`${TAG} ${title}`)}&body=%23take`,
  };
}

/** Every nullable field null and every list empty. */
export function sparseData(lang: Lang, event = "received"): NotificationData {
  const d = fullData(lang, event);
  return {
    ...d,
    recipient: { address: d.recipient.address, name: null },
    ticket: {
      ...d.ticket,
      description: "",
      dueDate: null,
      department: null,
      assignee: null,
      requester: { address: "anna@customer.example.org", name: null },
      relatedReference: null,
    },
    actor: null,
    text: null,
    history: [],
    changes: [],
    errors: [],
    commandHelp: [],
    attachments: [],
    textEmpty: false,
    files: null,
    departments: [],
    lines: [],
    overdue: [],
    waiting: [],
  };
}

/** What a requester or agent could write, aimed at our templates and headers. */
export const HOSTILE = "Printer {{evil}}\r\nBcc: x@y";

export function hostileData(lang: Lang, event = "received"): NotificationData {
  const d = fullData(lang, event);
  return {
    ...d,
    ticket: { ...d.ticket, title: HOSTILE, description: HOSTILE },
    text: HOSTILE,
    mergedTitle: HOSTILE,
    lines: d.lines.map((l) => ({ ...l, title: HOSTILE })),
    overdue: d.overdue.map((l) => ({ ...l, title: HOSTILE })),
    waiting: d.waiting.map((l) => ({ ...l, title: HOSTILE })),
    history: d.history.map((h) => ({ ...h, text: HOSTILE })),
  };
}
