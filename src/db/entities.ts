import "reflect-metadata";
import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, Unique } from "typeorm";

/*
 * Every column names its type, so the schema does not depend on decorator metadata, and only
 * types that SQLite and PostgreSQL share are used (Date maps to datetime / timestamp).
 * Rows refer to each other by id columns rather than ORM relations: the workflow code reads
 * and writes plain rows, and no lazy loading hides a query.
 */

/** UIDs and UIDVALIDITY are unsigned 32-bit: too big for a signed PostgreSQL integer. */
const bigintAsNumber = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

export type TicketStatus = "new" | "in_progress" | "waiting" | "resolved";

@Entity("ticket")
export class Ticket {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "text" }) title!: string;
  @Column({ type: "text" }) description!: string;
  @Column({ type: "varchar", length: 32 }) status!: TicketStatus;
  @Column({ type: "varchar", length: 320 }) requesterAddress!: string;
  @Column({ type: "varchar", length: 320, nullable: true }) requesterName!: string | null;
  @Column({ type: "varchar", length: 8 }) language!: string;
  @Column({ type: Date }) createdAt!: Date;
  @Column({ type: Date }) updatedAt!: Date;
  @Column({ type: "varchar", length: 32, nullable: true }) departmentId!: string | null;
  @Column({ type: "varchar", length: 16, default: "normal" }) priority!: string;
  @Column({ type: "varchar", length: 32, default: "impaired" }) urgency!: string;
  /** Calendar date YYYY-MM-DD: a due date is a day, not an instant. */
  @Column({ type: "varchar", length: 10, nullable: true }) dueDate!: string | null;
  @Column({ type: "varchar", length: 320, nullable: true }) assigneeAddress!: string | null;
  @Column({ type: Date, nullable: true }) resolvedAt!: Date | null;
  @Column({ type: "text", nullable: true }) resolution!: string | null;
  /** The closed ticket a late reply referred to. */
  @Column({ type: "integer", nullable: true }) relatedTicketId!: number | null;
  @Column({ type: Date, nullable: true }) lastOverdueNoticeAt!: Date | null;
  /** Set when the ticket was merged into another (migration 0009): mail to this one goes there. */
  @Column({ type: "integer", nullable: true }) mergedIntoId!: number | null;
}

/** What happened to a ticket, by whom: status changes, assignments, field changes. */
@Entity("ticket_event")
@Index("idx_ticket_event_ticket", ["ticketId"])
export class TicketEvent {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "integer" }) ticketId!: number;
  @Column({ type: Date }) at!: Date;
  @Column({ type: "varchar", length: 320, nullable: true }) actor!: string | null;
  @Column({ type: "varchar", length: 32 }) action!: string;
  @Column({ type: "text" }) detail!: string;
}

export type ParticipantRole = "requester" | "to" | "cc";

@Entity("participant")
@Unique("uq_participant_ticket_address", ["ticketId", "address"])
export class Participant {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "integer" }) ticketId!: number;
  @Column({ type: "varchar", length: 320 }) address!: string;
  @Column({ type: "varchar", length: 320, nullable: true }) name!: string | null;
  @Column({ type: "varchar", length: 16 }) role!: ParticipantRole;
  /** An agent took them off (#cc remove): no more copies, and being copied in again does not bring them back. */
  @Column({ type: Date, nullable: true }) removedAt!: Date | null;
}

export type MessageDirection = "inbound" | "outbound";
export type MessageVisibility = "public" | "internal";

@Entity("message")
@Index("idx_message_ticket", ["ticketId"])
@Index("idx_message_message_id", ["messageId"])
// Identity is the Message-ID and the content: a different mail that reuses a Message-ID is stored
// beside the first; the same mail twice is not (outbound rows have no fingerprint).
@Index("uq_message_identity", ["messageId", "fingerprint"], { unique: true })
export class Message {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "integer" }) ticketId!: number;
  @Column({ type: "varchar", length: 16 }) direction!: MessageDirection;
  @Column({ type: "varchar", length: 16 }) visibility!: MessageVisibility;
  /** Message-ID without angle brackets; for inbound mail without one, its content fingerprint. */
  @Column({ type: "varchar", length: 998 }) messageId!: string;
  /** Content identity of an inbound mail (InboundMessage.fingerprint); null for our own mails and rows from before it was kept. */
  @Column({ type: "varchar", length: 64, nullable: true }) fingerprint!: string | null;
  @Column({ type: "varchar", length: 998, nullable: true }) inReplyTo!: string | null;
  /** Space-separated Message-IDs, as in the header. */
  @Column({ type: "text", nullable: true }) references!: string | null;
  @Column({ type: "varchar", length: 320 }) fromAddress!: string;
  @Column({ type: "varchar", length: 320, nullable: true }) fromName!: string | null;
  /** JSON array of addresses. */
  @Column({ type: "text" }) toAddresses!: string;
  @Column({ type: "text" }) ccAddresses!: string;
  @Column({ type: "text" }) subject!: string;
  @Column({ type: "text" }) text!: string;
  /** The whole mail as received, content-addressed under the data directory. */
  @Column({ type: "varchar", length: 64, nullable: true }) rawSha256!: string | null;
  @Column({ type: "integer", nullable: true }) rawSize!: number | null;
  @Column({ type: Date }) createdAt!: Date;
}

