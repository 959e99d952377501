/*
 * Priority and urgency are separate on purpose: priority says how much the business cares,
 * urgency how badly work is stopped right now. Together they order an agent's queue
 * (see workOrder in queue-order.ts and the README).
 */

export const PRIORITIES = ["low", "normal", "high", "critical"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Five levels, from a small change request (1) to the whole system being down (5). */
export const URGENCIES = ["change-request", "minor", "impaired", "blocked", "system-down"] as const;
export type Urgency = (typeof URGENCIES)[number];

export const PRIORITY_LABELS: Record<string, Record<Priority, string>> = {
  en: { low: "low", normal: "normal", high: "high", critical: "critical" },
  de: { low: "niedrig", normal: "normal", high: "hoch", critical: "kritisch" },
};

export const URGENCY_LABELS: Record<string, Record<Urgency, string>> = {
  en: {
    "change-request": "small change request",
    minor: "minor issue, work goes on",
    impaired: "work is impaired",
    blocked: "work is blocked",
    "system-down": "the whole system is down",
  },
  de: {
    "change-request": "kleiner Änderungswunsch",
    minor: "geringe Störung, Arbeit geht weiter",
    impaired: "Arbeit ist beeinträchtigt",
    blocked: "Arbeit ist blockiert",
    "system-down": "das gesamte System steht",
  },
};

export type TicketStatusName = "new" | "in_progress" | "waiting" | "resolved";
export const STATUS_LABELS: Record<string, Record<TicketStatusName, string>> = {
  en: { new: "new", in_progress: "in progress", waiting: "waiting for requester", resolved: "resolved" },
  de: { new: "neu", in_progress: "in Bearbeitung", waiting: "wartet auf Rückmeldung", resolved: "gelöst" },
};

export function urgencyLevel(u: Urgency): number {
  return URGENCIES.indexOf(u) + 1;
}

export function priorityLevel(p: Priority): number {
  return PRIORITIES.indexOf(p) + 1;
}
