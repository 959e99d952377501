import type { Ticket } from "../../db/entities.js";
import type { Directory, Person } from "../directory.js";
import type { Effects } from "./types.js";

/** An agent may work a ticket of their department, or one assigned to them. */
export function mayWork(dir: Directory, t: Ticket, actor: Person): string | null {
  if (t.assigneeAddress === actor.address) return null;
  if (dir.isMember(actor.address, t.departmentId)) return null;
  const dept = dir.department(t.departmentId);
  return `you are not a member of ${dept ? `department "${dept.id}" (${dept.name})` : "the ticket's department"} and the ticket is not assigned to you; a member can hand it to you with #assign ${actor.address}`;
}

export function requester(t: Pick<Ticket, "requesterAddress" | "requesterName">): Person {
  return { address: t.requesterAddress, name: t.requesterName };
}

export function assignee(dir: Directory, t: Pick<Ticket, "assigneeAddress">): Person | null {
  return t.assigneeAddress ? (dir.agent(t.assigneeAddress) ?? { address: t.assigneeAddress, name: null }) : null;
}

/** Who works the ticket: the assignee, else every member of its department. */
export function workers(dir: Directory, t: Pick<Ticket, "assigneeAddress" | "departmentId">): Person[] {
  const a = assignee(dir, t);
  return a ? [a] : dir.members(t.departmentId);
}

export function setStatus(t: Ticket, status: Ticket["status"], fx: Effects, now: Date): void {
  if (t.status === status) return;
  fx.events.push({ action: "status", detail: `${t.status} → ${status}` });
  t.status = status;
  if (status === "resolved") t.resolvedAt = now;
  else t.resolvedAt = null;
  fx.changes.push({ kind: "status", to: status });
}

export function setAssignee(t: Ticket, who: Person | null, fx: Effects): void {
  if (t.assigneeAddress === (who?.address ?? null)) return;
  fx.events.push({ action: "assignee", detail: `${t.assigneeAddress ?? "-"} → ${who?.address ?? "-"}` });
  t.assigneeAddress = who?.address ?? null;
  fx.changes.push({ kind: "assignee", to: who });
}

export function setDepartment(t: Ticket, id: string, fx: Effects): void {
  if (t.departmentId === id) return;
  fx.events.push({ action: "department", detail: `${t.departmentId ?? "-"} → ${id}` });
  t.departmentId = id;
  fx.changes.push({ kind: "department", to: id });
}
