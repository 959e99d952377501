import type { NotificationEvent } from "./types.js";

/**
 * The due date passed. Goes to the assignee, or to the department's members while nobody is
 * assigned.
 */
export const overdueEvent: NotificationEvent<"overdue"> = {
  name: "overdue",
  audience: "assignee",
  automatic: true,
  description: "to the assignee (or department) when the due date has passed",
};
