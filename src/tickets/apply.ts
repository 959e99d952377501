import type { EntityManager } from "typeorm";
import { Attachment, Message, Participant, Ticket, type ParticipantRole } from "../db/entities.js";
import { formatReference, formatTag, titleFromSubject } from "../mail/subject.js";
import { requesterOf } from "../mail/parse.js";
import type { InboundMessage, MailAddress } from "../mail/types.js";
import { queueNotification } from "../notify/outbox.js";
import { TicketpostError } from "../shared/errors.js";
import type { GatewayContext, TrailStep } from "./context.js";

/*
 * The only code that changes tickets. Each function runs inside the caller's transaction,
 * together with the mail's receipt, so a ticket, its messages and its queued notifications
 * exist all together or not at all.
 */

export interface ApplyResult {
  ticket: Ticket;
  message: Message;
  trail: TrailStep[];
}

async function storeInbound(em: EntityManager, ctx: GatewayContext, ticketId: number, msg: InboundMessage): Promise<Message> {
  const message = await em.save(em.create(Message, {
    ticketId,
    direction: "inbound",
    visibility: "public",
    messageId: msg.dedupKey,
    inReplyTo: msg.inReplyTo,
    references: msg.references.length ? msg.references.join(" ") : null,
    fromAddress: msg.from?.address ?? "",
    fromName: msg.from?.name ?? null,
    toAddresses: JSON.stringify(msg.to.map((a) => a.address)),
    ccAddresses: JSON.stringify(msg.cc.map((a) => a.address)),
    subject: msg.subject,
    text: msg.text,
    rawSha256: msg.rawSha256,
    rawSize: msg.rawSize,
    createdAt: ctx.clock.now(),
  }));
  for (const a of msg.attachments) {
    await em.save(em.create(Attachment, {
      messageRowId: message.id,
      filename: a.filename.slice(0, 255),
      contentType: a.contentType.slice(0, 255),
      size: a.size,
      sha256: a.sha256,
      inline: a.inline,
    }));
  }
  return message;
}

async function addParticipants(em: EntityManager, ctx: GatewayContext, ticketId: number, people: Array<{ who: MailAddress; role: ParticipantRole }>): Promise<void> {
  const existing = new Set((await em.find(Participant, { where: { ticketId } })).map((p) => p.address));
  for (const { who, role } of people) {
    if (existing.has(who.address) || ctx.ownAddresses.includes(who.address)) continue;
    existing.add(who.address);
    await em.save(em.create(Participant, { ticketId, address: who.address, name: who.name, role }));
  }
}

export function ticketView(ctx: GatewayContext, ticket: Ticket) {
  return {
    id: ticket.id,
    reference: formatReference(ctx.tagFormat, ticket.id),
    tag: formatTag(ctx.tagFormat, ticket.id),
    title: ticket.title,
    description: ticket.description,
    status: ticket.status,
  };
}

export async function createTicketFromMail(em: EntityManager, ctx: GatewayContext, msg: InboundMessage, opts: { acknowledge: boolean }): Promise<ApplyResult> {
  const requester = requesterOf(msg);
  if (!requester) throw new TicketpostError("EPARSE", "mail names no sender (no usable From or Reply-To address)");
  const now = ctx.clock.now();
  const ticket = await em.save(em.create(Ticket, {
    title: titleFromSubject(msg.subject, ctx.tagFormat),
    description: msg.text,
    status: "new",
    requesterAddress: requester.address,
    requesterName: requester.name,
    language: ctx.language,
    createdAt: now,
    updatedAt: now,
  }));
  const message = await storeInbound(em, ctx, ticket.id, msg);
  await addParticipants(em, ctx, ticket.id, [
    { who: requester, role: "requester" },
    ...msg.to.map((who) => ({ who, role: "to" as const })),
    ...msg.cc.map((who) => ({ who, role: "cc" as const })),
  ]);
  const trail: TrailStep[] = [{ stage: "apply", verdict: "ticket-created", detail: `ticket ${formatReference(ctx.tagFormat, ticket.id)} for ${requester.address}, ${msg.attachments.length} attachment(s)` }];
  if (opts.acknowledge) {
    await queueNotification(em, ctx, {
      ticket,
      event: "received",
      to: requester,
      language: ticket.language,
      data: { ticket: ticketView(ctx, ticket), requester, gateway: { name: ctx.gatewayName, address: ctx.supportAddress } },
      inReplyTo: msg.messageId,
      references: msg.references,
    });
    trail.push({ stage: "notify", verdict: "queued", detail: `acknowledgement to ${requester.address}` });
  } else {
    trail.push({ stage: "notify", verdict: "suppressed", detail: "automatic mail: no acknowledgement (RFC 3834)" });
  }
  return { ticket, message, trail };
}

export async function addReplyToTicket(em: EntityManager, ctx: GatewayContext, ticketId: number, msg: InboundMessage): Promise<ApplyResult> {
  const ticket = await em.findOneOrFail(Ticket, { where: { id: ticketId } });
  const message = await storeInbound(em, ctx, ticket.id, msg);
  ticket.updatedAt = ctx.clock.now();
  await em.save(ticket);
  return {
    ticket,
    message,
    trail: [{ stage: "apply", verdict: "reply-added", detail: `message from ${msg.from?.address ?? "?"} added to ${formatReference(ctx.tagFormat, ticket.id)}` }],
  };
}
