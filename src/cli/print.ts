import type { listFailedMails, showTicket, TicketSummary } from "../tickets/queries.js";

/** Human-readable output of the CLI; --json prints the same objects as JSON instead. */

function pad(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + "…" : s.padEnd(n);
}

export function printTicketList(list: TicketSummary[]): string {
  if (list.length === 0) return "no tickets\n";
  const lines = [
    `${pad("TICKET", 8)} ${pad("STATUS", 11)} ${pad("DEPT", 10)} ${pad("URGENCY", 14)} ${pad("PRIO", 8)} ${pad("DUE", 11)} ${pad("ASSIGNEE", 22)} ${pad("REQUESTER", 24)} TITLE`,
  ];
  for (const t of list) {
    const due = t.dueDate ? (t.overdue ? `${t.dueDate}!` : t.dueDate) : "-";
    lines.push(
      `${pad(t.reference, 8)} ${pad(t.status, 11)} ${pad(t.department ?? "-", 10)} ${pad(t.urgency, 14)} ${pad(t.priority, 8)} ${pad(due, 11)} ${pad(t.assignee ?? "-", 22)} ${pad(t.requester, 24)} ${t.title}`,
    );
  }
  return lines.join("\n") + `\n${list.length} ticket(s)\n`;
}

export function printTicket(t: NonNullable<Awaited<ReturnType<typeof showTicket>>>): string {
  const out = [
    `${t.reference}  ${t.title}`,
    `status:       ${t.status}${t.resolution ? ` (resolution: ${t.resolution.split("\n")[0]})` : ""}`,
    `department:   ${t.department ?? "-"}   assignee: ${t.assignee ?? "-"}`,
    `priority:     ${t.priority}   urgency: ${t.urgency}   due: ${t.dueDate ?? "-"}${t.relatedTicket ? `   refers to: ${t.relatedTicket}` : ""}`,
    `requester:    ${t.requester.name ? `${t.requester.name} <${t.requester.address}>` : t.requester.address}`,
    `participants: ${t.participants.map((p) => `${p.address} (${p.role}${p.removedAt ? ", taken off" : ""})`).join(", ") || "-"}`,
    ...(t.mergedInto ? [`merged into:  ${t.mergedInto}`] : []),
    `created:      ${t.createdAt}   updated: ${t.updatedAt}`,
    "",
  ];
  if (t.events.length) {
    out.push("events:");
    for (const e of t.events) out.push(`  ${e.at} ${e.actor ?? "gateway"}: ${e.action} ${e.detail}`);
    out.push("");
  }
  for (const m of t.messages) {
    const arrow = `${m.direction === "inbound" ? `from ${m.from}` : `to ${m.to.join(", ")}`}${m.cc.length ? ` cc ${m.cc.join(", ")}` : ""}`;
    const delivery = m.delivery ? `  [${m.delivery.status}${m.delivery.lastError ? `: ${m.delivery.lastError}` : ""}]` : "";
    out.push(`--- #${m.id} ${m.direction} ${m.visibility} ${arrow} ${m.createdAt}${delivery}`);
    out.push(`Subject: ${m.subject}`);
    for (const a of m.attachments) out.push(`Attachment: ${a.filename} (${a.contentType}, ${a.size} bytes)`);
    out.push("", m.text, "");
  }
  return out.join("\n") + "\n";
}

export function printFailed(list: Awaited<ReturnType<typeof listFailedMails>>): string {
  if (list.length === 0) return "no failed mails\n";
  const out: string[] = [];
  for (const f of list) {
    out.push(`#${f.id} ${f.receivedAt} uid ${f.uid} → ${f.folder ?? "(not moved yet)"}`);
    out.push(`  from: ${f.from ?? "?"}  subject: ${f.subject ?? "?"}  message-id: ${f.messageId ?? "?"}`);
    out.push(`  ${f.code}: ${f.reason}`);
  }
  return out.join("\n") + `\n${list.length} failed mail(s)\n`;
}
