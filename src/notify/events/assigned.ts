import type { NotificationEvent } from "./types.js";

/**
 * A ticket handed to someone (or to a department): summary, who handed it over and the history so
 * far.
 */
export const assignedEvent: NotificationEvent<"assigned"> = {
  name: "assigned",
  audience: "assignee",
  automatic: true,
  description: "to the new assignee (or department) when a ticket is handed to them",
};
