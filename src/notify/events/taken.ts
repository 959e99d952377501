import type { NotificationEvent } from "./types.js";

/** The requester learns who handles the ticket now that an agent took it. */
export const takenEvent: NotificationEvent<"taken"> = {
  name: "taken",
  audience: "requester",
  automatic: true,
  description: "to the requester when an agent takes the ticket",
};
