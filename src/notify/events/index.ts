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
import type { NotificationEvent } from "./types.js";

export type { NotificationEvent } from "./types.js";

/** Every notification the gateway can send; each needs a template per language. */
export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [
  receivedEvent,
  newTicketEvent,
  takenEvent,
  assignedEvent,
  questionEvent,
  agentReplyEvent,
  answerReceivedEvent,
  noteEvent,
  resolvedEvent,
  reopenedEvent,
  overdueEvent,
  commandConfirmationEvent,
  commandErrorEvent,
  strangerReplyEvent,
  rejectedEvent,
];

export function eventByName(name: string): NotificationEvent {
  const ev = NOTIFICATION_EVENTS.find((e) => e.name === name);
  if (!ev) throw new Error(`unknown notification event ${name}`);
  return ev;
}
