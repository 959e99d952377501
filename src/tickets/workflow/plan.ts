import type { MessageVisibility, ParticipantRole, ReceiptOutcome, Ticket } from "../../db/entities.js";
import type { EventData, EventName } from "../../notify/events/index.js";
import type { ErrorCode } from "../../shared/errors.js";
import type { Person } from "../directory.js";
import type { TrailStep } from "../trail.js";
import type { Change } from "./types.js";

/*
 * A plan is everything the workflow decided about one mail, before anything is written: the
 * ticket change, the message, the people, the notifications, the events and the trail. The
 * planning functions (workflow/*.ts) make plans from facts and never touch the database;
 * persist.ts is the only code that writes one. `inspect` prints the same plan.
 */

/** A ticket row without its id: the state a plan leaves the ticket in. */
export type TicketState = Omit<Ticket, "id">;

/** What becomes of the ticket: a new one (id null until persist inserts it), or the changed columns of an existing one. */
export interface TicketPlan {
  id: number | null;
  /** The ticket as it will be: what the notifications show. */
  state: TicketState;
  /** Columns that change on an existing ticket (empty: unchanged). */
  patch: Partial<TicketState>;
  /**
   * Overdue notices claim the ticket: the update applies only while no notice was sent since
   * this instant, so two runs (or instances) never both send one.
   */
  claimOverdueBefore?: Date;
}

/** Data a notification carries beyond what persist adds (language, gateway, recipient, ticket). */
export type PlannedData<E extends EventName> = E extends "command-confirmation"
  ? { changes: Change[] }
  : E extends "command-error"
    ? { errors: string[] }
    : EventData[E];

/** A stored file a mail may carry: a blob reference (SHA-256) with its name, type and size (bytes). */
export interface FileRef {
  sha256: string;
  filename: string;
  contentType: string;
  size: number;
  /** Shown inline in the mail it came with (an image referenced by cid:). */
  inline: boolean;
}

/** The files of one mail: attached, or listed with how to get them (see FilesView). */
export interface PlannedFiles {
  attach: FileRef[];
  list: FileRef[];
  command: string | null;
  /** notify.maxAttachmentBytes */
  limit: number;
  part: { n: number; of: number } | null;
}

/**
 * One mail to one person, in their language, with the files it carries; rendered and queued by
 * persist. A public mail also names the ticket's participants in `cc`: one mail, so a reply-all
 * keeps everyone.
 */
export type PlannedNotification = {
  [E in EventName]: { event: E; to: Person; cc?: Person[]; language: string; data: PlannedData<E>; files?: PlannedFiles };
}[EventName];

/** #merge: the ticket folded into `into` (its messages and people move; both requesters are told). */
export interface MergePlan {
  from: number;
  into: number;
  /** The target as it will be (its notifications carry its tag). */
  intoState: TicketState;
  intoPatch: Partial<TicketState>;
  /** People of the merged ticket that join the target (not there yet). */
  participants: Array<{ who: Person; role: ParticipantRole }>;
  events: Array<{ action: string; detail: string; actor: string | null }>;
  notifications: PlannedNotification[];
}

/** A failed recipient of one of our mails, as a bounce reported it. */
export interface AddressFlagPlan {
  address: string;
  permanent: boolean;
  status: string | null;
  reason: string;
  ticketId: number | null;
  bounces: number;
}

/** What the workflow decided; the kinds are what `inspect` says. */
export type PlanKind =
  | "new-ticket"
  | "late-reply"
  | "reply"
  | "reopen"
  | "agent-answer"
  | "commands"
  | "command-error"
  | "held-back"
  | "stranger"
  | "unverified-agent"
  | "automatic-reply"
  | "bounce"
  | "report"
  | "loop"
  | "duplicate"
  | "queue"
  | "digest"
  | "failed";

export interface Plan {
  kind: PlanKind;
  outcome: ReceiptOutcome;
  /** For a failure: the error code (the mail goes to Failed). */
  errorCode: ErrorCode | null;
  reason: string | null;
  ticket: TicketPlan | null;
  /** The inbound mail stored on the ticket, with the text people wrote (quotes and commands removed). */
  message: { visibility: MessageVisibility; text: string } | null;
  /** The stored message this mail is a duplicate of. */
  duplicateOf: { messageRowId: number; ticketId: number } | null;
  participants: Array<{ who: Person; role: ParticipantRole }>;
  /** Participants put back in copy or taken off by an agent (#cc): rows that exist already. */
  participantUpdates: Array<{ address: string; removed: boolean }>;
  merge: MergePlan | null;
  /** A digest claims its period and department first: a second instance's run writes nothing. */
  digestClaim?: { period: string; departmentId: string } | null;
  events: Array<{ action: string; detail: string; actor: string | null }>;
  notifications: PlannedNotification[];
  /** A notice about a mail that made no ticket (too large). */
  ticketless: PlannedNotification[];
  addressFlags: AddressFlagPlan[];
  /** Notifications thread under this mail. */
  thread: { inReplyTo: string | null; references: string[] };
  trail: TrailStep[];
  /** For an agent's commands: what changed, or why nothing did (printed by terminal actions). */
  changes: Change[];
  commandErrors: string[];
}

/** A plan that writes nothing but the receipt. */
export function emptyPlan(kind: PlanKind, outcome: ReceiptOutcome, trail: TrailStep[]): Plan {
  return {
    kind,
    outcome,
    errorCode: null,
    reason: null,
    ticket: null,
    message: null,
    duplicateOf: null,
    participants: [],
    participantUpdates: [],
    merge: null,
    events: [],
    notifications: [],
    ticketless: [],
    addressFlags: [],
    thread: { inReplyTo: null, references: [] },
    trail,
    changes: [],
    commandErrors: [],
  };
}

/** The mail cannot be used: it goes to Failed with its reason (and the trail up to here). */
export function failurePlan(code: ErrorCode, reason: string, trail: TrailStep[]): Plan {
  return { ...emptyPlan("failed", "failed", trail), errorCode: code, reason };
}

/** A ticket row's state, without its id. */
export function stateOf(row: Ticket): TicketState {
  const { id: _id, ...state } = row;
  return state;
}

/** The columns in which `after` differs from `before`. */
export function patchOf(before: TicketState, after: TicketState): Partial<TicketState> {
  const patch: Partial<TicketState> = {};
  for (const k of Object.keys(after) as Array<keyof TicketState>) {
    const a = after[k];
    const b = before[k];
    const same = a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
    if (!same) (patch as Record<string, unknown>)[k] = a;
  }
  return patch;
}
