import type { NotificationEvent } from "./types.js";

/**
 * The requester learns the resolution and that a reply within reopenDays reopens the ticket.
 * Automatic: an RFC 3834 responder must not answer it, and any answer to it would reopen the ticket.
 */
export const resolvedEvent: NotificationEvent<"resolved"> = {
  name: "resolved",
  audience: "requester",
  automatic: true,
  description: "to the requester when the ticket is resolved",
};
