import { EVENTS, type EventName } from "../../notify/events/index.js";
import type { Directory, Person } from "../directory.js";
import type { OutboundFacts, StoredMessage } from "../facts.js";
import type { PlanEnv } from "./env.js";
import type { FileRef, PlannedData, PlannedFiles, PlannedNotification, TicketState } from "./plan.js";
import type { CommandNotification } from "./types.js";
import type { HistoryEntry } from "../../notify/events/types.js";
import { fileParts, planFiles } from "./files.js";

/*
 * Who gets which mail, in which language, and who gets none: a bounced address, our own
 * addresses, the person whose own step it is, and an address that already had as many
 * automatic answers as the window allows. Pure: the address flags and counts are facts.
 */

export interface NotifyRequest<E extends EventName> {
  event: E;
  to: Person[];
  /** Not mailed to: the person whose action this is (nobody gets mail about their own step). */
  actor: Person | null;
  /** Send even to the actor (confirmations and errors go to exactly them). */
  toActor?: boolean;
  /** People in copy of the same mail (a public mail's participants); each is checked like `to`. */
  cc?: Person[];
  data: PlannedData<E>;
  /** The files of the mail(s) this one reports: attached within notify.maxAttachmentBytes, else listed. */
  files?: FileRef[];
  /** Exactly these files (one part of a #files answer), instead of deciding from `files`. */
  plannedFiles?: PlannedFiles;
}

export interface NotifyResult {
  notifications: PlannedNotification[];
  /** "event→address", or why one was withheld: for the trail. */
  lines: string[];
}

/**
 * Why a mail to this address must not be queued, if it must not: the address bounced for good,
 * or it already got as many automatic answers in the window as allowed (an autoresponder that
 * sends no RFC 3834 headers still cannot keep a loop going).
 */
export function holdBack(env: PlanEnv, facts: OutboundFacts, address: string, answersInbound: boolean): string | null {
  const flag = facts.flags.get(address);
  if (flag?.permanent)
    return `address bounced permanently (${flag.status ?? "no status"}: ${flag.reason.slice(0, 100)}); clear with ticketpost addresses clear ${address}`;
  if (!answersInbound || env.directory.isAgent(address)) return null;
  const recent = facts.recentAnswers.get(address) ?? 0;
  return recent >= env.safety.autoReplyPerAddress
    ? `${recent} automatic answers to this address in the last ${env.safety.autoReplyWindowMinutes} minutes (limit ${env.safety.autoReplyPerAddress})`
    : null;
}

/** The language of one recipient: the requester keeps the language their ticket was opened in. */
export function languageOf(
  dir: Directory,
  t: Pick<TicketState, "requesterAddress" | "language" | "departmentId"> | null,
  address: string,
): string {
  if (t && address === t.requesterAddress.toLowerCase()) return t.language;
  return dir.languageFor(address, t?.departmentId ?? null);
}

/** One event to each recipient, in each one's language; a public mail's `cc` rides along in one mail. */
export function planEvent<E extends EventName>(
  env: PlanEnv,
  facts: OutboundFacts,
  t: TicketState | null,
  r: NotifyRequest<E>,
): NotifyResult {
  const out: NotifyResult = { notifications: [], lines: [] };
  if (env.quiet) return out;
  const seen = new Set<string>();
  const usable = (person: Person): string | null => {
    const address = person.address.toLowerCase();
    if (seen.has(address) || env.directory.isOwn(address)) return null;
    if (!r.toActor && r.actor && address === r.actor.address.toLowerCase()) return null;
    seen.add(address);
    const held = holdBack(env, facts, address, EVENTS[r.event].answersInbound === true);
    if (held) {
      out.lines.push(`${r.event}→${address} withheld: ${held}`);
      return null;
    }
    return address;
  };
  const to: Person[] = [];
  for (const person of r.to) {
    const address = usable(person);
    if (address) to.push({ address, name: person.name });
  }
  // Limits and bounce blocks are per address: a withheld one is left out, the rest still get the mail.
  const cc: Person[] = [];
  for (const person of r.cc ?? []) {
    const address = env.directory.isAgent(person.address) ? null : usable(person);
    if (address) cc.push({ address, name: person.name });
  }
  // The requester withheld (or the actor): the first one in copy gets it in To.
  if (to.length === 0 && cc.length > 0) to.push(cc.shift()!);
  for (const [i, person] of to.entries()) {
    const copies = i === 0 && cc.length ? { cc } : {};
    const language = languageOf(env.directory, t, person.address);
    // Everyone in one mail reads the same files; an agent in To is told how to get listed ones.
    const files =
      r.plannedFiles ?? planFiles(r.files ?? [], env.safety.maxAttachmentBytes, env.directory.isAgent(person.address), language);
    out.notifications.push({
      event: r.event,
      to: person,
      ...copies,
      language,
      data: r.data,
      ...(files ? { files } : {}),
    } as PlannedNotification);
    const copyNote = i === 0 && cc.length ? ` (cc ${cc.map((c) => c.address).join(", ")})` : "";
    const fileNote = files
      ? ` (${files.attach.length ? `${files.attach.length} file(s) attached` : `${files.list.length} file(s) listed, over the limit`})`
      : "";
    out.lines.push(`${r.event}→${person.address}${copyNote}${fileNote}`);
  }
  return out;
}

