import type { AddressFlag, MessageDirection, MessageVisibility, ParticipantRole, Ticket } from "../db/entities.js";
import type { BounceReport } from "../mail/bounce.js";
import type { Classification } from "../mail/classify.js";
import { requesterOf } from "../mail/parse.js";
import type { InboundMessage } from "../mail/types.js";
import { EVENTS } from "../notify/events/index.js";
import type { GatewayContext } from "./context.js";
import { parseCommands } from "../mail/commands.js";
import { mergeTargetId } from "./workflow/commands/merge.js";
import { newWords } from "./workflow/people.js";
import { resolveThread, type ThreadLookup, type ThreadVerdict } from "./thread.js";
import { step, type TrailStep } from "./trail.js";

/*
 * Planning is pure: everything it needs from the database is read first, through the small
 * TicketReads interface, into MailFacts. processMail reads inside its transaction; `inspect`
 * reads the same way and writes nothing.
 */

/** A stored message as planning sees it. */
export interface StoredMessage {
  id: number;
  ticketId: number;
  messageId: string;
  fingerprint: string | null;
  direction: MessageDirection;
  visibility: MessageVisibility;
  fromAddress: string;
  toAddresses: string[];
  text: string;
  createdAt: Date;
}

/** A stored file of one of the ticket's inbound messages, with that message's visibility. */
export interface StoredAttachment {
  messageRowId: number;
  visibility: MessageVisibility;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  inline: boolean;
}

/** What planning may ask of stored data. The database-backed one is in repository.ts. */
export interface TicketReads extends ThreadLookup {
  /** Stored messages (inbound and outbound) with this Message-ID, oldest first. */
  messagesByMessageId(messageId: string): Promise<StoredMessage[]>;
  ticket(id: number): Promise<Ticket | null>;
  participants(ticketId: number): Promise<ParticipantFact[]>;
  /** Unresolved tickets not merged away, of these departments (null: of all), for #queue and the digest. */
  openTickets(departmentIds: string[] | null): Promise<Ticket[]>;
  /** Every message of the ticket, oldest first. */
  messages(ticketId: number): Promise<StoredMessage[]>;
  /** The files of the ticket's messages, oldest first. */
  attachments(ticketId: number): Promise<StoredAttachment[]>;
  addressFlags(addresses: string[]): Promise<AddressFlag[]>;
  /** How many mails of these events each address was sent since `since`. */
  recentMails(addresses: string[], events: string[], since: Date): Promise<Map<string, number>>;
}

/** A participant row as planning sees it; `removedAt` is set once an agent took them off (#cc remove). */
export interface ParticipantFact {
  address: string;
  name: string | null;
  role: ParticipantRole;
  removedAt?: Date | null;
}

export interface TicketFacts {
  row: Ticket;
  participants: ParticipantFact[];
  messages: StoredMessage[];
  attachments: StoredAttachment[];
}

/** What the mail stage found: the parsed mail, or why there is none. */
export type ReadMail =
  | { kind: "mail"; msg: InboundMessage; classification: Classification; bounce: BounceReport | null; trail: TrailStep[] }
  | { kind: "oversize"; head: InboundMessage | null; size: number; trail: TrailStep[] }
  | { kind: "unreadable"; code: "EPARSE"; message: string; trail: TrailStep[] };

/** The result of authenticating a mail in a configured agent's name (null: the sender is no agent). */
export type AgentAuth = { ok: boolean; reason: string } | null;

/** What notifications need to know: flags of bounced addresses, recent automatic answers. */
export interface OutboundFacts {
  flags: Map<string, AddressFlag>;
  recentAnswers: Map<string, number>;
}

export interface MailFacts extends OutboundFacts {
  msg: InboundMessage;
  classification: Classification;
  bounce: BounceReport | null;
  agentAuth: AgentAuth;
  now: Date;
  /** The stored message this mail is the same as (Message-ID and content). */
  twin: StoredMessage | null;
  thread: ThreadVerdict | null;
  ticket: TicketFacts | null;
  /** For a report: the mail of ours it reports on. */
  reportedMail: StoredMessage | null;
  /** Tickets an agent's commands name (#merge), merge pointers followed. */
  others: Map<number, TicketFacts>;
  /** For an agent's #queue: the open tickets of their departments (unordered). */
  queue: Ticket[] | null;
  /** Set for an action given at the terminal: the operator is trusted as the agent; nothing is mailed back. */
  terminal: boolean;
  /** What reading the facts decided (dedup, thread), after the mail stage's trail. */
  trail: TrailStep[];
}

