import type { NotificationEvent } from "./types.js";

/** A polite, one-time notice to the sender of a mail we could not take (too large). */
export const rejectedEvent: NotificationEvent<"rejected"> = {
  name: "rejected",
  audience: "requester",
  automatic: true,
  description: "to the sender of a mail that was too large to process (once)",
  ticketless: true,
  answersInbound: true,
};