/** The history a new assignee gets: the ticket's inbound messages, oldest first. */
export function historyOf(messages: StoredMessage[]): HistoryEntry[] {
  return messages
    .filter((m) => m.direction === "inbound")
    .slice(0, 50)
    .map((m) => ({
      at: m.createdAt.toISOString().slice(0, 16).replace("T", " "),
      from: m.fromAddress,
      visibility: m.visibility,
      direction: m.direction,
      text: m.text,
    }));
}

/**
 * The request for a mail a command causes. `files` are the files of the agent's own mail (they
 * go with a question, an answer or a resolution); `ticketFiles` the ticket's stored files (a new
 * assignee gets them with the history); a mail to the requester copies `copied` (the participants).
 */
export function commandRequest(
  n: CommandNotification,
  actor: Person,
  history: HistoryEntry[],
  files: FileRef[] = [],
  ticketFiles: FileRef[] = [],
  copied: Person[] = [],
): NotifyRequest<CommandNotification["event"]> {
  const words = { actor, text: n.text };
  const cc = EVENTS[n.event].audience === "requester" ? copied : [];
  switch (n.event) {
    case "taken":
      return { event: "taken", to: n.to, cc, actor, data: {} };
    case "resolved":
      return { event: "resolved", to: n.to, cc, actor, data: { text: n.text }, files };
    case "assigned":
      return {
        event: "assigned",
        to: n.to,
        actor,
        data: { ...words, history: n.withHistory ? history : [] },
        files: [...(n.withHistory ? ticketFiles : []), ...files],
      };
    case "question":
    case "agent-reply":
      return { event: n.event, to: n.to, cc, actor, data: words, files };
    case "files":
      return { event: "files", to: n.to, actor, toActor: true, data: {} };
    default:
      return { event: n.event, to: n.to, cc, actor, data: words };
  }
}

/** Merges several results (in order). */
export function merge(...results: NotifyResult[]): NotifyResult {
  return { notifications: results.flatMap((r) => r.notifications), lines: results.flatMap((r) => r.lines) };
}

/**
 * The mails a command causes, with their files: `own` are the files of the agent's mail, `stored`
 * the ticket's. The answer to #files is one mail per part, each under notify.maxAttachmentBytes.
 */
export function commandMails(
  env: PlanEnv,
  facts: OutboundFacts,
  t: TicketState,
  n: CommandNotification,
  actor: Person,
  history: HistoryEntry[],
  own: FileRef[],
  stored: FileRef[],
  copied: Person[] = [],
): NotifyResult {
  if (n.event !== "files") return planEvent(env, facts, t, commandRequest(n, actor, history, own, stored, copied));
  const parts = fileParts([...stored, ...own], env.safety.maxAttachmentBytes);
  return merge(
    ...parts.map((part) => planEvent(env, facts, t, { event: "files", to: n.to, actor, toActor: true, data: {}, plannedFiles: part })),
  );
}
