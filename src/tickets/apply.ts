import type { EntityManager } from "typeorm";
import { Attachment, Message, Participant, type MessageVisibility, type ParticipantRole, type Ticket } from "../db/entities.js";
import type { InboundMessage, MailAddress } from "../mail/types.js";
import type { GatewayContext, TrailStep } from "./context.js";
import type { Change } from "./workflow/types.js";

/*
 * The only code that changes tickets. Each function runs inside the caller's transaction,
 * together with the mail's receipt, so a ticket, its messages and its queued notifications
 * exist all together or not at all.
 */

export interface ApplyResult {
  ticket: Ticket;
  message: Message;
  /** A new ticket was made (also when a late reply to a closed ticket opens a new one). */
  created: boolean;
  trail: TrailStep[];
  /** For an agent's commands: what changed, or why nothing did. */
  changes?: Change[];
  commandErrors?: string[];
  /** event→address of every notification queued. */
  notified?: string[];
}

/** Stores an inbound mail as a message of the ticket: `text` is what people wrote (quotes and commands removed); the raw mail is kept whole. */
export async function storeInbound(em: EntityManager, ctx: GatewayContext, ticketId: number, msg: InboundMessage, text: string, visibility: MessageVisibility = "public"): Promise<Message> {
  const message = await em.save(em.create(Message, {
    ticketId,
    direction: "inbound",
    visibility,
    messageId: msg.dedupKey,
    inReplyTo: msg.inReplyTo,
    references: msg.references.length ? msg.references.join(" ") : null,
    fromAddress: msg.from?.address ?? "",
    fromName: msg.from?.name ?? null,
    toAddresses: JSON.stringify(msg.to.map((a) => a.address)),
    ccAddresses: JSON.stringify(msg.cc.map((a) => a.address)),
    subject: msg.subject,
    text,
    rawSha256: msg.rawSha256,
    rawSize: msg.rawSize,
    createdAt: ctx.clock.now(),
  }));
  // A mail with thousands of parts is still stored whole (raw); only so many become rows.
  for (const a of msg.attachments.slice(0, ctx.safety.maxAttachments)) {
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

export async function addParticipants(em: EntityManager, ctx: GatewayContext, ticketId: number, people: Array<{ who: MailAddress; role: ParticipantRole }>): Promise<void> {
  const existing = new Set((await em.find(Participant, { where: { ticketId } })).map((p) => p.address));
  for (const { who, role } of people) {
    // A mail to thousands of recipients does not make thousands of participants.
    if (existing.size >= ctx.safety.maxParticipants) break;
    if (existing.has(who.address) || ctx.directory.isOwn(who.address)) continue;
    // Agents who are copied in work the ticket; they are not its customers.
    if (role !== "requester" && ctx.directory.isAgent(who.address)) continue;
    existing.add(who.address);
    await em.save(em.create(Participant, { ticketId, address: who.address, name: who.name, role }));
  }
}

