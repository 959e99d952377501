import type { ParticipantRole } from "../../db/entities.js";
import { stripQuotedHistory } from "../../mail/quoted-history.js";
import type { InboundMessage, MailAddress } from "../../mail/types.js";
import type { Person } from "../directory.js";
import type { ParticipantFact, TicketFacts } from "../facts.js";
import type { PlanEnv } from "./env.js";

/**
 * Who joins a ticket: the requester, and whom a participant puts in To or Cc; never one of our
 * own addresses, never an agent (agents work the ticket, they are not its customers), and no
 * more than limits.maxParticipants (a mail to thousands of recipients makes no thousands of rows).
 */
export function joiningPeople(
  env: PlanEnv,
  existing: string[],
  people: Array<{ who: MailAddress | Person; role: ParticipantRole }>,
): Array<{ who: Person; role: ParticipantRole }> {
  const known = new Set(existing.map((a) => a.toLowerCase()));
  const out: Array<{ who: Person; role: ParticipantRole }> = [];
  for (const { who, role } of people) {
    const address = who.address.toLowerCase();
    if (known.size >= env.safety.maxParticipants) break;
    if (known.has(address) || env.directory.isOwn(address)) continue;
    if (role !== "requester" && env.directory.isAgent(address)) continue;
    known.add(address);
    out.push({ who: { address, name: who.name }, role });
  }
  return out;
}

/** Is this address the requester or a participant of the ticket (not one an agent took off)? */
export function isParticipant(t: TicketFacts, address: string | null | undefined): boolean {
  if (!address) return false;
  return t.row.requesterAddress === address || t.participants.some((p) => p.address === address && !p.removedAt);
}

/**
 * The people in copy of a ticket's public mails: its participants but the requester (who gets
 * the mail in To) and anyone an agent took off, after this mail's #cc changes.
 */
export function copiedPeople(
  participants: ParticipantFact[],
  requesterAddress: string,
  changes: Array<{ address: string; removed: boolean }> = [],
): Person[] {
  const people = new Map(participants.map((p) => [p.address, { address: p.address, name: p.name, removed: !!p.removedAt }]));
  for (const c of changes) people.set(c.address, { address: c.address, name: people.get(c.address)?.name ?? null, removed: c.removed });
  return [...people.values()]
    .filter((p) => !p.removed && p.address !== requesterAddress.toLowerCase())
    .map((p) => ({ address: p.address, name: p.name }));
}

/**
 * The texts of our own mails a reply may quote, to cut at: the mail it answers (In-Reply-To)
 * first, then the ticket's other outbound mails, newest first.
 */
export function ownTexts(msg: InboundMessage, t: TicketFacts | null): string[] {
  const ours = (t?.messages ?? []).filter((m) => m.direction === "outbound");
  const answered = ours.find((m) => m.messageId === msg.inReplyTo);
  return [
    ...(answered ? [answered.text] : []),
    ...ours
      .filter((m) => m !== answered)
      .reverse()
      .map((m) => m.text),
  ];
}

/** The new words of a reply: quoted history cut, first at our own text. */
export function newWords(msg: InboundMessage, t: TicketFacts | null): string {
  return stripQuotedHistory(msg.text, { ownTexts: ownTexts(msg, t) });
}
