import type { EntityManager } from "typeorm";
import {
  AddressFlag,
  Attachment,
  DigestRun,
  MailReceipt,
  Message,
  OutboxAttachment,
  OutboxMail,
  Participant,
  Ticket,
  TicketEvent,
  TrailEntry,
} from "../db/entities.js";
import type { InboundMessage } from "../mail/types.js";
import {
  outboxAttachmentRows,
  queueNotification,
  renderNotification,
  renderTicketless,
  type RenderedNotification,
} from "../notify/outbox.js";
import { FastSql } from "../db/fast-sql.js";
import { InsertChain } from "../db/insert-chain.js";
import { templateData } from "../notify/template-data.js";
import type { GatewayContext } from "./context.js";
import { messageKey } from "./facts.js";
import type { TrailStep } from "./trail.js";
import type { Plan } from "./workflow/plan.js";

/*
 * The only code that writes ticket data. One call writes one plan inside the caller's
 * transaction, together with the mail's receipt and the outbox rows, so a ticket, its messages
 * and its queued notifications exist all together or not at all.
 */

/** Where a mail sits in its mailbox: the key that makes handling it exactly-once. */
export interface MailPosition {
  mailbox: string;
  uidValidity: number;
  uid: number;
}

export interface Persisted {
  ticketId: number | null;
  messageRowId: number | null;
  receiptId: number | null;
  /** False when an overdue claim was taken by another run: nothing was written. */
  claimed: boolean;
}

/** The receipt of a mail: its mailbox position and its stored bytes. */
export interface ReceiptKey {
  pos: MailPosition;
  raw: { sha256: string; size: number };
}

/** Writes a plan. `receipt` is null for a terminal action or an overdue notice (no mail of a mailbox). */
export async function persist(
  em: EntityManager,
  ctx: GatewayContext,
  plan: Plan,
  msg: InboundMessage | null,
  receipt: ReceiptKey | null,
): Promise<Persisted> {
  if (writesInOneStatement(em, plan)) {
    return persistInOneStatement(em, ctx, plan, msg, receipt);
  }
  const sql = new FastSql(em);
  const now = ctx.clock.now();
  if (plan.digestClaim && !(await claimDigest(em, plan.digestClaim, now)))
    return { ticketId: null, messageRowId: null, receiptId: null, claimed: false };
  let ticketId = plan.ticket?.id ?? plan.duplicateOf?.ticketId ?? null;
  if (plan.ticket) {
    if (plan.ticket.id === null) {
      [ticketId] = await sql.insert(Ticket, [{ ...plan.ticket.state }], { ids: true });
    } else if (plan.ticket.claimOverdueBefore) {
      const cutoff = plan.ticket.claimOverdueBefore;
      const claimed = await em
        .createQueryBuilder()
        .update(Ticket)
        .set(plan.ticket.patch)
        .where("id = :id", { id: plan.ticket.id })
        // Quoted: PostgreSQL folds unquoted camelCase names to lower case.
        .andWhere('("lastOverdueNoticeAt" IS NULL OR "lastOverdueNoticeAt" < :cutoff)', { cutoff })
        .execute();
      if ((claimed.affected ?? 0) !== 1) return { ticketId, messageRowId: null, receiptId: null, claimed: false };
    } else if (Object.keys(plan.ticket.patch).length > 0) {
      await sql.update(Ticket, plan.ticket.id, plan.ticket.patch);
    }
  }
  if (ticketId !== null) {
    await sql.insert(
      TicketEvent,
      plan.events.map((e) => ({ ticketId, at: now, actor: e.actor, action: e.action, detail: e.detail })),
    );
    await sql.insert(
      Participant,
      plan.participants.map((p) => ({ ticketId, address: p.who.address, name: p.who.name, role: p.role })),
    );
    for (const u of plan.participantUpdates)
      await em.update(Participant, { ticketId, address: u.address }, { removedAt: u.removed ? now : null });
  }
  for (const flag of plan.addressFlags) await em.save(em.create(AddressFlag, { ...flag, flaggedAt: now }));

  const inbound =
    plan.message && msg && ticketId !== null ? inboundRow(ctx, ticketId, msg, plan.message.text, plan.message.visibility) : null;
  const { queued, ticketless } = renderPlanned(ctx, plan, ticketId);
  // The inbound mail and the outbound copies of the notifications: one statement, ids in row order.
  // #merge moves the ticket's messages, this command mail's among them, before its own mails are stored.
  const inboundIds = plan.merge && inbound ? await sql.insert(Message, [inbound], { ids: true }) : [];
  if (plan.merge) await persistMerge(em, ctx, plan.merge, now);
  const ids = [
    ...inboundIds,
    ...(await sql.insert(Message, [...(inbound && !plan.merge ? [inbound] : []), ...queued.map((q) => q.message)], { ids: true })),
  ];
  const messageRowId = inbound ? ids[0] : (plan.duplicateOf?.messageRowId ?? null);
  if (inbound && msg) await sql.insert(Attachment, attachmentRows(ctx, msg, messageRowId!));
  const outIds = inbound ? ids.slice(1) : ids;
  const withFiles = queued.some((q) => q.attach.length > 0);
  const outboxIds = await sql.insert(OutboxMail, [...queued.map((q, i) => ({ ...q.outbox, messageRowId: outIds[i] })), ...ticketless], {
    ids: withFiles,
  });
  if (withFiles)
    await sql.insert(
      OutboxAttachment,
      queued.flatMap((q, i) => outboxAttachmentRows(outboxIds[i], q.attach)),
    );
  const receiptId = receipt
    ? await writeReceiptRow(
        sql,
        ctx,
        receipt.pos,
        {
          ...describeMail(msg),
          rawSha256: receipt.raw.sha256,
          rawSize: receipt.raw.size,
          outcome: plan.outcome,
          ticketId,
          messageRowId,
          errorCode: plan.errorCode,
          reason: plan.reason?.slice(0, 2000) ?? null,
        },
        plan.trail,
      )
    : null;
  return { ticketId, messageRowId, receiptId, claimed: true };
}

