import { In, LessThanOrEqual, type DataSource } from "typeorm";
import type { OutboxConfig } from "../config/schema.js";
import type { BlobStore } from "../db/blob-store.js";
import { AddressFlag, OutboxAttachment, OutboxMail } from "../db/entities.js";
import { SerialRunner } from "../mailbox/serial-runner.js";
import type { Clock } from "../shared/clock.js";
import { asTicketpostError, TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { LOOP_HEADER } from "../mail/classify.js";
import { eventByName } from "./events/index.js";
import type { MailTransport, OutgoingAttachment } from "./smtp-transport.js";

export interface SenderSummary {
  sent: number;
  deferred: number;
  failed: number;
}

export interface OutboxSenderOptions {
  db: DataSource;
  transport: MailTransport;
  from: { name: string; address: string };
  cfg: OutboxConfig;
  clock: Clock;
  logger: Logger;
  /** Where the files that outbox rows attach are stored (by SHA-256). */
  blobs: BlobStore;
}

/** Backoff for attempt n (1-based): base·2^(n-1), capped. */
export function backoffDelay(attempt: number, cfg: Pick<OutboxConfig, "backoffBaseMs" | "backoffMaxMs">): number {
  return Math.min(cfg.backoffBaseMs * 2 ** Math.max(0, attempt - 1), cfg.backoffMaxMs);
}

/**
 * Sends what apply queued. A row is claimed by pushing its nextAttemptAt forward with a
 * conditional UPDATE (so two senders never take the same row), sent, then marked sent. A crash
 * between the SMTP "250 OK" and the mark is the one window where a mail can go out twice; it
 * then carries the same Message-ID, which mail clients use to drop the copy.
 */
export class OutboxSender {
  private timer: NodeJS.Timeout | null = null;
  private readonly runner: SerialRunner<SenderSummary>;
  private stopping = false;

  constructor(private readonly o: OutboxSenderOptions) {
    this.runner = new SerialRunner(() => this.drain());
  }

  runOnce(): Promise<SenderSummary> {
    return this.runner.trigger();
  }

  /** Wakes the loop now (after new rows were committed). */
  wake(): void {
    if (!this.stopping)
      void this.runner.trigger().catch((err) => this.o.logger.error("outbox run failed", { error: (err as Error).message }));
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), this.o.cfg.intervalMs);
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.runner.idle();
    this.o.transport.close();
  }

  private async claim(row: OutboxMail, now: Date): Promise<boolean> {
    const until = new Date(now.getTime() + this.o.cfg.claimMs);
    const res = await this.o.db
      .createQueryBuilder()
      .update(OutboxMail)
      .set({ nextAttemptAt: until })
      .where("id = :id AND status = 'pending' AND \"nextAttemptAt\" <= :now", { id: row.id, now })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  /**
   * PostgreSQL: one statement takes a batch of due rows that no other sender is taking right now
   * (FOR UPDATE SKIP LOCKED) and pushes their nextAttemptAt past the claim time.
   */
  private async claimBatchSkipLocked(now: Date): Promise<OutboxMail[]> {
    return this.o.db.transaction(async (em) => {
      const rows = await em
        .getRepository(OutboxMail)
        .createQueryBuilder("o")
        .where("o.status = 'pending' AND o.nextAttemptAt <= :now", { now })
        .orderBy("o.id", "ASC")
        .limit(50)
        .setLock("pessimistic_write")
        .setOnLocked("skip_locked")
        .getMany();
      if (rows.length) {
        const until = new Date(now.getTime() + this.o.cfg.claimMs);
        await em
          .createQueryBuilder()
          .update(OutboxMail)
          .set({ nextAttemptAt: until })
          .whereInIds(rows.map((r) => r.id))
          .execute();
      }
      return rows;
    });
  }

  /**
   * Sends a claimed batch while the claim holds. A row is sent only with at least half of the
   * claim time left: once the claim runs out another sender may take the row, and both would send
   * it (a batch of 50 on a busy machine can take longer than claimMs). The rest is handed back.
   */
  private async sendClaimed(batch: OutboxMail[], claimedAt: Date, summary: SenderSummary): Promise<void> {
    const safeUntil = claimedAt.getTime() + this.o.cfg.claimMs / 2;
    for (const [i, row] of batch.entries()) {
      if (this.stopping) return;
      if (this.o.clock.now().getTime() > safeUntil) {
        const rest = batch.slice(i).map((r) => r.id);
        await this.o.db
          .createQueryBuilder()
          .update(OutboxMail)
          .set({ nextAttemptAt: this.o.clock.now() })
          // Still ours: nobody takes a row before its claim runs out, and that is later than now.
          .where("id IN (:...rest) AND status = 'pending'", { rest })
          .execute();
        return;
      }
      await this.sendRow(row, summary);
    }
  }

  private async drain(): Promise<SenderSummary> {
    const summary: SenderSummary = { sent: 0, deferred: 0, failed: 0 };
    const repo = this.o.db.getRepository(OutboxMail);
    const postgres = this.o.db.options.type === "postgres";
    const seen = new Set<number>();
    while (!this.stopping) {
      const now = this.o.clock.now();
      if (postgres) {
        const batch = await this.claimBatchSkipLocked(now);
        if (batch.length === 0) break;
        await this.sendClaimed(batch, now, summary);
        continue;
      }
      const due = (
        await repo.find({ where: { status: "pending", nextAttemptAt: LessThanOrEqual(now) }, order: { id: "ASC" }, take: 50 })
      ).filter((r) => !seen.has(r.id));
      if (due.length === 0) break;
      for (const row of due) {
        seen.add(row.id);
        if (this.stopping || !(await this.claim(row, this.o.clock.now()))) continue;
        await this.sendRow(row, summary);
      }
    }
    return summary;
  }

  /** The files a row attaches, read from the blob store in their order. */
  private async attachmentsOf(row: OutboxMail): Promise<OutgoingAttachment[]> {
    const refs = await this.o.db.getRepository(OutboxAttachment).find({ where: { outboxId: row.id }, order: { seq: "ASC" } });
    const out: OutgoingAttachment[] = [];
    for (const r of refs) {
      let content: Buffer;
      try {
        content = await this.o.blobs.get(r.sha256);
      } catch (err) {
        throw new TicketpostError(
          "EBLOB",
          `attachment ${r.filename} (sha256 ${r.sha256}) cannot be read from the blob store: ${(err as Error).message}`,
          { cause: err },
        );
      }
      out.push({ filename: r.filename, contentType: r.contentType, content, cid: r.contentId });
    }
    return out;
  }

  /** The row's To and Cc without the addresses that bounced for good (the first left in Cc moves to To). */
  private async deliverable(
    row: OutboxMail,
  ): Promise<{ to: { name: string | null; address: string }; cc: Array<{ name: string | null; address: string }> } | { failed: string }> {
    let cc: Array<{ name: string | null; address: string }> = [];
    try {
      cc = row.ccAddresses ? (JSON.parse(row.ccAddresses) as typeof cc) : [];
    } catch {
      // Written by us as JSON; an unreadable list copies nobody.
    }
    const all = [{ name: row.toName, address: row.toAddress }, ...cc];
    const flags = await this.o.db.getRepository(AddressFlag).find({ where: { address: In(all.map((r) => r.address)), permanent: true } });
    const left = all.filter((r) => !flags.some((f) => f.address === r.address));
    if (left.length === 0) return { failed: `EBOUNCED: ${row.toAddress} bounced permanently (${flags[0]?.status ?? "-"}); not sent` };
    return { to: left[0], cc: left.slice(1) };
  }

  private async sendRow(row: OutboxMail, summary: SenderSummary): Promise<void> {
    const repo = this.o.db.getRepository(OutboxMail);
    // Queued before an address bounced for good: it is left out, the rest still get the mail; with nobody left it stays unsent, with the reason.
    const recipients = await this.deliverable(row);
    if ("failed" in recipients) {
      await repo.update({ id: row.id }, { status: "failed", lastError: recipients.failed });
      summary.failed++;
      this.o.logger.warn("notification not sent: address bounced permanently", { outbox: row.id, ticket: row.ticketId });
      return;
    }
    const event = eventByName(row.event);
    const headers: Record<string, string> = {
      [LOOP_HEADER]: `${row.event}; ticket=${row.ticketId ?? "-"}`,
      // Ask Exchange and friends not to send out-of-office answers to our mails.
      "X-Auto-Response-Suppress": "All",
    };
    if (event.automatic) headers["Auto-Submitted"] = "auto-replied";
    const smtpAt = new Date();
    try {
      const attachments = await this.attachmentsOf(row);
      await this.o.transport.send({
        from: this.o.from,
        to: recipients.to,
        cc: recipients.cc,
        replyTo: this.o.from.address,
        subject: row.subject,
        text: row.textBody,
        html: row.htmlBody,
        messageId: row.messageId,
        inReplyTo: row.inReplyTo,
        references: row.references ? row.references.split(" ") : [],
        headers,
        ticketId: row.ticketId,
        attachments,
      });
      await repo.update({ id: row.id }, { status: "sent", sentAt: this.o.clock.now(), attempts: row.attempts + 1, lastError: null });
      summary.sent++;
      this.o.logger.info("notification sent", {
        outbox: row.id,
        event: row.event,
        ticket: row.ticketId,
        messageId: row.messageId,
        smtpAt: smtpAt.toISOString(),
      });
    } catch (err) {
      const e = asTicketpostError(err, "ESMTP_TEMP");
      const attempts = row.attempts + 1;
      const giveUp = !e.retryable || attempts >= this.o.cfg.maxAttempts;
      const next = new Date(this.o.clock.now().getTime() + backoffDelay(attempts, this.o.cfg));
      await repo.update(
        { id: row.id },
        { attempts, lastError: `${e.code}: ${e.message}`.slice(0, 2000), status: giveUp ? "failed" : "pending", nextAttemptAt: next },
      );
      if (giveUp) summary.failed++;
      else summary.deferred++;
      this.o.logger.warn(giveUp ? "notification failed for good" : "notification deferred", {
        outbox: row.id,
        code: e.code,
        error: e.message,
        attempts,
        nextAttemptAt: giveUp ? undefined : next.toISOString(),
      });
    }
  }
}
