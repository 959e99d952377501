import { randomBytes } from "node:crypto";
import type { EntityManager } from "typeorm";
import { FastSql } from "../db/fast-sql.js";
import { Message, OutboxAttachment, OutboxMail, type Ticket } from "../db/entities.js";
import type { PlannedFiles } from "../tickets/workflow/plan.js";
import { contentIdOf } from "./files-view.js";
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
  /** The ticket's participants, copied on a public mail. */
  cc?: MailAddress[];
  language: string;
  data: object;
  /** The mail this one answers, for In-Reply-To/References. */
  inReplyTo: string | null;
  references: string[];
  /** The files it attaches (blob references); the template data lists them. */
  files?: PlannedFiles;
}

/** Our Message-IDs start with "ticketpost." so a mail of ours coming back is recognised. */
export function newMessageId(domain: string, ticketId: number | null): string {
  return `ticketpost.${ticketId ?? 0}.${Date.now().toString(36)}.${randomBytes(6).toString("hex")}@${domain}`;
}

/** A notification rendered for the outbox: the outbound copy stored as a message of the ticket, and the outbox row (its messageRowId set once the message is written). */
export interface RenderedNotification {
  message: Partial<Message>;
  outbox: Partial<OutboxMail>;
  /** The files the mail attaches, in order: written as outbox_attachment rows once the row has its id. */
  attach: PlannedFiles["attach"];
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
    ccAddresses: JSON.stringify((n.cc ?? []).map((c) => c.address)),
    subject: rendered.subject,
    text: rendered.text,
    rawSha256: null,
    rawSize: null,
    createdAt: now,
  };
  return {
    message,
    outbox: outboxRow(n, rendered, { ticketId: n.ticket.id, messageRowId: null, messageId, refs, now }),
    attach: n.files?.attach ?? [],
  };
}

/** Writes one notification into the outbox, with its outbound copy (see renderNotification). */
export async function queueNotification(em: EntityManager, ctx: OutboxContext, n: QueuedNotification): Promise<OutboxMail> {
  const r = renderNotification(ctx, n);
  const sql = new FastSql(em);
  const [messageRowId] = await sql.insert(Message, [r.message], { ids: true });
  const [id] = await sql.insert(OutboxMail, [{ ...r.outbox, messageRowId }], { ids: true });
  await sql.insert(OutboxAttachment, outboxAttachmentRows(id, r.attach));
  return { ...r.outbox, messageRowId, id } as OutboxMail;
}

/** The outbox_attachment rows of one outbox row: blob references (SHA-256), not copies. */
export function outboxAttachmentRows(outboxId: number, attach: PlannedFiles["attach"]): Array<Partial<OutboxAttachment>> {
  return attach.map((f, seq) => ({
    outboxId,
    seq,
    filename: f.filename.slice(0, 255),
    contentType: f.contentType.slice(0, 255),
    size: f.size,
    sha256: f.sha256,
    contentId: contentIdOf(f, seq),
  }));
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
    ccAddresses: n.cc?.length ? JSON.stringify(n.cc.map((c) => ({ address: c.address, name: c.name }))) : null,
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
