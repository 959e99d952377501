import type { DepartmentConfig } from "../config/schema.js";
import type { InboundMessage } from "../mail/types.js";
import type { Directory } from "./directory.js";

export interface RouteVerdict {
  department: DepartmentConfig | null;
  reasons: string[];
}

/**
 * Which department a new mail belongs to. The address it was sent to decides (To, then Cc, then
 * X-Original-To and Delivered-To, which name the envelope recipient when the headers do not);
 * the first department address found wins, so a mail to two departments makes one ticket. Mail
 * that reached only the general address goes to the `Department:` field line, else (for a late
 * reply to a closed ticket) the closed ticket's department, else the default.
 */
export function routeMail(
  msg: InboundMessage,
  dir: Directory,
  fieldDepartment?: string | null,
  relatedDepartment?: string | null,
): RouteVerdict {
  const reasons: string[] = [];
  const candidates = [...msg.to.map((a) => a.address), ...msg.cc.map((a) => a.address), ...msg.deliveredTo];
  const matched: DepartmentConfig[] = [];
  for (const address of candidates) {
    const hit = dir.departmentForAddress(address);
    if (hit?.department && !matched.includes(hit.department)) {
      matched.push(hit.department);
      reasons.push(`${address} routes to ${hit.department.id}`);
    }
  }
  if (matched.length > 0) {
    if (matched.length > 1) reasons.push(`sent to ${matched.length} departments: the first, ${matched[0].id}, takes it`);
    if (fieldDepartment) reasons.push(`Department: ${fieldDepartment} ignored: the address decides`);
    return { department: matched[0], reasons };
  }
  if (fieldDepartment) {
    const d = dir.department(fieldDepartment);
    if (d) return { department: d, reasons: [...reasons, `Department: ${fieldDepartment} field line names ${d.id}`] };
    reasons.push(`Department: ${fieldDepartment} names no department`);
  }
  if (relatedDepartment) {
    const d = dir.department(relatedDepartment);
    if (d) return { department: d, reasons: [...reasons, `late reply to a closed ticket of ${d.id}: the new ticket stays there`] };
  }
  const def = dir.defaultDepartment;
  reasons.push(def ? `general address: default department ${def.id}` : "no departments configured");
  return { department: def, reasons };
}
