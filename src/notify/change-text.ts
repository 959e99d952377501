import { PRIORITY_LABELS, STATUS_LABELS, URGENCY_LABELS, type Priority, type TicketStatusName, type Urgency } from "../tickets/levels.js";
import type { Change } from "../tickets/workflow/types.js";

/** One line per change for the agent's confirmation mail, in their language; `reference` names a ticket just created. */
export function describeChange(c: Change, lang: string, departmentName: (id: string) => string, reference = ""): string {
  const de = lang === "de";
  const who = (p: { address: string; name: string | null } | null) =>
    p ? (p.name ? `${p.name} <${p.address}>` : p.address) : de ? "niemand" : "nobody";
  const status = (s: string) => (STATUS_LABELS[lang] ?? STATUS_LABELS.en)[s as TicketStatusName] ?? s;
  switch (c.kind) {
    case "status":
      return de ? `Status: ${status(c.to)}` : `status: ${status(c.to)}`;
    case "assignee":
      return de ? `Bearbeitung: ${who(c.to)}` : `assignee: ${who(c.to)}`;
    case "department":
      return de ? `Abteilung: ${departmentName(c.to)}` : `department: ${departmentName(c.to)}`;
    case "priority":
      return de
        ? `Priorität: ${PRIORITY_LABELS.de[c.to as Priority] ?? c.to}`
        : `priority: ${PRIORITY_LABELS.en[c.to as Priority] ?? c.to}`;
    case "urgency":
      return de ? `Dringlichkeit: ${URGENCY_LABELS.de[c.to as Urgency] ?? c.to}` : `urgency: ${URGENCY_LABELS.en[c.to as Urgency] ?? c.to}`;
    case "due":
      return de ? `fällig am: ${c.to}` : `due: ${c.to}`;
    case "note":
      return de ? "interne Notiz gespeichert (nicht an die anfragende Person)" : "internal note stored (not sent to the requester)";
    case "question":
      return de ? `Rückfrage an ${c.to} gesendet` : `question sent to ${c.to}`;
    case "answer":
      return de ? `Antwort an ${c.to} gesendet` : `answer sent to ${c.to}`;
    case "resolution":
      // The status line already says "resolved"; this one says what became of the text.
      return de ? "Lösung gespeichert" : "resolution recorded";
    case "created":
      return de ? `Ticket ${reference} angelegt` : `ticket ${reference} created`;
    case "cc":
      if (c.action === "add")
        return de ? `${c.to} erhält ab jetzt jede öffentliche Mail in Kopie` : `${c.to} is now in copy of every public mail`;
      return de ? `${c.to} erhält keine Kopien mehr` : `${c.to} gets no more copies`;
    case "merged":
      return de ? `zusammengeführt in ${c.to}; dieses Ticket ist geschlossen` : `merged into ${c.to}; this ticket is closed`;
  }
}
