import { PRIORITIES, URGENCIES, type Priority, type Urgency } from "./levels.js";

export interface Orderable {
  id: number;
  urgency: string;
  priority: string;
  dueDate: string | null;
  createdAt: Date | string;
}

/**
 * An agent's work order. Urgency first: a stopped system beats everything, because people
 * cannot work. Then priority: among equally urgent tickets, the business's weight decides.
 * Then the due date (earliest first; none last), then age (oldest first).
 */
export function compareWorkOrder(a: Orderable, b: Orderable): number {
  const u = URGENCIES.indexOf(b.urgency as Urgency) - URGENCIES.indexOf(a.urgency as Urgency);
  if (u) return u;
  const p = PRIORITIES.indexOf(b.priority as Priority) - PRIORITIES.indexOf(a.priority as Priority);
  if (p) return p;
  if (a.dueDate !== b.dueDate) {
    if (!a.dueDate) return 1;
    if (!b.dueDate) return -1;
    return a.dueDate < b.dueDate ? -1 : 1;
  }
  const age = new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime();
  return age || a.id - b.id;
}
