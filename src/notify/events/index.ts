import { agentReplyEvent } from "./agent-reply.js";
import { answerReceivedEvent } from "./answer-received.js";
import { assignedEvent } from "./assigned.js";
import { commandConfirmationEvent } from "./command-confirmation.js";
import { commandErrorEvent } from "./command-error.js";
import { newTicketEvent } from "./new-ticket.js";
import { noteEvent } from "./note.js";
import { overdueEvent } from "./overdue.js";
import { questionEvent } from "./question.js";
import { receivedEvent } from "./received.js";
import { reopenedEvent } from "./reopened.js";
import { resolvedEvent } from "./resolved.js";
import { takenEvent } from "./taken.js";
import { strangerReplyEvent } from "./stranger-reply.js";
import { rejectedEvent } from "./rejected.js";
import { filesEvent } from "./files.js";
import { mergedEvent } from "./merged.js";
import { queueEvent } from "./queue.js";
import { digestEvent } from "./digest.js";
import type { EventName, NotificationEvent } from "./types.js";

export type {
  EventData,
  EventName,
  FilesView,
  FileView,
  NotificationEvent,
  QueueLine,
  TemplateData,
  TicketlessEventName,
} from "./types.js";

/** Every notification the gateway can send, by name: the type makes the list complete. */
export const EVENTS: { readonly [E in EventName]: NotificationEvent<E> } = {
  received: receivedEvent,
  "new-ticket": newTicketEvent,
  taken: takenEvent,
  assigned: assignedEvent,
  question: questionEvent,
  "agent-reply": agentReplyEvent,
  "answer-received": answerReceivedEvent,
  note: noteEvent,
  resolved: resolvedEvent,
  reopened: reopenedEvent,
  overdue: overdueEvent,
  "command-confirmation": commandConfirmationEvent,
  "command-error": commandErrorEvent,
  "stranger-reply": strangerReplyEvent,
  rejected: rejectedEvent,
  files: filesEvent,
  merged: mergedEvent,
  queue: queueEvent,
  digest: digestEvent,
};

/** The same events as a list; each needs a template per language. */
export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = Object.values(EVENTS);

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(EVENTS, name);
}

/** The event of a stored outbox row (its name is a string in the database). */
export function eventByName(name: string): NotificationEvent {
  if (!isEventName(name)) throw new Error(`unknown notification event ${name}`);
  return EVENTS[name];
}
