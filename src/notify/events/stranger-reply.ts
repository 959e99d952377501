import type { NotificationEvent } from "./types.js";

/**
 * Someone who is not a participant wrote with a valid reference (a forwarded mail, a copied
 * subject). Their message is kept internal; the assignee (or the department) decides.
 */
export const strangerReplyEvent: NotificationEvent<"stranger-reply"> = {
  name: "stranger-reply",
  audience: "assignee",
  automatic: false,
  description: "to the assignee (or department) when a non-participant wrote to the ticket",
};
