import type { NotificationEvent } from "./types.js";

/**
 * An internal note, which the requester never sees. Goes to the assignee, or to the department's
 * members while nobody is assigned. Not automatic: it carries a person's own words.
 */
export const noteEvent: NotificationEvent<"note"> = {
  name: "note",
  audience: "assignee",
  automatic: false,
  description: "to the assignee (or department) when an internal note is added",
};
