import type { NotificationEvent } from "./types.js";

/**
 * The requester answered or added something. Goes to the assignee, or to the department's members
 * while nobody is assigned. Not automatic: it carries a person's own words.
 */
export const answerReceivedEvent: NotificationEvent<"answer-received"> = {
  name: "answer-received",
  audience: "assignee",
  automatic: false,
  description: "to the assignee (or department) when the requester writes to the ticket",
};
