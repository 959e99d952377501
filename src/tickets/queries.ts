import type { DataSource } from "typeorm";
import { Attachment, MailReceipt, Message, OutboxMail, Participant, Ticket, TicketEvent, TrailEntry } from "../db/entities.js";
import { formatReference, type TicketTagFormat } from "../mail/subject.js";
import { In } from "typeorm";
import { compareWorkOrder } from "./queue-order.js";
import { localDate } from "../mail/dates.js";

/** Read-only views for the CLI (and later the HTTP side): plain JSON-able objects. */

export interface TicketSummary {
  id: number;
  reference: string;
  title: string;
  status: string;
  department: string | null;
  assignee: string | null;
  priority: string;
  urgency: string;
  dueDate: string | null;
  overdue: boolean;
  requester: string;
  messages: number;
  createdAt: string;
  updatedAt: string;
}

export interface TicketFilter {
  status?: string;
  department?: string;
  assignee?: string;
  overdue?: boolean;
  /** "id" (default) or "work": the agent's work order (urgency, priority, due date, age). */
  order?: "id" | "work";
  today?: string;
}

export async function listTickets(db: DataSource, format: TicketTagFormat, filter: TicketFilter = {}): Promise<TicketSummary[]> {
  const where: Record<string, unknown> = {};
  if (filter.status) where.status = filter.status;
  if (filter.department) where.departmentId = filter.department.toLowerCase();
  if (filter.assignee) where.assigneeAddress = filter.assignee.toLowerCase();
  const today = filter.today ?? localDate(new Date());
  let tickets = await db.getRepository(Ticket).find({ where, order: { id: "ASC" } });
  const isOverdue = (t: Ticket) => t.status !== "resolved" && !!t.dueDate && t.dueDate < today;
  if (filter.overdue) tickets = tickets.filter(isOverdue);
  if (filter.order === "work") tickets.sort(compareWorkOrder);
  const counts = new Map<number, number>();
  if (tickets.length) {
    const rows: Array<{ ticketId: number; n: string | number }> = await db
      .getRepository(Message)
      .createQueryBuilder("m")
      .select("m.ticketId", "ticketId")
      .addSelect("COUNT(*)", "n")
      .where({ ticketId: In(tickets.map((t) => t.id)) })
      .groupBy("m.ticketId")
      .getRawMany();
    for (const r of rows) counts.set(Number(r.ticketId), Number(r.n));
  }
  return tickets.map((t) => ({
    id: t.id,
    reference: formatReference(format, t.id),
    title: t.title,
    status: t.status,
    department: t.departmentId,
    assignee: t.assigneeAddress,
    priority: t.priority,
    urgency: t.urgency,
    dueDate: t.dueDate,
    overdue: isOverdue(t),
    requester: t.requesterAddress,
    messages: counts.get(t.id) ?? 0,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  }));
}

export async function showTicket(db: DataSource, format: TicketTagFormat, id: number) {
  const ticket = await db.getRepository(Ticket).findOne({ where: { id } });
  if (!ticket) return null;
  const participants = await db.getRepository(Participant).find({ where: { ticketId: id }, order: { id: "ASC" } });
  const messages = await db.getRepository(Message).find({ where: { ticketId: id }, order: { id: "ASC" } });
  const attachments = messages.length
    ? await db.getRepository(Attachment).find({ where: { messageRowId: In(messages.map((m) => m.id)) }, order: { id: "ASC" } })
    : [];
  // By message row: a merged ticket's mails (and their outbox rows) moved here with their messages.
  const outbox = messages.length
    ? await db.getRepository(OutboxMail).find({ where: { messageRowId: In(messages.map((m) => m.id)) }, order: { id: "ASC" } })
    : [];
  const list = (json: string | null): string[] => {
    try {
      return json ? (JSON.parse(json) as string[]) : [];
    } catch {
      return [];
    }
  };
  return {
    id: ticket.id,
    reference: formatReference(format, ticket.id),
    title: ticket.title,
    status: ticket.status,
    department: ticket.departmentId,
    assignee: ticket.assigneeAddress,
    priority: ticket.priority,
    urgency: ticket.urgency,
    dueDate: ticket.dueDate,
    resolution: ticket.resolution,
    relatedTicket: ticket.relatedTicketId ? formatReference(format, ticket.relatedTicketId) : null,
    mergedInto: ticket.mergedIntoId ? formatReference(format, ticket.mergedIntoId) : null,
    events: (await db.getRepository(TicketEvent).find({ where: { ticketId: id }, order: { id: "ASC" } })).map((e) => ({
      at: e.at.toISOString(),
      actor: e.actor,
      action: e.action,
      detail: e.detail,
    })),
    requester: { address: ticket.requesterAddress, name: ticket.requesterName },
    description: ticket.description,
    createdAt: ticket.createdAt.toISOString(),
    updatedAt: ticket.updatedAt.toISOString(),
    participants: participants.map((p) => ({
      address: p.address,
      name: p.name,
      role: p.role,
      removedAt: p.removedAt?.toISOString() ?? null,
    })),
    messages: messages.map((m) => {
      const out = outbox.find((o) => o.messageRowId === m.id);
      return {
        id: m.id,
        direction: m.direction,
        visibility: m.visibility,
        messageId: m.messageId,
        from: m.fromAddress,
        to: list(m.toAddresses),
        cc: list(m.ccAddresses),
        subject: m.subject,
        text: m.text,
        createdAt: m.createdAt.toISOString(),
        delivery: out
          ? { status: out.status, attempts: out.attempts, lastError: out.lastError, sentAt: out.sentAt?.toISOString() ?? null }
          : undefined,
        attachments: attachments
          .filter((a) => a.messageRowId === m.id)
          .map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
      };
    }),
  };
}

export async function listFailedMails(db: DataSource) {
  const receipts = await db.getRepository(MailReceipt).find({ where: { outcome: "failed" }, order: { id: "ASC" } });
  const trail = receipts.length
    ? await db
        .getRepository(TrailEntry)
        .find({ where: { receiptId: In(receipts.map((r) => r.id)) }, order: { receiptId: "ASC", seq: "ASC" } })
    : [];
  return receipts.map((r) => ({
    id: r.id,
    receivedAt: r.receivedAt.toISOString(),
    mailbox: r.mailbox,
    uid: r.uid,
    folder: r.movedTo,
    messageId: r.messageIdHeader,
    from: r.fromAddress,
    subject: r.subject,
    code: r.errorCode,
    reason: r.reason,
    rawSha256: r.rawSha256,
    trail: trail.filter((t) => t.receiptId === r.id).map((t) => ({ stage: t.stage, verdict: t.verdict, detail: t.detail })),
  }));
}
