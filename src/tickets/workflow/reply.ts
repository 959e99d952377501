import type { EntityManager } from "typeorm";
import { Participant, Ticket, TicketEvent } from "../../db/entities.js";
import { parseCommands } from "../../mail/commands.js";
import { stripQuotedHistory } from "../../mail/quoted-history.js";
import type { InboundMessage } from "../../mail/types.js";
import { formatReference } from "../../mail/subject.js";
import { addParticipants, storeInbound, type ApplyResult } from "../apply.js";
import type { GatewayContext, TrailStep } from "../context.js";
import { personOf, type Person } from "../directory.js";
import { runCommands } from "./commands/index.js";
import { createTicketFromMail } from "./new-ticket.js";
import { sendEvent } from "./notify.js";
import { requester, saveEvents, setStatus, workers } from "./rules.js";
import { emptyEffects } from "./types.js";

const DAY_MS = 24 * 3600 * 1000;

/** A mail that threads into a ticket: an agent's reply (with or without commands) or the requester's. */
export interface ReplyOptions {
  automatic: boolean;
  /**
   * Set when the command comes from the terminal (`ticketpost tickets take …`): the operator is
   * trusted as the agent, and the outcome is printed instead of mailed back as a confirmation.
   */
  terminal?: boolean;
}

export async function addMailToTicket(em: EntityManager, ctx: GatewayContext, ticketId: number, msg: InboundMessage, opts: ReplyOptions): Promise<ApplyResult> {
  const ticket = await em.findOneOrFail(Ticket, { where: { id: ticketId } });
  const sender = msg.from ? personOf(msg.from) : null;
  // An out-of-office answer to one of our mails: kept for the record; it reopens nothing and tells nobody.
  if (opts.automatic) return keepInternal(em, ctx, ticket, msg, "automatic-reply", "automatic mail (auto-reply) kept as an internal note; it changes nothing and gets no answer", null);
  if (sender && ctx.directory.isAgent(sender.address)) {
    // The configured name, not whatever the From header says: every mail names the agent alike.
    const agent = ctx.directory.asAgent(sender)!;
    return agentReply(em, ctx, ticket, msg, agent, opts.terminal === true);
  }
  if (!(await isParticipant(em, ticket, sender?.address ?? "")) && !opts.terminal) {
    const who = sender?.address ?? "(no sender)";
    if (ctx.safety.strangerPolicy === "new-ticket") {
      const created = await createTicketFromMail(em, ctx, msg, { acknowledge: true });
      return { ...created, trail: [{ stage: "apply", verdict: "stranger", detail: `${who} is not a participant of ${formatReference(ctx.tagFormat, ticket.id)}: policy new-ticket` }, ...created.trail] };
    }
    if (ctx.safety.strangerPolicy === "internal") {
      return keepInternal(em, ctx, ticket, msg, "stranger", `${who} is not a participant of ${formatReference(ctx.tagFormat, ticket.id)}: kept internal for the assignee, nothing sent to the requester (strangerPolicy internal)`, sender);
    }
  }
  return requesterReply(em, ctx, ticket, msg);
}

async function isParticipant(em: EntityManager, ticket: Ticket, address: string): Promise<boolean> {
  if (!address) return false;
  if (ticket.requesterAddress === address) return true;
  return (await em.count(Participant, { where: { ticketId: ticket.id, address } })) > 0;
}

/** Stores the mail on the ticket as internal, changing nothing else; strangers' mail is shown to the people who work the ticket. */
async function keepInternal(em: EntityManager, ctx: GatewayContext, ticket: Ticket, msg: InboundMessage, verdict: string, detail: string, stranger: Person | null): Promise<ApplyResult> {
  const text = stripQuotedHistory(msg.text);
  const message = await storeInbound(em, ctx, ticket.id, msg, text, "internal");
  await em.save(em.create(TicketEvent, { ticketId: ticket.id, at: ctx.clock.now(), actor: msg.from?.address ?? null, action: verdict, detail: detail.slice(0, 500) }));
  const sent = stranger ? await sendEvent(em, ctx, ticket, { event: "stranger-reply", to: workers(ctx.directory, ticket), actor: stranger, text, inReplyTo: msg.messageId, references: msg.references }) : [];
  return { ticket, message, created: false, trail: [{ stage: "apply", verdict, detail }, { stage: "notify", verdict: sent.length ? "queued" : "none", detail: sent.join(", ") || "nothing sent" }] };
}

