import { inspectTags, type TicketTagFormat } from "../mail/subject.js";
import type { InboundMessage } from "../mail/types.js";

/** What threading needs to know about stored data; the database-backed one lives in repository.ts. */
export interface ThreadLookup {
  ticketExists(ticketId: number): Promise<boolean>;
  /** The ticket of the first stored message whose Message-ID is in the list, with the id that matched. */
  ticketByMessageIds(messageIds: string[]): Promise<{ ticketId: number; messageId: string } | null>;
}

export interface ThreadVerdict {
  ticketId: number | null;
  via: "subject-tag" | "in-reply-to" | "references" | "none";
  reasons: string[];
}

/**
 * Which ticket a mail belongs to. A valid tag anywhere in the subject wins; then In-Reply-To,
 * then References. A "Re:" prefix alone means nothing: a mail without either is a new ticket.
 */
export async function resolveThread(msg: InboundMessage, format: TicketTagFormat, lookup: ThreadLookup): Promise<ThreadVerdict> {
  const reasons: string[] = [];
  for (const tag of inspectTags(msg.subject, format)) {
    const id = tag.ticketId;
    if (!tag.valid) {
      reasons.push(`${tag.reason}: ignored (a guessed number is not a reference)`);
      continue;
    }
    if (await lookup.ticketExists(id)) {
      return { ticketId: id, via: "subject-tag", reasons: [...reasons, `subject carries the tag of ticket ${id}`] };
    }
    reasons.push(`subject tag names ticket ${id}, which does not exist`);
  }
  if (msg.inReplyTo) {
    const hit = await lookup.ticketByMessageIds([msg.inReplyTo]);
    if (hit)
      return {
        ticketId: hit.ticketId,
        via: "in-reply-to",
        reasons: [...reasons, `In-Reply-To names our message ${hit.messageId} of ticket ${hit.ticketId}`],
      };
    reasons.push("In-Reply-To names no message we know");
  }
  const refs = msg.references.filter((r) => r !== msg.inReplyTo);
  if (refs.length > 0) {
    // Newest first: the last reference is the mail answered most recently.
    const hit = await lookup.ticketByMessageIds([...refs].reverse());
    if (hit)
      return {
        ticketId: hit.ticketId,
        via: "references",
        reasons: [...reasons, `References name our message ${hit.messageId} of ticket ${hit.ticketId}`],
      };
    reasons.push("References name no message we know");
  }
  reasons.push("no ticket tag and no known reply headers: a new ticket");
  return { ticketId: null, via: "none", reasons };
}
