import type { Ticket } from "../../db/entities.js";
import type { Command } from "../../mail/commands.js";
import type { TicketTagFormat } from "../../mail/subject.js";
import type { Directory, Person } from "../directory.js";
import type { ParticipantFact, TicketFacts } from "../facts.js";

/** A change worth telling the agent about in the confirmation; worded per language in change-text.ts. */
export type Change =
  | { kind: "status"; to: string }
  | { kind: "assignee"; to: Person | null }
  | { kind: "department"; to: string }
  | { kind: "priority"; to: string }
  | { kind: "urgency"; to: string }
  | { kind: "due"; to: string }
  | { kind: "note" }
  | { kind: "question"; to: string }
  | { kind: "answer"; to: string }
  | { kind: "resolution" }
  | { kind: "created" }
  | { kind: "cc"; action: "add" | "remove"; to: string }
  | { kind: "merged"; to: string };

/** A mail a command causes; its data is made when the plan is (workflow/notify.ts). */
export interface CommandNotification {
  event: "question" | "assigned" | "resolved" | "taken" | "note" | "agent-reply" | "files";
  to: Person[];
  /** The human text the mail carries (question, answer, note, resolution), if any. */
  text: string | null;
  /** Include the ticket's history (for a new assignee). */
  withHistory?: boolean;
}

/** What a command decided, collected before anything is written; discarded whole on any error. */
export interface Effects {
  changes: Change[];
  notifications: CommandNotification[];
  events: Array<{ action: string; detail: string }>;
  /** People put in copy (#cc add) or taken off (#cc remove), in order. */
  participants: Array<{ address: string; removed: boolean }>;
  /** #merge: the ticket this one is folded into (pointers already followed). */
  merge: TicketFacts | null;
}

export interface CommandEnv {
  dir: Directory;
  actor: Person;
  now: Date;
  /** The text of the agent's mail below the commands, quoted history removed. */
  text: string;
  /** True when the ticket is being created by this very mail (after-the-fact work). */
  isNew: boolean;
  /** The ticket's people as stored (the requester's row and anyone an agent took off included). */
  people: ParticipantFact[];
  /** Other tickets the commands name (#merge), as read before planning. */
  others: Map<number, TicketFacts>;
  tagFormat: TicketTagFormat;
  maxParticipants: number;
}

/** A command handler changes the working copy and records effects, or returns an error sentence. */
export type CommandHandler<K extends Command["kind"]> = (
  t: Ticket,
  cmd: Extract<Command, { kind: K }>,
  env: CommandEnv,
  fx: Effects,
) => string | null;

export function emptyEffects(): Effects {
  return { changes: [], notifications: [], events: [], participants: [], merge: null };
}