/** The plan's mails rendered for the outbox, the same for both write paths: of the ticket (with its outbound copy), and ticketless. */
function renderPlanned(
  ctx: GatewayContext,
  plan: Plan,
  ticketId: number | null,
): { queued: RenderedNotification[]; ticketless: Array<Partial<OutboxMail>> } {
  const ticket = plan.ticket && ticketId !== null ? { id: ticketId, ...plan.ticket.state } : null;
  const thread = { inReplyTo: plan.thread.inReplyTo, references: plan.thread.references };
  const queued = plan.notifications.map((n) => {
    if (!ticket) throw new Error(`plan ${plan.kind} queues ${n.event} without a ticket`);
    const data = templateData(ctx, n, ticket);
    return renderNotification(ctx, {
      ticket: ticket as Ticket,
      event: n.event,
      to: n.to,
      cc: n.cc,
      language: n.language,
      data,
      files: n.files,
      ...thread,
    });
  });
  const ticketless = plan.ticketless.map((n) =>
    renderTicketless(ctx, { event: n.event, to: n.to, language: n.language, data: templateData(ctx, n, null), ...thread }),
  );
  return { queued, ticketless };
}

/** What the one-statement path writes: the common plans; digests, merges, #cc changes, flags and files take the per-table path. */
/** Whether persist writes this plan with one statement (PostgreSQL, a plan of the common shape): all of it or nothing. */
export function writesInOneStatement(em: EntityManager, plan: Plan): boolean {
  return em.connection.options.type === "postgres" && oneStatementFits(plan);
}

function oneStatementFits(plan: Plan): boolean {
  return (
    !plan.ticket?.claimOverdueBefore &&
    plan.addressFlags.length === 0 &&
    !plan.digestClaim &&
    !plan.merge &&
    plan.participantUpdates.length === 0 &&
    !plan.notifications.some((n) => (n.files?.attach.length ?? 0) > 0)
  );
}

/**
 * Claims one digest period of one department: the unique (period, department) row decides
 * which instance sends. INSERT … ON CONFLICT DO NOTHING (INSERT OR IGNORE in SQLite) so that
 * losing the race aborts nothing; the row is there afterwards either way, so it is read back.
 */
