import { randomBytes } from "node:crypto";
import type { EntityManager } from "typeorm";
import { FastSql } from "../db/fast-sql.js";
import { Message, OutboxMail, type Ticket } from "../db/entities.js";
import type { MailAddress } from "../mail/types.js";
import type { Clock } from "../shared/clock.js";
import { eventByName, type EventName } from "./events/index.js";
import type { RenderedMail, TemplateSet } from "./templates.js";

export interface OutboxContext {
  templates: TemplateSet;
  messageIdDomain: string;
  supportAddress: string;
  clock: Clock;
}

export interface QueuedNotification {
  ticket: Ticket;
  event: EventName;
  to: MailAddress;
  language: string;
  data: object;
  /** The mail this one answers, for In-Reply-To/References. */
  inReplyTo: string | null;
  references: string[];
}

/** Our Message-IDs start with "ticketpost." so a mail of ours coming back is recognised. */
export function newMessageId(domain: string, ticketId: number | null): string {
  return `ticketpost.${ticketId ?? 0}.${Date.now().toString(36)}.${randomBytes(6).toString("hex")}@${domain}`;
}

/** A notification rendered for the outbox: the outbound copy stored as a message of the ticket, and the outbox row (its messageRowId set once the message is written). */
export interface RenderedNotification {
  message: Partial<Message>;
  outbox: Partial<OutboxMail>;
}

/**
 * Renders a notification for the outbox, in the caller's transaction: rendered now, sent by the
 * OutboxSender after commit. The outbound copy is stored as a message of the ticket at once,
 * so a reply to it threads even if it arrives before the row is marked sent.
 */
export function renderNotification(ctx: OutboxContext, n: QueuedNotification): RenderedNotification {
  const event = eventByName(n.event);
  const rendered = ctx.templates.render(n.event, n.language, n.data);
  const now = ctx.clock.now();
  const messageId = newMessageId(ctx.messageIdDomain, n.ticket.id);
  const refs = threadRefs(n);
  const message: Partial<Message> = {
    ticketId: n.ticket.id,
    direction: "outbound",
    visibility: event.audience === "requester" ? "public" : "internal",
    messageId,
    fingerprint: null,
    inReplyTo: n.inReplyTo,
    references: refs.length ? refs.join(" ") : null,
    fromAddress: ctx.supportAddress,
    fromName: null,
    toAddresses: JSON.stringify([n.to.address]),
    ccAddresses: "[]",
    subject: rendered.subject,
    text: rendered.text,
    rawSha256: null,
    rawSize: null,
    createdAt: now,
  };
  return { message, outbox: outboxRow(n, rendered, { ticketId: n.ticket.id, messageRowId: null, messageId, refs, now }) };
}

/** Writes one notification into the outbox, with its outbound copy (see renderNotification). */
export async function queueNotification(em: EntityManager, ctx: OutboxContext, n: QueuedNotification): Promise<OutboxMail> {
  const r = renderNotification(ctx, n);
  const sql = new FastSql(em);
  const [messageRowId] = await sql.insert(Message, [r.message], { ids: true });
  const [id] = await sql.insert(OutboxMail, [{ ...r.outbox, messageRowId }], { ids: true });
  return { ...r.outbox, messageRowId, id } as OutboxMail;
}

function threadRefs(n: Pick<QueuedNotification, "inReplyTo" | "references">): string[] {
  return [...n.references.filter((r) => r !== n.inReplyTo), ...(n.inReplyTo ? [n.inReplyTo] : [])].slice(-20);
}

function outboxRow(
  n: Omit<QueuedNotification, "ticket">,
  rendered: RenderedMail,
  row: { ticketId: number | null; messageRowId: number | null; messageId: string; refs: string[]; now: Date },
): Partial<OutboxMail> {
  return {
    ticketId: row.ticketId,
    event: n.event,
    toAddress: n.to.address,
    toName: n.to.name,
    language: n.language,
    subject: rendered.subject,
    textBody: rendered.text,
    htmlBody: rendered.html,
    messageRowId: row.messageRowId,
    messageId: row.messageId,
    inReplyTo: n.inReplyTo,
    references: row.refs.length ? row.refs.join(" ") : null,
    status: "pending",
    attempts: 0,
    nextAttemptAt: row.now,
    lastError: null,
    createdAt: row.now,
    sentAt: null,
  };
}

/** A notification that belongs to no ticket (the notice about a rejected mail): an outbox row only. */
export function renderTicketless(ctx: OutboxContext, n: Omit<QueuedNotification, "ticket">): Partial<OutboxMail> {
  const rendered = ctx.templates.render(n.event, n.language, n.data);
  return outboxRow(n, rendered, {
    ticketId: null,
    messageRowId: null,
    messageId: newMessageId(ctx.messageIdDomain, null),
    refs: threadRefs(n),
    now: ctx.clock.now(),
  });
}
