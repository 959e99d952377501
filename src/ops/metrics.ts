import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { DataSource } from "typeorm";
import { OutboxMail } from "../db/entities.js";
import type { ProcessResult } from "../tickets/pipeline.js";

/** The gateway's Prometheus metrics (prom-client), one registry per process. */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly mails = new Counter({
    name: "ticketpost_mails_processed_total",
    help: "Mails taken from the mailbox, by what became of them",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: "ticketpost_mail_failures_total",
    help: "Mails that went to Failed, by error code",
    labelNames: ["code"],
    registers: [this.registry],
  });
  private readonly pollDuration = new Histogram({
    name: "ticketpost_poll_duration_seconds",
    help: "Duration of mailbox runs",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  private readonly pollErrors = new Counter({
    name: "ticketpost_poll_errors_total",
    help: "Mailbox runs that failed or stopped early",
    registers: [this.registry],
  });
  private readonly lastPoll = new Gauge({
    name: "ticketpost_last_poll_timestamp_seconds",
    help: "When the last mailbox run started (Unix time)",
    registers: [this.registry],
  });
  private readonly idle = new Gauge({
    name: "ticketpost_imap_idle_connected",
    help: "1 while the IMAP IDLE connection is up",
    registers: [this.registry],
  });

  constructor(db: DataSource) {
    const repo = () => db.getRepository(OutboxMail);
    new Gauge({
      name: "ticketpost_outbox_pending",
      help: "Notifications queued and not yet sent",
      registers: [this.registry],
      async collect() {
        this.set(await repo().count({ where: { status: "pending" } }));
      },
    });
    new Gauge({
      name: "ticketpost_outbox_failed",
      help: "Notifications that failed for good",
      registers: [this.registry],
      async collect() {
        this.set(await repo().count({ where: { status: "failed" } }));
      },
    });
    new Gauge({
      name: "ticketpost_outbox_oldest_pending_age_seconds",
      help: "Age of the oldest queued notification (0 when none)",
      registers: [this.registry],
      async collect() {
        const oldest = await repo().findOne({ where: { status: "pending" }, order: { createdAt: "ASC" } });
        this.set(oldest ? Math.max(0, (Date.now() - oldest.createdAt.getTime()) / 1000) : 0);
      },
    });
  }

  mailResult(r: ProcessResult): void {
    this.mails.inc({ outcome: r.alreadyDone ? "already_done" : r.outcome });
    if (r.outcome === "failed" && !r.alreadyDone) this.failures.inc({ code: r.errorCode ?? "unknown" });
  }

  pollRun(run: { at: Date; durationMs: number; error: string | null; idleConnected: boolean }): void {
    this.pollDuration.observe(run.durationMs / 1000);
    this.lastPoll.set(run.at.getTime() / 1000);
    this.idle.set(run.idleConnected ? 1 : 0);
    if (run.error) this.pollErrors.inc();
  }

  setIdle(connected: boolean): void {
    this.idle.set(connected ? 1 : 0);
  }
}
