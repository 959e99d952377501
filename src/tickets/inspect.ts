import { createHash } from "node:crypto";
import type { EntityManager } from "typeorm";
import type { BounceReport } from "../mail/bounce.js";
import { requesterOf } from "../mail/parse.js";
import { formatReference, titleFromSubject } from "../mail/subject.js";
import type { GatewayContext } from "./context.js";
import { decide, readMail, verifySender } from "./pipeline.js";
import { ticketReads } from "./repository.js";
import { step, type TrailStep } from "./trail.js";
import type { PlanKind } from "./workflow/plan.js";

export interface Inspection {
  /** What the workflow decided (the plan's kind). */
  verdict: PlanKind;
  /** The receipt's outcome processing would record. */
  outcome: string;
  errorCode: string | null;
  reason: string | null;
  /** The ticket the mail goes to, or null when it makes none (or a new one: see newTicket). */
  ticket: string | null;
  newTicket: boolean;
  trail: TrailStep[];
  parsed: {
    title: string;
    subject: string;
    messageId: string | null;
    from: string | null;
    requester: string | null;
    to: string[];
    cc: string[];
    attachments: Array<{ filename: string; contentType: string; size: number; sha256: string }>;
  } | null;
  /** For a new ticket: where it goes and with which fields. */
  fields: {
    department: string | null;
    priority: string;
    urgency: string;
    dueDate: string | null;
    status: string;
    assignee: string | null;
  } | null;
  /** For a change of an existing ticket: the columns that change. */
  changes: Record<string, unknown> | null;
  message: { visibility: string; text: string } | null;
  participants: string[];
  /** #cc on people already stored: taken off, or in copy again. */
  participantUpdates: Array<{ address: string; removed: boolean }>;
  /** #merge: this ticket into that one. */
  merge: { from: string; into: string } | null;
  /**
   * Every mail processing would queue: event, recipient, those in copy, language; `attached`/`listed`:
   * the file names the mail would carry, or list because they exceed notify.maxAttachmentBytes.
   */
  notifications: Array<{ event: string; to: string; cc: string[]; language: string; attached: string[]; listed: string[] }>;
  bounce: BounceReport | null;
  flags: Array<{ address: string; permanent: boolean; status: string | null }>;
}

/**
 * What the gateway would do with a mail, changing nothing: the same stages as processMail
 * (parse, classify, verify, facts, plan), with a manager the caller rolls back. The plan is the
 * one processing would persist, so the two cannot disagree.
 */
export async function inspectMail(ctx: GatewayContext, raw: Buffer, em: EntityManager): Promise<Inspection> {
  const received = {
    sha256: createHash("sha256").update(raw).digest("hex"),
    size: raw.length,
    buffer: raw,
    file: null,
    trail: [step("receive", "read", `${raw.length} bytes`)],
  };
  const read = await readMail(ctx, received, { store: false });
  const auth = await verifySender(ctx, read);
  const { plan, msg } = await decide(ticketReads(em), ctx, read, auth, { now: ctx.clock.now() });
  const t = plan.ticket;
  const ticketId = t?.id ?? plan.duplicateOf?.ticketId ?? null;
  return {
    verdict: plan.kind,
    outcome: plan.outcome,
    errorCode: plan.errorCode,
    reason: plan.reason,
    ticket: ticketId !== null ? formatReference(ctx.tagFormat, ticketId) : null,
    newTicket: t !== null && t.id === null,
    trail: plan.trail,
    parsed: msg
      ? {
          title: titleFromSubject(msg.subject, ctx.tagFormat),
          subject: msg.subject,
          messageId: msg.messageId,
          from: msg.from?.address ?? null,
          requester: requesterOf(msg)?.address ?? null,
          to: msg.to.map((a) => a.address),
          cc: msg.cc.map((a) => a.address),
          attachments: msg.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
        }
      : null,
    fields:
      t && t.id === null
        ? {
            department: t.state.departmentId,
            priority: t.state.priority,
            urgency: t.state.urgency,
            dueDate: t.state.dueDate,
            status: t.state.status,
            assignee: t.state.assigneeAddress,
          }
        : null,
    changes: t && t.id !== null && Object.keys(t.patch).length ? { ...t.patch } : null,
    message: plan.message,
    participants: [...plan.participants.map((p) => p.who.address), ...(plan.merge?.participants.map((p) => p.who.address) ?? [])],
    participantUpdates: plan.participantUpdates,
    merge: plan.merge
      ? { from: formatReference(ctx.tagFormat, plan.merge.from), into: formatReference(ctx.tagFormat, plan.merge.into) }
      : null,
    notifications: [...plan.notifications, ...plan.ticketless, ...(plan.merge?.notifications ?? [])].map((n) => ({
      event: n.event,
      to: n.to.address,
      cc: (n.cc ?? []).map((c) => c.address),
      language: n.language,
      attached: n.files?.attach.map((f) => f.filename) ?? [],
      listed: n.files?.list.map((f) => f.filename) ?? [],
    })),
    bounce: read.kind === "mail" ? read.bounce : null,
    flags: plan.addressFlags.map((f) => ({ address: f.address, permanent: f.permanent, status: f.status })),
  };
}

