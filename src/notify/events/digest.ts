import type { NotificationEvent } from "./types.js";

/** The scheduled digest (digest.schedule) to each department's members: the queue, what is overdue, what waits. */
export const digestEvent: NotificationEvent<"digest"> = {
  name: "digest",
  audience: "department",
  automatic: true,
  description: "to each department's members on digest.schedule: the queue, the overdue tickets and those waiting for the requester",
  ticketless: true,
};
