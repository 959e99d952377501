import type { NotificationEvent } from "./types.js";

/** The acknowledgement: the requester learns the ticket's reference. */
export const receivedEvent: NotificationEvent<"received"> = {
  name: "received",
  audience: "requester",
  automatic: true,
  answersInbound: true,
  description: "acknowledgement to the requester when a mail opens a ticket",
};