/**
 * The key a mail is stored under: its Message-ID, or (without one) its content fingerprint, so
 * that one mail delivered twice is one ticket.
 */
export function messageKey(msg: InboundMessage): string {
  return msg.messageId ?? `${msg.fingerprint}@fingerprint.ticketpost.invalid`;
}

/** Events that answer an inbound mail: the ones the per-address limit counts. */
export const ANSWERING_EVENTS = Object.values(EVENTS)
  .filter((e) => e.answersInbound)
  .map((e) => e.name);

export type FactsEnv = Pick<GatewayContext, "directory" | "tagFormat" | "safety">;

export interface GatherOptions {
  now: Date;
  /** A terminal action names its ticket; it is not threaded by headers. */
  ticketId?: number;
}

async function outboundFacts(
  reads: TicketReads,
  env: FactsEnv,
  addresses: Array<string | null | undefined>,
  answering: Array<string | null | undefined>,
  now: Date,
): Promise<OutboundFacts> {
  const all = [...new Set(addresses.filter((a): a is string => !!a).map((a) => a.toLowerCase()))];
  const flags = new Map((await reads.addressFlags(all)).map((f) => [f.address, f]));
  const since = new Date(now.getTime() - env.safety.autoReplyWindowMinutes * 60_000);
  const ask = [...new Set(answering.filter((a): a is string => !!a).map((a) => a.toLowerCase()))];
  const recentAnswers = ask.length ? await reads.recentMails(ask, ANSWERING_EVENTS, since) : new Map<string, number>();
  return { flags, recentAnswers };
}

/** Everything planning needs about a ticket. */
export async function ticketFacts(reads: TicketReads, id: number): Promise<TicketFacts | null> {
  const row = await reads.ticket(id);
  if (!row) return null;
  return { row, participants: await reads.participants(id), messages: await reads.messages(id), attachments: await reads.attachments(id) };
}