async function agentReply(em: EntityManager, ctx: GatewayContext, ticket: Ticket, msg: InboundMessage, agent: Person, terminal: boolean): Promise<ApplyResult> {
  const now = ctx.clock.now();
  const ref = formatReference(ctx.tagFormat, ticket.id);
  const thread = { inReplyTo: msg.messageId, references: msg.references };
  const parsed = parseCommands(stripQuotedHistory(msg.text), now);
  const trail: TrailStep[] = [];
  const isCommandMail = parsed.commands.length > 0 || parsed.errors.length > 0;

  let errors = [...parsed.errors];
  const auth = terminal ? { ok: true, reason: "given at the terminal by the operator" } : await ctx.verifyAgent(msg, agent.address);
  if (isCommandMail) {
    trail.push({ stage: "commands", verdict: auth.ok ? "agent" : "unverified", detail: `${parsed.commands.map((c) => c.source).join(", ") || "-"}; ${auth.reason}` });
    if (!auth.ok) errors = [`commands ignored: ${auth.reason}`];
  } else if (!auth.ok) {
    // A plain answer goes to the customer in our name: a forged one must not. It stays
    // internal, and the people who work the ticket see it.
    const kept = await keepInternal(em, ctx, ticket, msg, "unverified-agent", `mail in the name of agent ${agent.address} is not authenticated (${auth.reason}): kept internal, not sent to the requester`, agent);
    return { ...kept, trail: [...trail, ...kept.trail] };
  }

  // Commands run on a copy: any error discards every change of the mail.
  const work = em.create(Ticket, { ...ticket });
  const fx = emptyEffects();
  if (isCommandMail && errors.length === 0) errors = runCommands(work, parsed.commands, { dir: ctx.directory, actor: agent, now, text: parsed.rest, isNew: false }, fx);

  if (errors.length > 0) {
    if (terminal) return { ticket, message: null as never, created: false, trail, commandErrors: errors };
    const message = await storeInbound(em, ctx, ticket.id, msg, parsed.rest, "internal");
    const sent = await sendEvent(em, ctx, ticket, { event: "command-error", to: [agent], actor: agent, toActor: true, errors, ...thread });
    trail.push({ stage: "apply", verdict: "command-error", detail: `nothing changed on ${ref}: ${errors.join("; ")}` }, { stage: "notify", verdict: "queued", detail: sent.join(", ") });
    return { ticket, message, created: false, trail, commandErrors: errors };
  }

  const kinds = new Set(parsed.commands.map((c) => c.kind));
  const text = parsed.rest.trim();
  let visibility: "public" | "internal" = "internal";
  if (kinds.has("note")) {
    // The assignee reads notes; while nobody has the ticket (or the assignee wrote it), the department does.
    const readers = workers(ctx.directory, work).filter((p) => p.address !== agent.address);
    fx.notifications.push({ event: "note", to: readers.length ? readers : ctx.directory.members(work.departmentId), text });
  } else if (kinds.has("ask") || kinds.has("resolve") || kinds.has("done")) {
    visibility = "public";
  } else if (kinds.has("assign")) {
    // The text below #assign is the handover message for the new assignee (it rides in the
    // "assigned" mail); mailing it to the requester as an answer leaked internal words.
  } else if (text) {
    // A plain answer (no command, or only #take, #reopen and field commands): it goes to the requester.
    visibility = "public";
    fx.changes.push({ kind: "answer", to: work.requesterAddress });
    fx.notifications.push({ event: "agent-reply", to: [requester(work)], text });
  }
  work.updatedAt = now;
  await em.save(work);
  await saveEvents(em, work.id, fx, agent.address, now);
  const message = await storeInbound(em, ctx, work.id, msg, parsed.rest, visibility);
  const sent: string[] = [];
  for (const n of fx.notifications) sent.push(...(await sendEvent(em, ctx, work, { event: n.event, to: n.to, actor: agent, text: n.text, withHistory: n.withHistory, ...thread })));
  if (isCommandMail && !terminal) sent.push(...(await sendEvent(em, ctx, work, { event: "command-confirmation", to: [agent], actor: agent, toActor: true, changes: fx.changes, ...thread })));
  trail.push({ stage: "apply", verdict: isCommandMail ? "commands-applied" : "agent-answer", detail: `${ref}: ${fx.events.map((e) => `${e.action} ${e.detail}`).join("; ") || (visibility === "public" ? "public answer" : "stored")}` });
  trail.push({ stage: "notify", verdict: sent.length ? "queued" : "none", detail: sent.join(", ") || "-" });
  return { ticket: work, message, created: false, trail, changes: fx.changes, notified: sent };
}

/** A person's mail to the ticket (automatic mail never gets here). */
async function requesterReply(em: EntityManager, ctx: GatewayContext, ticket: Ticket, msg: InboundMessage): Promise<ApplyResult> {
  const now = ctx.clock.now();
  const ref = formatReference(ctx.tagFormat, ticket.id);
  const thread = { inReplyTo: msg.messageId, references: msg.references };
  const trail: TrailStep[] = [];
  const fx = emptyEffects();
  let event = "answer-received";

  if (ticket.status === "resolved") {
    const since = now.getTime() - (ticket.resolvedAt ?? ticket.updatedAt).getTime();
    if (since > ctx.reopenDays * DAY_MS) {
      trail.push({ stage: "apply", verdict: "late-reply", detail: `${ref} was resolved ${Math.floor(since / DAY_MS)} days ago (window ${ctx.reopenDays}): a new ticket refers to it` });
      const created = await createTicketFromMail(em, ctx, msg, { acknowledge: true, relatedTicketId: ticket.id, relatedDepartmentId: ticket.departmentId });
      return { ...created, trail: [...trail, ...created.trail] };
    }
    setStatus(ticket, ticket.assigneeAddress ? "in_progress" : "new", fx, now);
    ticket.resolution = null;
    event = "reopened";
  } else if (ticket.status === "waiting") {
    setStatus(ticket, "in_progress", fx, now);
  }

  const text = stripQuotedHistory(msg.text);
  ticket.updatedAt = now;
  await em.save(ticket);
  await saveEvents(em, ticket.id, fx, msg.from?.address ?? null, now);
  const message = await storeInbound(em, ctx, ticket.id, msg, text, "public");
  if (msg.from) await addParticipants(em, ctx, ticket.id, [{ who: msg.from, role: "cc" }]);
  const sent = await sendEvent(em, ctx, ticket, { event, to: workers(ctx.directory, ticket), actor: msg.from ? personOf(msg.from) : null, text, ...thread });
  trail.push({ stage: "apply", verdict: event === "reopened" ? "reopened" : "reply-added", detail: `message from ${msg.from?.address ?? "?"} added to ${ref}${fx.events.length ? `; ${fx.events.map((e) => e.detail).join("; ")}` : ""}` });
  trail.push({ stage: "notify", verdict: sent.length ? "queued" : "none", detail: sent.join(", ") || "-" });
  return { ticket, message, created: false, trail };
}