/** The inspection for people: verdict, the mail, what would change, who would get mail, the trail. */
export function printInspection(i: Inspection): string {
  const out = [
    `verdict: ${i.verdict} → ${i.outcome}${i.newTicket ? " (new ticket)" : i.ticket ? ` (${i.ticket})` : ""}${i.errorCode ? `: ${i.errorCode} ${i.reason ?? ""}` : ""}`,
  ];
  if (i.parsed) out.push(`title: ${i.parsed.title}`, `from: ${i.parsed.from ?? "-"}   requester: ${i.parsed.requester ?? "-"}`);
  // Routing and fields apply to a new ticket only; a reply keeps its ticket's.
  if (i.fields)
    out.push(
      `department: ${i.fields.department ?? "-"}   priority: ${i.fields.priority}   urgency: ${i.fields.urgency}   due: ${i.fields.dueDate ?? "-"}${i.fields.status !== "new" ? `   status: ${i.fields.status}` : ""}`,
    );
  if (i.changes)
    out.push(
      `changes: ${
        Object.entries(i.changes)
          .filter(([k]) => k !== "updatedAt")
          .map(([k, v]) => `${k} → ${v instanceof Date ? v.toISOString() : String(v)}`)
          .join(", ") || "-"
      }`,
    );
  if (i.message) out.push(`message: stored ${i.message.visibility}`);
  if (i.participants.length) out.push(`participants added: ${i.participants.join(", ")}`);
  for (const u of i.participantUpdates) out.push(`participant ${u.address}: ${u.removed ? "taken off (no more copies)" : "in copy again"}`);
  if (i.merge) out.push(`merge: ${i.merge.from} into ${i.merge.into} (messages, people and files move)`);
  for (const a of i.parsed?.attachments ?? []) out.push(`attachment: ${a.filename} (${a.contentType}, ${a.size} bytes)`);
  for (const n of i.notifications) {
    const files = [
      n.attached.length ? `attached: ${n.attached.join(", ")}` : "",
      n.listed.length ? `listed, over the limit: ${n.listed.join(", ")}` : "",
    ].filter(Boolean);
    out.push(
      `mail: ${n.event} to ${n.to}${n.cc.length ? ` cc ${n.cc.join(", ")}` : ""} (${n.language})${files.length ? `; ${files.join("; ")}` : ""}`,
    );
  }
  if (i.bounce) {
    out.push(`bounce: ${i.bounce.kind} (${i.bounce.format}), original Message-ID ${i.bounce.originalMessageId ?? "-"}`);
    for (const r of i.bounce.recipients)
      out.push(
        `  ${r.address}: ${r.status ?? "-"} ${r.replyCode ?? ""} ${r.permanent === true ? "permanent" : r.permanent === false ? "temporary" : "unknown"}: ${r.reason}`,
      );
  }
  for (const f of i.flags) out.push(`flag: ${f.address} ${f.permanent ? "blocked" : "temporary"} ${f.status ?? ""}`.trimEnd());
  out.push("trail:");
  for (const t of i.trail) out.push(`  ${t.stage.padEnd(9)} ${t.verdict.padEnd(20)} ${t.detail}`);
  return out.join("\n") + "\n";
}