/** The facts a parsed mail is planned from: identity, thread, ticket, the addresses it may mail. */
export async function gatherFacts(
  reads: TicketReads,
  env: FactsEnv,
  read: Extract<ReadMail, { kind: "mail" }>,
  agentAuth: AgentAuth,
  opts: GatherOptions,
): Promise<MailFacts> {
  const { msg, classification, bounce } = read;
  const facts: MailFacts = {
    msg,
    classification,
    bounce,
    agentAuth,
    now: opts.now,
    twin: null,
    thread: null,
    ticket: null,
    others: new Map(),
    queue: null,
    reportedMail: null,
    terminal: opts.ticketId !== undefined,
    trail: [...read.trail],
    flags: new Map(),
    recentAnswers: new Map(),
  };
  if (classification.kind === "loop") return facts;

  const key = messageKey(msg);
  const same = (await reads.messagesByMessageId(key)).filter((m) => m.direction === "inbound");
  // Rows stored before fingerprints were kept have none: for them the Message-ID decides, as it did then.
  facts.twin = same.find((m) => m.fingerprint === msg.fingerprint || m.fingerprint === null) ?? null;
  if (facts.twin) {
    facts.trail.push(
      step(
        "dedup",
        "duplicate",
        `${msg.messageId ? `Message-ID ${key}` : "no Message-ID; the content fingerprint"} matches message ${facts.twin.id} of ticket ${facts.twin.ticketId}, same content`,
      ),
    );
    return facts;
  }
  if (same.length > 0)
    facts.trail.push(
      step(
        "dedup",
        "reused-message-id",
        `Message-ID ${key} is already message ${same[0].id} of ticket ${same[0].ticketId}, but with other content: a new mail`,
      ),
    );
  else
    facts.trail.push(
      step(
        "dedup",
        "new",
        msg.messageId
          ? `Message-ID ${key} not seen before`
          : `no Message-ID; content fingerprint ${msg.fingerprint.slice(0, 16)}… not seen before`,
      ),
    );

  if ((classification.kind === "bounce" || classification.kind === "report") && bounce) {
    facts.reportedMail = bounce.originalMessageId
      ? ((await reads.messagesByMessageId(bounce.originalMessageId)).find((m) => m.direction === "outbound") ?? null)
      : null;
    if (facts.reportedMail) facts.ticket = await ticketFacts(reads, facts.reportedMail.ticketId);
    const named = bounce.recipients.map((r) => r.address).filter((a) => a.includes("@"));
    Object.assign(facts, await outboundFacts(reads, env, [...named, ...(facts.reportedMail?.toAddresses ?? [])], [], opts.now));
    return facts;
  }

  facts.thread =
    opts.ticketId !== undefined
      ? { ticketId: opts.ticketId, via: "none", reasons: [`given at the terminal for ticket ${opts.ticketId}`] }
      : await resolveThread(msg, env.tagFormat, reads);
  facts.trail.push(step("thread", facts.thread.ticketId === null ? "new-ticket" : "ticket", facts.thread.reasons.join("; ")));
  if (facts.thread.ticketId !== null) facts.ticket = await ticketFacts(reads, facts.thread.ticketId);

  if (facts.ticket?.row.mergedIntoId) await followMergePointer(reads, facts);
  await commandFacts(reads, env, facts);

  const t = facts.ticket;
  const requester = requesterOf(msg)?.address;
  const people = [...(t?.participants.map((p) => p.address) ?? []), ...(t ? [] : [...msg.to, ...msg.cc].map((a) => a.address))];
  const others = [...facts.others.values()].flatMap((o) => [o.row.requesterAddress, ...o.participants.map((p) => p.address)]);
  Object.assign(
    facts,
    await outboundFacts(
      reads,
      env,
      [requester, msg.from?.address, t?.row.requesterAddress, ...people, ...others, ...env.directory.members(null).map((m) => m.address)],
      [requester, t?.row.requesterAddress, ...people],
      opts.now,
    ),
  );
  return facts;
}

/** A merged ticket's mail goes to the ticket it was merged into (the pointer chain is followed). */
async function followMergePointer(reads: TicketReads, facts: MailFacts): Promise<void> {
  for (let hops = 0; facts.ticket?.row.mergedIntoId && hops < 10; hops++) {
    const from = facts.ticket.row;
    const into = await ticketFacts(reads, from.mergedIntoId!);
    if (!into) break;
    facts.trail.push(step("thread", "merged", `ticket ${from.id} was merged into ticket ${into.row.id}: the mail goes there`));
    facts.thread = {
      ...facts.thread!,
      ticketId: into.row.id,
      reasons: [...facts.thread!.reasons, `ticket ${from.id} was merged into ticket ${into.row.id}`],
    };
    facts.ticket = into;
  }
}

/** What an agent's commands need read first: the tickets #merge names, and the queue #queue asks for. */
async function commandFacts(reads: TicketReads, env: FactsEnv, facts: MailFacts): Promise<void> {
  const sender = facts.msg.from?.address;
  if (!sender || !env.directory.isAgent(sender)) return;
  const { commands } = parseCommands(facts.ticket ? newWords(facts.msg, facts.ticket) : facts.msg.text, facts.now);
  for (const c of commands) {
    if (c.kind === "queue" && !facts.ticket) {
      const departments = env.directory.departments.length ? env.directory.departmentsOf(sender).map((d) => d.id) : null;
      facts.queue = await reads.openTickets(departments);
    }
    if (c.kind !== "merge") continue;
    const named = mergeTargetId(c.target, env.tagFormat);
    let id: number | null = "id" in named ? named.id : null;
    for (let hops = 0; id !== null && !facts.others.has(id) && hops < 10; hops++) {
      const other: TicketFacts | null = await ticketFacts(reads, id);
      if (!other) break;
      facts.others.set(id, other);
      id = other.row.mergedIntoId;
    }
  }
}

/** The facts for the notice to the sender of a mail too large to take. */
export async function oversizeFacts(reads: TicketReads, env: FactsEnv, to: string | null, now: Date): Promise<OutboundFacts> {
  return outboundFacts(reads, env, [to], [to], now);
}
