import type { NotificationEvent } from "./types.js";

/**
 * The requester replied to a resolved ticket and it was reopened. Goes to the assignee, or to the
 * department's members while nobody is assigned. Not automatic: like answer-received it carries
 * the requester's own words.
 */
export const reopenedEvent: NotificationEvent<"reopened"> = {
  name: "reopened",
  audience: "assignee",
  automatic: false,
  description: "to the assignee (or department) when a reply reopens a resolved ticket",
};