@Entity("attachment")
@Index("idx_attachment_message", ["messageRowId"])
export class Attachment {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "integer" }) messageRowId!: number;
  @Column({ type: "varchar", length: 255 }) filename!: string;
  @Column({ type: "varchar", length: 255 }) contentType!: string;
  @Column({ type: "integer" }) size!: number;
  @Column({ type: "varchar", length: 64 }) sha256!: string;
  @Column({ type: "boolean" }) inline!: boolean;
}

export type ReceiptOutcome =
  "ticket_created" | "reply_added" | "duplicate" | "ignored" | "answered" | "bounce" | "report" | "failed" | "retried";

/**
 * One row per mail taken from a mailbox: its position (UIDVALIDITY + UID), what became of it,
 * and, for a failed mail, why. Written in the same transaction as the ticket change, so after a
 * crash the gateway knows which mails in the inbox are already done and only need moving.
 */
@Entity("mail_receipt")
@Index("idx_receipt_ticket", ["ticketId"])
@Unique("uq_receipt_position", ["mailbox", "uidValidity", "uid"])
export class MailReceipt {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "varchar", length: 255 }) mailbox!: string;
  @Column({ type: "bigint", transformer: bigintAsNumber }) uidValidity!: number;
  @Column({ type: "bigint", transformer: bigintAsNumber }) uid!: number;
  @Column({ type: "varchar", length: 998, nullable: true }) messageIdHeader!: string | null;
  @Column({ type: "text", nullable: true }) subject!: string | null;
  @Column({ type: "varchar", length: 320, nullable: true }) fromAddress!: string | null;
  @Column({ type: "varchar", length: 32 }) outcome!: ReceiptOutcome;
  @Column({ type: "varchar", length: 32, nullable: true }) errorCode!: string | null;
  @Column({ type: "text", nullable: true }) reason!: string | null;
  @Column({ type: "integer", nullable: true }) ticketId!: number | null;
  @Column({ type: "integer", nullable: true }) messageRowId!: number | null;
  @Column({ type: "varchar", length: 64, nullable: true }) rawSha256!: string | null;
  @Column({ type: "integer", nullable: true }) rawSize!: number | null;
  /** Folder the mail was moved to once the transaction had committed; null until then. */
  @Column({ type: "varchar", length: 255, nullable: true }) movedTo!: string | null;
  @Column({ type: Date }) receivedAt!: Date;
}

/** What each stage decided about one mail, in order: what `inspect` prints and tests assert. */
@Entity("trail_entry")
@Index("idx_trail_receipt", ["receiptId"])
export class TrailEntry {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "integer" }) receiptId!: number;
  @Column({ type: "integer" }) seq!: number;
  @Column({ type: "varchar", length: 32 }) stage!: string;
  @Column({ type: "varchar", length: 32 }) verdict!: string;
  @Column({ type: "text" }) detail!: string;
}

export type OutboxStatus = "pending" | "sent" | "failed";

@Entity("outbox")
@Index("idx_outbox_due", ["status", "nextAttemptAt"])
@Index("idx_outbox_address", ["toAddress", "createdAt"])
@Index("idx_outbox_created", ["createdAt"])
export class OutboxMail {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "integer", nullable: true }) ticketId!: number | null;
  @Column({ type: "varchar", length: 64 }) event!: string;
  @Column({ type: "varchar", length: 320 }) toAddress!: string;
  @Column({ type: "varchar", length: 320, nullable: true }) toName!: string | null;
  /** JSON array of {address, name}: the ticket's participants copied on a public mail (migration 0009). */
  @Column({ type: "text", nullable: true }) ccAddresses!: string | null;
  @Column({ type: "varchar", length: 8 }) language!: string;
  /** Rendered when queued, in the transaction of the change: what is sent is what history shows. */
  @Column({ type: "text" }) subject!: string;
  @Column({ type: "text" }) textBody!: string;
  @Column({ type: "text", nullable: true }) htmlBody!: string | null;
  /** Message row of the outbound copy, for history and threading. */
  @Column({ type: "integer", nullable: true }) messageRowId!: number | null;
  /** Chosen when queued and stored as an outbound message, so replies thread before it is sent. */
  @Column({ type: "varchar", length: 998 }) messageId!: string;
  @Column({ type: "varchar", length: 998, nullable: true }) inReplyTo!: string | null;
  @Column({ type: "text", nullable: true }) references!: string | null;
  @Column({ type: "varchar", length: 16 }) status!: OutboxStatus;
  @Column({ type: "integer" }) attempts!: number;
  @Column({ type: Date }) nextAttemptAt!: Date;
  @Column({ type: "text", nullable: true }) lastError!: string | null;
  @Column({ type: Date }) createdAt!: Date;
  @Column({ type: Date, nullable: true }) sentAt!: Date | null;
}

