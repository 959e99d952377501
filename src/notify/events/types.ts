/*
 * The closed vocabulary of notifications: every event by name, and for each the data its
 * templates get. A template that uses a field its event does not provide fails
 * test/notify/template-events.test.ts, not a customer's mail.
 */

/** Every notification the gateway can send; also the template file names (templates/<name>.<lang>.hbs). */
export type EventName =
  | "received"
  | "new-ticket"
  | "taken"
  | "assigned"
  | "question"
  | "agent-reply"
  | "answer-received"
  | "note"
  | "resolved"
  | "reopened"
  | "overdue"
  | "command-confirmation"
  | "command-error"
  | "stranger-reply"
  | "rejected"
  | "files"
  | "merged"
  | "queue"
  | "digest";

/** Events about no one ticket: their templates get no `ticket`. */
export type TicketlessEventName = "rejected" | "queue" | "digest";

export interface NotificationEvent<E extends EventName = EventName> {
  name: E;
  audience: "requester" | "assignee" | "department" | "agent";
  /** Sent by the gateway on its own: carries Auto-Submitted: auto-replied (RFC 3834). */
  automatic: boolean;
  description: string;
  /** Sent about a mail that made no ticket (its subject carries no tag). */
  ticketless?: boolean;
  /**
   * Sent in answer to an inbound mail with no person involved (the acknowledgement, the
   * too-large notice): the mails an autoresponder could keep bouncing back and forth, so they
   * count against the per-address limit.
   */
  answersInbound?: boolean;
}

export interface PersonView {
  address: string;
  name: string | null;
}

/** The ticket as every ticket mail shows it (labels in the recipient's language). */
export interface TicketView {
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
  /** YYYY-MM-DD */
  dueDate: string | null;
  department: { id: string; name: string } | null;
  assignee: PersonView | null;
  requester: PersonView;
  /** ISO 8601 */
  createdAt: string;
  relatedReference: string | null;
  reopenDays: number;
}

/** One earlier message of the ticket, for the mail that hands a ticket over. */
export interface HistoryEntry {
  /** "YYYY-MM-DD HH:MM", UTC */
  at: string;
  from: string;
  visibility: "public" | "internal";
  direction: "inbound" | "outbound";
  text: string;
}

export interface AttachmentView {
  filename: string;
  contentType: string;
  /** bytes */
  size: number;
}

/** A file a status mail carries or names. */
export interface FileView {
  filename: string;
  contentType: string;
  /** bytes */
  size: number;
  /** Content-ID of an image shown inline in the HTML part (`<img src="cid:…">`); null otherwise. */
  cid: string | null;
}

/**
 * The files of the mail(s) a status mail reports. Either all of them are attached (`attached`),
 * or, when together they exceed notify.maxAttachmentBytes (`limit`), none is and all are
 * `listed`, with `command` (#files / #dateien) for an agent to get them. A #files mail is one
 * `part` of several; its `listed` are single files larger than the limit.
 */
export interface FilesView {
  attached: FileView[];
  listed: FileView[];
  /** The reply command that mails the listed files (agents only); null for anyone else. */
  command: string | null;
  /** bytes */
  limit: number;
  part: { n: number; of: number } | null;
}

/** One ticket of a queue (#queue, digest), labels in the recipient's language. */
export interface QueueLine {
  reference: string;
  tag: string;
  title: string;
  statusLabel: string;
  priorityLabel: string;
  urgencyLabel: string;
  /** YYYY-MM-DD */
  dueDate: string | null;
  /** The assignee's name or address; null: nobody yet. */
  assignee: string | null;
  /** Since the ticket was opened, worded ("3 days", "5 Stunden"). */
  age: string;
  /** mailto: the support address, subject with the ticket's tag, body "#take": taking it is one click and one send. */
  takeUrl: string;
}

/** What every mail gets: language, gateway, recipient, and the files it carries (null: none). */
export interface BaseData {
  lang: string;
  gateway: { name: string; address: string };
  recipient: PersonView;
  files: FilesView | null;
}

/** What a person wrote, carried by the mail, and who wrote it. */
interface Words {
  actor: PersonView | null;
  text: string | null;
}

/** The data beyond BaseData and the ticket that each event's templates get. */
export interface EventData {
  received: Record<string, never>;
  /** `attachments`: the new mail's files, named when its text is empty. */
  "new-ticket": { attachments: AttachmentView[]; textEmpty: boolean };
  taken: Record<string, never>;
  assigned: Words & { history: HistoryEntry[] };
  question: Words;
  "agent-reply": Words;
  "answer-received": Words;
  note: Words;
  resolved: { text: string | null };
  reopened: Words;
  overdue: Record<string, never>;
  "command-confirmation": { changes: string[] };
  "command-error": { errors: string[]; commandHelp: string[] };
  "stranger-reply": Words;
  /** No ticket: `text` is the subject of the mail that was refused, `errors` why. */
  rejected: { text: string | null; errors: string[] };
  /** The answer to #files: the ticket's files, in one or more parts (BaseData.files). */
  files: Record<string, never>;
  /** `mergedReference`: the ticket that was folded into this mail's ticket. */
  merged: { mergedReference: string; mergedTitle: string };
  /** `departments`: names of the agent's departments (empty: all tickets). */
  queue: { departments: string[]; lines: QueueLine[] };
  digest: { department: string; lines: QueueLine[]; overdue: QueueLine[]; waiting: QueueLine[] };
}

/** The whole object a template of event E is rendered with. */
export type TemplateData<E extends EventName> = E extends TicketlessEventName
  ? BaseData & EventData[E]
  : BaseData & { ticket: TicketView } & EventData[E];
