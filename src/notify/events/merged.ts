import type { NotificationEvent } from "./types.js";

/**
 * A ticket was merged into another (#merge): each requester is told once, under the tag of the
 * ticket that lives on, with their ticket's participants in copy.
 */
export const mergedEvent: NotificationEvent<"merged"> = {
  name: "merged",
  audience: "requester",
  automatic: true,
  description: "to both requesters when an agent merges one ticket into another",
};
