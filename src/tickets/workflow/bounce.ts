import type { EntityManager } from "typeorm";
import { AddressFlag, Message, TicketEvent } from "../../db/entities.js";
import type { BounceReport } from "../../mail/bounce.js";
import { formatReference } from "../../mail/subject.js";
import type { InboundMessage } from "../../mail/types.js";
import { storeInbound } from "../apply.js";
import type { GatewayContext, TrailStep } from "../context.js";

export interface BounceResult {
  ticketId: number | null;
  messageRowId: number | null;
  flagged: string[];
  trail: TrailStep[];
}

function describe(report: BounceReport): string {
  return report.recipients.map((r) => `${r.address}: ${r.status ?? r.replyCode ?? "no status"} ${r.permanent === true ? "permanent" : r.permanent === false ? "temporary" : "unknown"} (${r.reason.slice(0, 200)})`).join("; ") || "no recipients named";
}

/**
 * A delivery report never becomes a ticket and never gets an answer. It is linked to the ticket
 * whose mail it reports on (through the Message-ID of ours that it quotes), kept there as an
 * internal message, and each failed recipient is flagged: a permanent failure stops all mail to
 * that address until someone clears the flag (`ticketpost addresses clear`).
 */
export async function applyBounce(em: EntityManager, ctx: GatewayContext, msg: InboundMessage, report: BounceReport): Promise<BounceResult> {
  const now = ctx.clock.now();
  const ours = report.originalMessageId ? await em.findOne(Message, { where: { messageId: report.originalMessageId }, select: { id: true, ticketId: true, direction: true } }) : null;
  const ticketId = ours?.direction === "outbound" ? ours.ticketId : null;
  const trail: TrailStep[] = [];
  trail.push({ stage: "apply", verdict: ticketId ? `bounce-of-ticket-${ticketId}` : "bounce-unlinked", detail: ticketId ? `reports on our message ${report.originalMessageId} of ${formatReference(ctx.tagFormat, ticketId)}` : `quotes ${report.originalMessageId ?? "no Message-ID"}, which is no mail of ours` });

  const flagged: string[] = [];
  if (report.kind === "failure") {
    for (const r of report.recipients) {
      if (!r.address.includes("@")) continue;
      const address = r.address.toLowerCase();
      const existing = await em.findOne(AddressFlag, { where: { address } });
      // Blocked when the address itself is bad (no such mailbox or domain, moved), or when it
      // failed for good a second time; one 5.7.1 spam rejection does not shut a customer out.
      // Once blocked, a later temporary report does not lift the block.
      const repeated = r.permanent === true && existing !== null && /^5/.test(existing.status ?? "");
      await em.save(em.create(AddressFlag, {
        address,
        permanent: r.hardBounce || repeated || existing?.permanent === true,
        status: r.status ?? r.replyCode,
        reason: r.reason.slice(0, 1000) || "delivery failed",
        ticketId: ticketId ?? existing?.ticketId ?? null,
        bounces: (existing?.bounces ?? 0) + 1,
        flaggedAt: now,
      }));
      flagged.push(`${address}${r.hardBounce || repeated ? " (blocked)" : ""}`);
    }
  }
  let messageRowId: number | null = null;
  if (ticketId) {
    const text = `Delivery report (${report.kind}, ${report.format}): ${describe(report)}`;
    messageRowId = (await storeInbound(em, ctx, ticketId, msg, text, "internal")).id;
    await em.save(em.create(TicketEvent, { ticketId, at: now, actor: msg.from?.address ?? null, action: "bounce", detail: text.slice(0, 1000) }));
  }
  trail.push({ stage: "notify", verdict: "none", detail: `delivery reports get no answer; ${flagged.length ? `flagged ${flagged.join(", ")}` : "nothing flagged"}` });
  return { ticketId, messageRowId, flagged, trail };
}
