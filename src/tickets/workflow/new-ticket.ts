import type { EntityManager } from "typeorm";
import { Ticket, TicketEvent } from "../../db/entities.js";
import { parseCommands, type Command } from "../../mail/commands.js";
import { parseFieldLines, priorityFromHeaders } from "../../mail/field-lines.js";
import { requesterOf } from "../../mail/parse.js";
import { stripQuotedHistory } from "../../mail/quoted-history.js";
import { formatReference, titleFromSubject } from "../../mail/subject.js";
import type { InboundMessage } from "../../mail/types.js";
import { TicketpostError } from "../../shared/errors.js";
import { addParticipants, storeInbound, type ApplyResult } from "../apply.js";
import type { GatewayContext, TrailStep } from "../context.js";
import { personOf } from "../directory.js";
import { routeMail } from "../routing.js";
import { runCommands } from "./commands/index.js";
import { sendEvent } from "./notify.js";
import { requester, saveEvents } from "./rules.js";
import { emptyEffects } from "./types.js";

export interface NewTicketOptions {
  /** False for automatic mail (RFC 3834): it gets no acknowledgement. */
  acknowledge: boolean;
  /** A late reply to this closed ticket opens the new one. */
  relatedTicketId?: number;
  /**
   * The closed ticket's department. Replies go to the general address (our mails come from it),
   * so without this every late reply would land in the default department.
   */
  relatedDepartmentId?: string | null;
}

/**
 * A mail that belongs to no ticket opens one: field lines set priority, urgency, due date and
 * department; the address it was sent to routes it. An agent may put commands on top (#done
 * records work already done: the ticket is created resolved and nobody is acknowledged).
 */
export async function createTicketFromMail(em: EntityManager, ctx: GatewayContext, msg: InboundMessage, opts: NewTicketOptions): Promise<ApplyResult> {
  const who = requesterOf(msg);
  if (!who) throw new TicketpostError("EPARSE", "mail names no sender (no usable From or Reply-To address)");
  const now = ctx.clock.now();
  const dir = ctx.directory;
  const trail: TrailStep[] = [];
  let text = opts.relatedTicketId ? stripQuotedHistory(msg.text) : msg.text;

  const from = msg.from ? personOf(msg.from) : null;
  const sender = from ? (dir.asAgent(from) ?? from) : null;
  let commands: Command[] = [];
  let commandErrors: string[] = [];
  if (sender && dir.isAgent(sender.address)) {
    const parsed = parseCommands(text, now);
    if (parsed.commands.length || parsed.errors.length) {
      const auth = await ctx.verifyAgent(msg, sender.address);
      trail.push({ stage: "commands", verdict: auth.ok ? "agent" : "unverified", detail: `${parsed.commands.map((c) => c.source).join(", ") || "-"}; ${auth.reason}` });
      if (auth.ok) {
        commands = parsed.commands;
        commandErrors = parsed.errors;
        text = parsed.rest;
      } else {
        commandErrors = [`commands ignored: ${auth.reason}`];
      }
    }
  }

  const fields = parseFieldLines(text, now);
  text = fields.rest;
  trail.push({ stage: "fields", verdict: Object.keys(fields.fields).length ? "set" : "none", detail: [JSON.stringify(fields.fields), ...fields.problems].join("; ") });
  const route = routeMail(msg, dir, fields.fields.department, opts.relatedDepartmentId);
  trail.push({ stage: "route", verdict: route.department?.id ?? "none", detail: route.reasons.join("; ") });

  const lang = dir.languageFor(who.address, route.department?.id);
  const ticket = await em.save(em.create(Ticket, {
    title: titleFromSubject(msg.subject, ctx.tagFormat),
    description: text,
    status: "new",
    requesterAddress: who.address,
    requesterName: who.name,
    language: lang,
    createdAt: now,
    updatedAt: now,
    departmentId: route.department?.id ?? null,
    priority: fields.fields.priority ?? priorityFromHeaders(msg.headers) ?? "normal",
    urgency: fields.fields.urgency ?? route.department?.defaultUrgency ?? "impaired",
    dueDate: fields.fields.due ?? null,
    assigneeAddress: null,
    resolvedAt: null,
    resolution: null,
    relatedTicketId: opts.relatedTicketId ?? null,
    lastOverdueNoticeAt: null,
  }));
  const reference = formatReference(ctx.tagFormat, ticket.id);
  await em.save(em.create(TicketEvent, { ticketId: ticket.id, at: now, actor: who.address, action: "created", detail: `from mail ${msg.dedupKey}${opts.relatedTicketId ? `, refers to ${formatReference(ctx.tagFormat, opts.relatedTicketId)}` : ""}` }));
  await addParticipants(em, ctx, ticket.id, [
    { who, role: "requester" },
    ...msg.to.map((a) => ({ who: a, role: "to" as const })),
    ...msg.cc.map((a) => ({ who: a, role: "cc" as const })),
  ]);

  let fx = emptyEffects();
  if (commands.length && sender && commandErrors.length === 0) {
    // On a copy, as for a reply: a failing command must leave no half-applied change behind,
    // neither in the row nor in what the new-ticket and acknowledgement mails say.
    const work = em.create(Ticket, { ...ticket });
    const trial = emptyEffects();
    commandErrors = runCommands(work, commands, { dir, actor: sender, now, text, isNew: true }, trial);
    if (commandErrors.length === 0) {
      Object.assign(ticket, work);
      fx = trial;
    }
  }
  const applied = commands.length > 0 && commandErrors.length === 0;
  const visibility = applied && commands.some((c) => c.kind === "note") ? "internal" : "public";
  const message = await storeInbound(em, ctx, ticket.id, msg, text, visibility);
  trail.push({ stage: "apply", verdict: "ticket-created", detail: `ticket ${reference} for ${who.address} in ${ticket.departmentId ?? "no department"}, priority ${ticket.priority}, urgency ${ticket.urgency}${ticket.dueDate ? `, due ${ticket.dueDate}` : ""}, ${msg.attachments.length} attachment(s)` });

  const thread = { inReplyTo: msg.messageId, references: msg.references };
  const sent: string[] = [];
  if (applied) {
    ticket.updatedAt = now;
    await em.save(ticket);
    await saveEvents(em, ticket.id, fx, sender!.address, now);
  }
  const recordedAfterTheFact = applied && ticket.status === "resolved";
  if (!recordedAfterTheFact) {
    if (opts.acknowledge) sent.push(...(await sendEvent(em, ctx, ticket, { event: "received", to: [requester(ticket)], actor: null, ...thread })));
    const others = dir.members(ticket.departmentId).filter((m) => m.address !== ticket.assigneeAddress);
    sent.push(...(await sendEvent(em, ctx, ticket, { event: "new-ticket", to: others, actor: sender, ...thread })));
  }
  for (const n of fx.notifications) sent.push(...(await sendEvent(em, ctx, ticket, { event: n.event, to: n.to, actor: sender, text: n.text, withHistory: n.withHistory, ...thread })));
  if (sender && (commands.length || commandErrors.length)) {
    const event = commandErrors.length ? "command-error" : "command-confirmation";
    sent.push(...(await sendEvent(em, ctx, ticket, { event, to: [sender], actor: sender, toActor: true, changes: [{ kind: "created", reference }, ...fx.changes], errors: commandErrors, ...thread })));
  }
  trail.push({ stage: "notify", verdict: sent.length ? "queued" : "none", detail: sent.join(", ") || (opts.acknowledge ? "nobody to notify" : "automatic mail: no acknowledgement (RFC 3834)") });
  return { ticket, message, created: true, trail };
}
