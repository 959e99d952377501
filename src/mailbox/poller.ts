import cron, { type ScheduledTask } from "node-cron";
import type { ImapConfig } from "../config/schema.js";
import { asTicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { drainMailbox, type DrainDeps, type DrainSummary } from "./drain.js";
import { ImapMailbox, type SpoolOptions } from "./imap-mailbox.js";
import { SerialRunner } from "./serial-runner.js";
import type { AccountLogins } from "../auth/logins.js";

/** How long after the last mail the mailbox is re-checked instead of idling (see afterDrain). */
const RECHECK_WINDOW_MS = 2000;

export interface PollerOptions {
  imap: ImapConfig & { id?: string; key?: string };
  /** Passwords and OAuth2 token sources (shared with the SMTP side). */
  logins?: AccountLogins;
  deps: DrainDeps;
  logger: Logger;
  /** Where big mails are streamed to disk (see SpoolOptions). */
  spool?: SpoolOptions;
  /** Asked before every run: may this process drain the mailbox (one leader among instances)? */
  mayPoll?(): Promise<boolean>;
  /** Told after every run (heartbeat, metrics). */
  onRun?(run: { at: Date; durationMs: number; summary: DrainSummary | null; error: string | null; idleConnected: boolean }): void;
  /** Reconnect backoff bounds (ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/**
 * The daemon's mailbox side: one IMAP connection that idles on the inbox (new mail is handled
 * at once) plus a node-cron schedule as a safety net. All runs go through one SerialRunner, so
 * they never overlap. A lost connection is re-established with exponential backoff.
 */
export class MailboxPoller {
  private mailbox: ImapMailbox | null = null;
  private task: ScheduledTask | null = null;
  private stopping = false;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly runner: SerialRunner<DrainSummary | null>;
  lastRun: { at: Date; summary: DrainSummary | null; error: string | null } | null = null;
  private yieldAsked = false;
  private recheckTimer: NodeJS.Timeout | null = null;
  private recheckUntil = 0;

  constructor(private readonly opts: PollerOptions) {
    this.reconnectDelay = opts.reconnectMinMs ?? 1000;
    this.runner = new SerialRunner(() => this.runOnce());
  }

  /** Connects and drains once; the returned promise settles when the first run has finished. */
  async start(): Promise<void> {
    this.task = cron.schedule(this.opts.imap.schedule, () => void this.poll(), { name: "mailbox-poll", noOverlap: true });
    await this.poll();
  }

  /**
   * Asks a run in progress to stop after its current batch, and runs once more (whose mayPoll
   * lets the mailbox go): an instance over its share hands over even in the middle of a backlog.
   */
  handOver(): Promise<DrainSummary | null> {
    this.yieldAsked = true;
    return this.poll();
  }

  poll(): Promise<DrainSummary | null> {
    if (this.stopping) return Promise.resolve(null);
    return this.runner.trigger();
  }

  private async ensureConnected(): Promise<ImapMailbox> {
    if (this.mailbox?.connected) return this.mailbox;
    const mb = await ImapMailbox.open(this.opts.imap, this.opts.logger, this.opts.spool ?? null, this.opts.logins);
    mb.on("exists", () => {
      this.opts.logger.info("IDLE: new mail announced");
      void this.poll();
    });
    mb.on("error", (err) => this.opts.logger.warn("IMAP connection error", { error: (err as Error).message }));
    mb.on("close", () => {
      if (this.mailbox !== mb) return;
      this.mailbox = null;
      if (!this.stopping) {
        this.opts.logger.warn("IMAP connection closed; reconnecting", { inMs: this.reconnectDelay });
        this.scheduleReconnect();
      }
    });
    this.mailbox = mb;
    this.reconnectDelay = this.opts.reconnectMinMs ?? 1000;
    this.opts.logger.info("IMAP connected", { host: this.opts.imap.host, mailbox: this.opts.imap.mailbox, idle: this.opts.imap.idle });
    return mb;
  }

  /**
   * The mailbox is empty now. After mail came in, more tends to follow: for RECHECK_WINDOW_MS the
   * mailbox is asked again every recheckMs (NOOP, a new mail then starts a run through the
   * "exists" event), because Dovecot tells an idling client about new mail only after 500 ms
   * (NOTIFY_DELAY_MSECS in its source). Then the connection idles.
   */
  private afterDrain(mb: ImapMailbox, summary: DrainSummary): void {
    const every = this.opts.imap.recheckMs ?? 0;
    if (every > 0 && summary.processed + summary.failed > 0) this.recheckUntil = Date.now() + RECHECK_WINDOW_MS;
    if (every > 0 && this.opts.imap.idle && Date.now() < this.recheckUntil) this.scheduleRecheck(every);
    else mb.idleNow();
  }

  private scheduleRecheck(every: number): void {
    if (this.recheckTimer || this.stopping) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = null;
      const mb = this.mailbox;
      // A run in progress decides again when it ends.
      if (!mb?.connected || this.stopping || this.runner.running) return;
      void mb.noop().then(
        () => {
          if (this.runner.running || this.mailbox !== mb) return;
          if (Date.now() < this.recheckUntil) this.scheduleRecheck(every);
          else mb.idleNow();
        },
        (err: Error) => this.opts.logger.debug("IMAP NOOP failed", { error: err.message }),
      );
    }, every);
    this.recheckTimer.unref();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.stopping) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(delay * 2, this.opts.reconnectMaxMs ?? 60_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.poll();
    }, delay);
    this.reconnectTimer.unref();
  }

  get idleConnected(): boolean {
    return this.opts.imap.idle && !!this.mailbox?.connected;
  }

  private async runOnce(): Promise<DrainSummary | null> {
    if (this.stopping) return null;
    const at = new Date();
    const result = await this.drainOnce(at);
    this.opts.onRun?.({
      at,
      durationMs: Date.now() - at.getTime(),
      summary: result,
      error: this.lastRun?.error ?? null,
      idleConnected: this.idleConnected,
    });
    return result;
  }

  private async drainOnce(at: Date): Promise<DrainSummary | null> {
    if (this.opts.mayPoll && !(await this.opts.mayPoll())) {
      // Standing by: another instance drains the mailbox. Let go of the IMAP connection.
      const mb = this.mailbox;
      this.mailbox = null;
      await mb?.close();
      this.lastRun = { at, summary: null, error: null };
      return null;
    }
    try {
      const mb = await this.ensureConnected();
      this.yieldAsked = false;
      const summary = await drainMailbox(mb, this.opts.imap, { ...this.opts.deps, shouldYield: () => this.yieldAsked });
      this.afterDrain(mb, summary);
      this.lastRun = { at, summary, error: summary.stoppedBy?.message ?? null };
      if (summary.stoppedBy)
        this.opts.logger.error("poll stopped early; mails stay in the inbox", {
          code: summary.stoppedBy.code,
          error: summary.stoppedBy.message,
        });
      return summary;
    } catch (err) {
      const e = asTicketpostError(err, "EIMAP");
      this.lastRun = { at, summary: null, error: e.message };
      this.opts.logger.error("poll failed", { code: e.code, error: e.message, retryInMs: this.reconnectDelay });
      if (!this.mailbox?.connected) this.scheduleReconnect();
      return null;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.task) await this.task.stop();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    await this.runner.idle();
    const mb = this.mailbox;
    this.mailbox = null;
    await mb?.close();
  }
}
