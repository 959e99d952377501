import type { EntityManager } from "typeorm";
import { Message, Participant, Ticket } from "../db/entities.js";
import { detectBounce, type BounceReport } from "../mail/bounce.js";
import { classifyMail } from "../mail/classify.js";
import { parseCommands } from "../mail/commands.js";
import { parseFieldLines, priorityFromHeaders } from "../mail/field-lines.js";
import { parseMail, requesterOf } from "../mail/parse.js";
import { stripQuotedHistory } from "../mail/quoted-history.js";
import { formatReference, titleFromSubject } from "../mail/subject.js";
import { asTicketpostError } from "../shared/errors.js";
import type { GatewayContext } from "./context.js";
import { threadLookup } from "./repository.js";
import { routeMail } from "./routing.js";
import { resolveThread } from "./thread.js";

export type InspectVerdict = "new-ticket" | "reply" | "command" | "bounce" | "report" | "auto-reply" | "loop" | "duplicate" | "stranger" | "rejected";

export interface Inspection {
  verdict: InspectVerdict;
  ticket: string | null;
  trail: Array<{ stage: string; verdict: string; detail: string }>;
  parsed: Record<string, unknown> | null;
  bounce: BounceReport | null;
}

/**
 * What the gateway would do with a mail, changing nothing: the same stages as the pipeline
 * (parse, detectors, classify, dedup, thread, route, field lines, commands, agent check), read only.
 */
export async function inspectMail(ctx: GatewayContext, raw: Buffer, em: EntityManager): Promise<Inspection> {
  const trail: Inspection["trail"] = [{ stage: "receive", verdict: "read", detail: `${raw.length} bytes` }];
  if (raw.length > ctx.maxMessageBytes) {
    trail.push({ stage: "apply", verdict: "failed", detail: `EOVERSIZE: mail is ${raw.length} bytes; the limit is ${ctx.maxMessageBytes}` });
    return { verdict: "rejected", ticket: null, trail, parsed: null, bounce: null };
  }
  let msg;
  try {
    msg = await parseMail(raw);
  } catch (err) {
    const e = asTicketpostError(err, "EPARSE");
    trail.push({ stage: "parse", verdict: "failed", detail: `${e.code}: ${e.message}` });
    return { verdict: "rejected", ticket: null, trail, parsed: null, bounce: null };
  }
  const now = ctx.clock.now();
  const requester = requesterOf(msg);
  trail.push({ stage: "parse", verdict: "ok", detail: `Message-ID ${msg.messageId ?? "(none)"}, from ${msg.from?.address ?? "(none)"}, ${msg.attachments.length} attachment(s)` });
  const bounce = await detectBounce(raw, msg, { messageIdDomain: ctx.messageIdDomain, isOwn: (a) => ctx.directory.isOwn(a) }).catch(() => null);
  const verdict = classifyMail(msg, { messageIdDomain: ctx.messageIdDomain, isOwn: (a) => ctx.directory.isOwn(a) }, { bounce });
  trail.push({ stage: "classify", verdict: verdict.kind + (verdict.automatic ? "/automatic" : ""), detail: verdict.reasons.join("; ") });

  const fields = parseFieldLines(msg.text, now);
  const sender = msg.from?.address ?? null;
  const isAgent = !!sender && ctx.directory.isAgent(sender);
  const commands = isAgent ? parseCommands(stripQuotedHistory(msg.text), now) : null;
  const route = routeMail(msg, ctx.directory, fields.fields.department);
  const parsed = {
    title: titleFromSubject(msg.subject, ctx.tagFormat),
    subject: msg.subject,
    messageId: msg.messageId,
    requester: requester?.address ?? null,
    from: sender,
    to: msg.to.map((a) => a.address),
    cc: msg.cc.map((a) => a.address),
    department: route.department?.id ?? null,
    priority: fields.fields.priority ?? priorityFromHeaders(msg.headers) ?? "normal",
    urgency: fields.fields.urgency ?? route.department?.defaultUrgency ?? "impaired",
    dueDate: fields.fields.due ?? null,
    fieldProblems: fields.problems,
    agent: isAgent,
    commands: commands?.commands.map((c) => c.source) ?? [],
    commandErrors: commands?.errors ?? [],
    attachments: msg.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
  };
  if (verdict.kind === "loop") return { verdict: "loop", ticket: null, trail, parsed, bounce };
  if (verdict.kind === "bounce" || verdict.kind === "report") {
    const ours = bounce?.originalMessageId ? await em.findOne(Message, { where: { messageId: bounce.originalMessageId } }) : null;
    trail.push({ stage: "apply", verdict: ours ? `bounce-of-ticket-${ours.ticketId}` : "bounce-unlinked", detail: bounce?.recipients.map((r) => `${r.address}: ${r.status ?? "-"} ${r.permanent ? "permanent" : "temporary"}`).join("; ") || "-" });
    return { verdict: verdict.kind, ticket: ours ? formatReference(ctx.tagFormat, ours.ticketId) : null, trail, parsed, bounce };
  }
  const twin = await em.findOne(Message, { where: { messageId: msg.dedupKey } });
  if (twin) {
    trail.push({ stage: "dedup", verdict: "duplicate", detail: `already message ${twin.id} of ${formatReference(ctx.tagFormat, twin.ticketId)}` });
    return { verdict: "duplicate", ticket: formatReference(ctx.tagFormat, twin.ticketId), trail, parsed, bounce };
  }
  const thread = await resolveThread(msg, ctx.tagFormat, threadLookup(em));
  trail.push({ stage: "thread", verdict: thread.ticketId === null ? "new-ticket" : `ticket-${thread.ticketId}`, detail: thread.reasons.join("; ") });
  trail.push({ stage: "route", verdict: route.department?.id ?? "none", detail: route.reasons.join("; ") });
  const ticket = thread.ticketId ? formatReference(ctx.tagFormat, thread.ticketId) : null;
  if (verdict.automatic) return { verdict: "auto-reply", ticket, trail, parsed, bounce };
  if (isAgent && commands && (commands.commands.length || commands.errors.length)) {
    const auth = await ctx.verifyAgent(msg, sender!);
    trail.push({ stage: "commands", verdict: auth.ok ? "agent" : "unverified", detail: `${parsed.commands.join(", ") || "-"}; ${auth.reason}${commands.errors.length ? `; errors: ${commands.errors.join("; ")}` : ""}` });
    return { verdict: "command", ticket, trail, parsed, bounce };
  }
  if (thread.ticketId !== null && sender) {
    const t = await em.findOne(Ticket, { where: { id: thread.ticketId } });
    const member = t?.requesterAddress === sender || (await em.count(Participant, { where: { ticketId: thread.ticketId, address: sender } })) > 0;
    if (!member && ctx.safety.strangerPolicy !== "public") {
      trail.push({ stage: "apply", verdict: "stranger", detail: `${sender} is not a participant: strangerPolicy ${ctx.safety.strangerPolicy}` });
      return { verdict: "stranger", ticket, trail, parsed, bounce };
    }
  }
  return { verdict: thread.ticketId === null ? "new-ticket" : "reply", ticket, trail, parsed, bounce };
}