async function claimDigest(em: EntityManager, claim: { period: string; departmentId: string }, now: Date): Promise<boolean> {
  const instanceId = `${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  await em
    .createQueryBuilder()
    .insert()
    .into(DigestRun)
    .values({ ...claim, instanceId, createdAt: now })
    .orIgnore()
    .execute();
  const row = await em.findOne(DigestRun, { where: claim });
  return row?.instanceId === instanceId;
}

/**
 * #merge: the merged ticket's messages (with their attachments, which hang on them) move to the
 * target, after this mail's own row was stored, so the command mail moves too; its people join
 * the target; both requesters are told under the target's tag.
 */
async function persistMerge(em: EntityManager, ctx: GatewayContext, m: NonNullable<Plan["merge"]>, now: Date): Promise<void> {
  if (Object.keys(m.intoPatch).length) await em.update(Ticket, { id: m.into }, m.intoPatch);
  await em.update(Message, { ticketId: m.from }, { ticketId: m.into });
  for (const p of m.participants) {
    const moved = await em.update(
      Participant,
      { ticketId: m.from, address: p.who.address },
      { ticketId: m.into, role: p.role, removedAt: null },
    );
    if (!moved.affected) await em.insert(Participant, { ticketId: m.into, address: p.who.address, name: p.who.name, role: p.role });
  }
  if (m.events.length)
    await em.insert(
      TicketEvent,
      m.events.map((e) => ({ ticketId: m.into, at: now, actor: e.actor, action: e.action, detail: e.detail })),
    );
  const ticket = { id: m.into, ...m.intoState } as Ticket;
  for (const n of m.notifications) {
    await queueNotification(em, ctx, {
      ticket,
      event: n.event,
      to: n.to,
      cc: n.cc,
      language: n.language,
      data: templateData(ctx, n, ticket),
      inReplyTo: null,
      references: [],
    });
  }
}

/**
 * PostgreSQL, where every statement is a network round trip: the plan in one statement
 * (InsertChain), after taking a new ticket's id from its sequence so that the notifications can
 * be rendered with it. Writes the same rows as persist's statement-per-table path.
 */
async function persistInOneStatement(
  em: EntityManager,
  ctx: GatewayContext,
  plan: Plan,
  msg: InboundMessage | null,
  receipt: ReceiptKey | null,
): Promise<Persisted> {
  const chain = new InsertChain(em);
  const now = ctx.clock.now();
  let ticketId = plan.ticket?.id ?? plan.duplicateOf?.ticketId ?? null;
  if (plan.ticket && plan.ticket.id === null) {
    ticketId = await chain.nextId(Ticket);
    chain.insert("t", Ticket, [{ ...plan.ticket.state, id: ticketId }]);
  } else if (plan.ticket && Object.keys(plan.ticket.patch).length > 0) {
    chain.update("u", Ticket, plan.ticket.id!, plan.ticket.patch);
  }
  if (ticketId !== null) {
    chain.insert(
      "e",
      TicketEvent,
      plan.events.map((e) => ({ ticketId, at: now, actor: e.actor, action: e.action, detail: e.detail })),
    );
    chain.insert(
      "p",
      Participant,
      plan.participants.map((p) => ({ ticketId, address: p.who.address, name: p.who.name, role: p.role })),
    );
  }
  const inbound =
    plan.message && msg && ticketId !== null ? inboundRow(ctx, ticketId, msg, plan.message.text, plan.message.visibility) : null;
  const { queued, ticketless } = renderPlanned(ctx, plan, ticketId);
  chain.insert("m", Message, [...(inbound ? [inbound] : []), ...queued.map((q) => q.message)], {}, '"id", "messageId", "direction"');
  const inboundId = `(SELECT "id" FROM m WHERE "direction" = 'inbound')`;
  if (inbound && msg) chain.insert("a", Attachment, attachmentRows(ctx, msg, 0), { messageRowId: inboundId });
  // Our Message-IDs are random: each names its own outbound copy.
  chain.insert(
    "o",
    OutboxMail,
    queued.map((q) => q.outbox),
    { messageRowId: `(SELECT m."id" FROM m WHERE m."direction" = 'outbound' AND m."messageId" = v."messageId")` },
  );
  chain.insert("ot", OutboxMail, ticketless);
  const messageRowId = inbound ? inboundId : "NULL::integer";
  if (receipt) {
    const fields = {
      ...describeMail(msg),
      rawSha256: receipt.raw.sha256,
      rawSize: receipt.raw.size,
      outcome: plan.outcome,
      ticketId,
      messageRowId: inbound ? null : (plan.duplicateOf?.messageRowId ?? null),
      errorCode: plan.errorCode,
      reason: plan.reason?.slice(0, 2000) ?? null,
    };
    chain.insert("r", MailReceipt, [receiptRow(ctx, receipt.pos, fields)], inbound ? { messageRowId: inboundId } : {}, '"id"');
    chain.insert(
      "tr",
      TrailEntry,
      plan.trail.map((s, seq) => ({ receiptId: 0, seq, stage: s.stage, verdict: s.verdict, detail: s.detail.slice(0, 2000) })),
      { receiptId: `(SELECT "id" FROM r)` },
    );
  }
  const ids = await chain.run({ messageRowId, receiptId: receipt ? `(SELECT "id" FROM r)` : "NULL::integer" });
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ticketId,
    messageRowId: num(ids.messageRowId) ?? plan.duplicateOf?.messageRowId ?? null,
    receiptId: num(ids.receiptId),
    claimed: true,
  };
}

/** An inbound mail as a message row of the ticket: `text` is what people wrote; the raw mail is kept whole. */
function inboundRow(
  ctx: GatewayContext,
  ticketId: number,
  msg: InboundMessage,
  text: string,
  visibility: Message["visibility"],
): Partial<Message> {
  return {
    ticketId,
    direction: "inbound",
    visibility,
    messageId: messageKey(msg),
    fingerprint: msg.fingerprint,
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
  };
}

/** A mail with thousands of parts is still stored whole (raw); only so many become rows. */
function attachmentRows(ctx: GatewayContext, msg: InboundMessage, messageRowId: number): Array<Partial<Attachment>> {
  return msg.attachments.slice(0, ctx.safety.maxAttachments).map((a) => ({
    messageRowId,
    filename: a.filename.slice(0, 255),
    contentType: a.contentType.slice(0, 255),
    size: a.size,
    sha256: a.sha256,
    inline: a.inline,
  }));
}

/** The receipt fields that describe the mail itself. */
export function describeMail(msg: InboundMessage | null): Partial<MailReceipt> {
  if (!msg) return {};
  return {
    messageIdHeader: msg.messageId,
    subject: msg.subject.slice(0, 500),
    fromAddress: msg.from?.address ?? null,
    rawSha256: msg.rawSha256,
    rawSize: msg.rawSize,
  };
}

/** The receipt of a mail and its trail: what became of it, and what each stage decided. Returns the receipt's id. */
export async function writeReceipt(
  em: EntityManager,
  ctx: GatewayContext,
  pos: MailPosition,
  fields: Partial<MailReceipt>,
  trail: TrailStep[],
): Promise<number> {
  return writeReceiptRow(new FastSql(em), ctx, pos, fields, trail);
}

async function writeReceiptRow(
  sql: FastSql,
  ctx: GatewayContext,
  pos: MailPosition,
  fields: Partial<MailReceipt>,
  trail: TrailStep[],
): Promise<number> {
  const [id] = await sql.insert(MailReceipt, [receiptRow(ctx, pos, fields)], { ids: true });
  // One multi-row INSERT: the trail is written with every mail, so it must be cheap.
  await sql.insert(
    TrailEntry,
    trail.map((s, seq) => ({ receiptId: id, seq, stage: s.stage, verdict: s.verdict, detail: s.detail.slice(0, 2000) })),
  );
  return id;
}

function receiptRow(ctx: GatewayContext, pos: MailPosition, fields: Partial<MailReceipt>): Partial<MailReceipt> {
  return {
    mailbox: pos.mailbox,
    uidValidity: pos.uidValidity,
    uid: pos.uid,
    messageIdHeader: null,
    subject: null,
    fromAddress: null,
    errorCode: null,
    reason: null,
    ticketId: null,
    messageRowId: null,
    rawSha256: null,
    rawSize: null,
    movedTo: null,
    receivedAt: ctx.clock.now(),
    outcome: "failed",
    ...fields,
  };
}
