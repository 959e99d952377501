import type { EntityManager } from "typeorm";
import { In, MoreThan } from "typeorm";
import { AddressFlag, Message, OutboxMail, type Ticket } from "../../db/entities.js";
import { eventByName, NOTIFICATION_EVENTS } from "../../notify/events/index.js";
import { formatReference, formatTag } from "../../mail/subject.js";
import { describeChange } from "../../notify/change-text.js";
import { queueNotification, queueTicketless } from "../../notify/outbox.js";
import type { InboundMessage } from "../../mail/types.js";
import { PRIORITY_LABELS, STATUS_LABELS, URGENCY_LABELS, type Priority, type TicketStatusName, type Urgency } from "../levels.js";
import { COMMAND_HELP } from "../../mail/commands.js";
import type { GatewayContext } from "../context.js";
import type { Person } from "../directory.js";
import { assignee, requester } from "./rules.js";
import type { Change } from "./types.js";

export interface SendOptions {
  event: string;
  to: Person[];
  /** Not mailed to: the person whose action this is (nobody gets mail about their own step). */
  actor: Person | null;
  text?: string | null;
  withHistory?: boolean;
  changes?: Change[];
  errors?: string[];
  /** Thread the notification under this mail (the inbound mail that caused it). */
  inReplyTo: string | null;
  references: string[];
  /** Send even to the actor (confirmations and errors go to exactly them). */
  toActor?: boolean;
}

function label<T extends string>(table: Record<string, Record<T, string>>, lang: string, v: string): string {
  return (table[lang] ?? table.en)[v as T] ?? v;
}

async function history(em: EntityManager, ticketId: number) {
  const msgs = await em.find(Message, { where: { ticketId, direction: "inbound" }, order: { id: "ASC" }, take: 50 });
  return msgs.map((m) => ({ at: m.createdAt.toISOString().slice(0, 16).replace("T", " "), from: m.fromAddress, visibility: m.visibility, direction: m.direction, text: m.text }));
}

/** The data every template gets (see the contract in templates/README or the event files). */
export function templateData(ctx: GatewayContext, t: Ticket, lang: string, recipient: Person, extra: { actor: Person | null; text: string | null; history: unknown[]; changes: string[]; errors: string[]; commandHelp: string[] }) {
  const dir = ctx.directory;
  const dept = dir.department(t.departmentId);
  return {
    lang,
    gateway: { name: ctx.gatewayName, address: ctx.supportAddress },
    recipient,
    ticket: {
      id: t.id,
      reference: formatReference(ctx.tagFormat, t.id),
      tag: formatTag(ctx.tagFormat, t.id),
      title: t.title,
      description: t.description,
      status: t.status,
      statusLabel: label<TicketStatusName>(STATUS_LABELS, lang, t.status),
      priority: t.priority,
      priorityLabel: label<Priority>(PRIORITY_LABELS, lang, t.priority),
      urgency: t.urgency,
      urgencyLabel: label<Urgency>(URGENCY_LABELS, lang, t.urgency),
      dueDate: t.dueDate,
      department: dept ? { id: dept.id, name: dir.departmentName(dept.id, lang)! } : null,
      assignee: assignee(dir, t),
      requester: requester(t),
      createdAt: t.createdAt.toISOString(),
      relatedReference: t.relatedTicketId ? formatReference(ctx.tagFormat, t.relatedTicketId) : null,
      reopenDays: ctx.reopenDays,
    },
    ...extra,
  };
}

/**
 * Why a mail to this address must not be queued, if it must not: the address bounced for good,
 * or it already got as many automatic mails in the window as allowed (an autoresponder that
 * sends no RFC 3834 headers still cannot keep a loop going).
 */
export async function holdBack(em: EntityManager, ctx: GatewayContext, address: string, automatic: boolean): Promise<string | null> {
  const flag = await em.findOne(AddressFlag, { where: { address } });
  if (flag?.permanent) return `address bounced permanently (${flag.status ?? "no status"}: ${flag.reason.slice(0, 100)}); clear with ticketpost addresses clear ${address}`;
  if (!automatic || ctx.directory.isAgent(address)) return null;
  const since = new Date(ctx.clock.now().getTime() - ctx.safety.autoReplyWindowMinutes * 60_000);
  const answering = NOTIFICATION_EVENTS.filter((e) => e.answersInbound).map((e) => e.name);
  const recent = await em.count(OutboxMail, { where: { toAddress: address, createdAt: MoreThan(since), event: In(answering) } });
  return recent >= ctx.safety.autoReplyPerAddress ? `${recent} automatic answers to this address in the last ${ctx.safety.autoReplyWindowMinutes} minutes (limit ${ctx.safety.autoReplyPerAddress})` : null;
}

/** Queues one event to each recipient, in each recipient's language, in the caller's transaction. */
export async function sendEvent(em: EntityManager, ctx: GatewayContext, t: Ticket, o: SendOptions): Promise<string[]> {
  if (ctx.quiet) return [];
  const seen = new Set<string>();
  const hist = o.withHistory ? await history(em, t.id) : [];
  const sentTo: string[] = [];
  const event = eventByName(o.event);
  for (const person of o.to) {
    const address = person.address.toLowerCase();
    if (seen.has(address) || ctx.directory.isOwn(address)) continue;
    if (!o.toActor && o.actor && address === o.actor.address) continue;
    seen.add(address);
    const held = await holdBack(em, ctx, address, event.answersInbound === true);
    if (held) {
      sentTo.push(`${o.event}→${address} withheld: ${held}`);
      continue;
    }
    // The requester keeps the language their ticket was opened in, also after it moved to a
    // department that writes another one.
    const lang = address === t.requesterAddress.toLowerCase() ? t.language : ctx.directory.languageFor(address, t.departmentId);
    const deptName = (id: string) => ctx.directory.departmentName(id, lang) ?? id;
    const data = templateData(ctx, t, lang, person, {
      actor: o.actor,
      text: o.text ?? null,
      history: hist,
      changes: (o.changes ?? []).map((c) => describeChange(c, lang, deptName)),
      errors: o.errors ?? [],
      commandHelp: COMMAND_HELP.map((h) => `${[...(lang === "de" ? h.de : h.en)].join(" / ")} ${h.args}`.trim() + ` — ${h.description}`),
    });
    await queueNotification(em, ctx, { ticket: t, event: o.event, to: { address, name: person.name }, language: lang, data, inReplyTo: o.inReplyTo, references: o.references });
    sentTo.push(`${o.event}→${address}`);
  }
  return sentTo;
}

/** The one-time notice about a mail that made no ticket (too large): no ticket, so no tag and no history. */
export async function queueRejectedNotice(em: EntityManager, ctx: GatewayContext, to: Person, about: InboundMessage, reason: string): Promise<string | null> {
  if (ctx.quiet) return null;
  const address = to.address.toLowerCase();
  if (await holdBack(em, ctx, address, true)) return null;
  const lang = ctx.directory.languageFor(address);
  const data = {
    lang,
    gateway: { name: ctx.gatewayName, address: ctx.supportAddress },
    recipient: { address, name: to.name },
    text: about.subject || null,
    errors: [reason],
  };
  await queueTicketless(em, ctx, { event: "rejected", to: { address, name: to.name }, language: lang, data, inReplyTo: about.messageId, references: about.references });
  return `rejected→${address}`;
}
