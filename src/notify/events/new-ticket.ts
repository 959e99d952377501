import type { NotificationEvent } from "./types.js";

/**
 * A new ticket for a department: its members get the summary and how to take it with #take.
 * Automatic: it goes to a whole group, whose vacation responders (RFC 3834) must not answer it.
 */
export const newTicketEvent: NotificationEvent<"new-ticket"> = {
  name: "new-ticket",
  audience: "department",
  automatic: true,
  description: "to the department's members when a new ticket arrives for them",
};
