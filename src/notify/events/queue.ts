import type { NotificationEvent } from "./types.js";

/** The answer to an agent's #queue: their departments' open tickets in work order, each with a Take link. */
export const queueEvent: NotificationEvent<"queue"> = {
  name: "queue",
  audience: "agent",
  automatic: true,
  description: "to an agent who sent #queue: the open tickets of their departments in work order",
  ticketless: true,
};