/** A file an outbox row attaches: a reference into the blob store, not a copy (migration 0008). */
@Entity("outbox_attachment")
@Index("idx_outbox_attachment_outbox", ["outboxId"])
export class OutboxAttachment {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  @Column({ type: "integer" }) outboxId!: number;
  /** Order of the files in the mail. */
  @Column({ type: "integer" }) seq!: number;
  @Column({ type: "varchar", length: 255 }) filename!: string;
  @Column({ type: "varchar", length: 255 }) contentType!: string;
  @Column({ type: "integer" }) size!: number;
  @Column({ type: "varchar", length: 64 }) sha256!: string;
  /** Content-ID (no angle brackets) of an image the HTML part shows inline; null for an ordinary attachment. */
  @Column({ type: "varchar", length: 255, nullable: true }) contentId!: string | null;
}

/**
 * One row per running gateway process: its version and how its last poll went. `status` and the
 * health endpoint read it; `migrate` refuses while a process of another version is alive.
 */
@Entity("gateway_instance")
export class GatewayInstance {
  @PrimaryColumn({ type: "varchar", length: 128 }) id!: string;
  @Column({ type: "varchar", length: 32 }) version!: string;
  @Column({ type: Date }) startedAt!: Date;
  @Column({ type: Date }) heartbeatAt!: Date;
  @Column({ type: Date, nullable: true }) lastPollAt!: Date | null;
  @Column({ type: "text", nullable: true }) lastPollError!: string | null;
  @Column({ type: "boolean" }) idleConnected!: boolean;
  @Column({ type: Date, nullable: true }) stoppedAt!: Date | null;
  /** JSON list of the mailbox ids this instance drains (migration 0006). */
  @Column({ type: "text", nullable: true }) mailboxes!: string | null;
}

/** Values the gateway makes once and every instance shares, e.g. the key of the reference check. */
@Entity("gateway_setting")
export class GatewaySetting {
  @PrimaryColumn({ type: "varchar", length: 64 }) key!: string;
  @Column({ type: "text" }) value!: string;
}

/**
 * An address whose mail bounced. A permanent failure stops all mail to it until someone clears
 * the flag (`ticketpost addresses clear`); a temporary one is only recorded.
 */
@Entity("address_flag")
export class AddressFlag {
  @PrimaryColumn({ type: "varchar", length: 320 }) address!: string;
  @Column({ type: "boolean" }) permanent!: boolean;
  @Column({ type: "varchar", length: 16, nullable: true }) status!: string | null;
  @Column({ type: "text" }) reason!: string;
  @Column({ type: "integer", nullable: true }) ticketId!: number | null;
  @Column({ type: "integer" }) bounces!: number;
  @Column({ type: Date }) flaggedAt!: Date;
}

/** One digest period of one department, claimed by the instance that sends it (unique: once per period). */
@Entity("digest_run")
@Unique("uq_digest_run_period", ["period", "departmentId"])
export class DigestRun {
  @PrimaryGeneratedColumn({ type: "integer" }) id!: number;
  /** The scheduled slot, "YYYY-MM-DDTHH:MM:SS" in UTC. */
  @Column({ type: "varchar", length: 32 }) period!: string;
  @Column({ type: "varchar", length: 32 }) departmentId!: string;
  @Column({ type: "varchar", length: 128, nullable: true }) instanceId!: string | null;
  @Column({ type: Date }) createdAt!: Date;
}

export const ENTITIES = [
  GatewaySetting,
  AddressFlag,
  GatewayInstance,
  Ticket,
  TicketEvent,
  Participant,
  Message,
  Attachment,
  MailReceipt,
  TrailEntry,
  OutboxMail,
  OutboxAttachment,
  DigestRun,
];
