import cron from "node-cron";
import type { MailboxConfig, TicketpostConfig } from "../config/schema.js";
import { MailboxPoller } from "../mailbox/poller.js";
import { startHttpServer } from "../ops/http-server.js";
import { InstanceRecord, VERSION } from "../ops/instance.js";
import { advisoryLeadership, soleLeader, type Leadership } from "../ops/leadership.js";
import { GatewayMetrics } from "../ops/metrics.js";
import type { Logger } from "../shared/logger.js";
import { notifyOverdue } from "../tickets/workflow/overdue.js";
import { sendDigests } from "../tickets/digests.js";
import { closeDb, createSender, drainDeps, openGateway, spoolOptions, type Gateway } from "./gateway.js";

/** The lock name of a mailbox: server, login and folder (the single imap block's is what it always was). */
export function mailboxLockName(m: MailboxConfig): string {
  return `${m.host}/${m.user}/${m.mailbox}`;
}

function pollerFor(
  config: TicketpostConfig,
  ctx: Gateway,
  m: MailboxConfig,
  leadership: Leadership,
  metrics: GatewayMetrics,
  onRun: (run: Parameters<GatewayMetrics["pollRun"]>[0]) => void,
  wake: () => void,
): MailboxPoller {
  const deps = {
    ...drainDeps(ctx, wake, { config, mailbox: m }),
    onResult: (r: Parameters<GatewayMetrics["mailResult"]>[0]) => metrics.mailResult(r),
  };
  return new MailboxPoller({
    imap: m,
    logins: ctx.logins,
    deps,
    mayPoll: () => leadership.check(m.id),
    spool: spoolOptions(config),
    logger: ctx.logger.child({ component: "mailbox", mailbox: m.id }),
    onRun: (run) => onRun(run),
  });
}

/** `ticketpost start`: per mailbox IDLE + schedule, the outbox sender and the overdue job (+ HTTP), until SIGTERM/SIGINT. */
export async function runDaemon(config: TicketpostConfig, logger: Logger): Promise<number> {
  const ctx = await openGateway(config, logger);
  const sender = createSender(config, ctx);
  const metrics = new GatewayMetrics(ctx.db);
  const instance = new InstanceRecord(ctx.db);
  const swept = await ctx.blobs.sweep();
  if (swept) logger.info("removed files left half-written by an earlier process", { files: swept });

  const leadership = config.database.url
    ? advisoryLeadership(
        config.database.url,
        Object.fromEntries(config.mailboxes.map((m) => [m.id, mailboxLockName(m)])),
        config.instances.leaseSeconds,
        logger.child({ component: "leadership" }),
      )
    : soleLeader;
  const pollers = new Map<string, MailboxPoller>();
  // The heartbeat sums up every mailbox this instance drains: IDLE is up when it is up on all of them.
  const state = () => {
    const led = config.mailboxes.filter((m) => leadership.leads(m.id));
    const runs = led.map((m) => pollers.get(m.id)?.lastRun).filter((r) => !!r);
    const errors = led.flatMap((m) => (pollers.get(m.id)?.lastRun?.error ? [`${m.id}: ${pollers.get(m.id)!.lastRun!.error}`] : []));
    const problems = ctx.logins.problems().map((p) => `${p.account}: ${p.problem.kind}: ${p.problem.message} → fix: ${p.problem.fix}`);
    const last = runs.map((r) => r.at).sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    return {
      lastPollAt: last,
      lastPollError: [...problems, ...errors].join("; ") || null,
      idleConnected: led.length > 0 && led.every((m) => pollers.get(m.id)?.idleConnected),
      mailboxes: led.map((m) => m.id),
    };
  };
  const heartbeat = (fields: Parameters<InstanceRecord["update"]>[0] = state()) =>
    instance.update(fields).catch((err) => logger.warn("heartbeat not written", { error: (err as Error).message }));
  await heartbeat({});
  const afterRun = (run: Parameters<GatewayMetrics["pollRun"]>[0]) => {
    const now = state();
    // The IDLE gauge stays one number: up while every mailbox this instance drains is connected.
    metrics.pollRun({ ...run, idleConnected: now.idleConnected });
    void heartbeat(now);
  };
  for (const m of config.mailboxes)
    pollers.set(
      m.id,
      pollerFor(config, ctx, m, leadership, metrics, afterRun, () => sender.wake()),
    );

  const overdueTask = cron.schedule(
    config.overdue.schedule,
    async () => {
      try {
        const n = await notifyOverdue(ctx.db, ctx, config.overdue.repeatHours);
        if (n) {
          logger.info("overdue notices queued", { tickets: n });
          sender.wake();
        }
      } catch (err) {
        logger.error("overdue check failed", { error: (err as Error).message });
      }
    },
    { name: "overdue", noOverlap: true },
  );
  // Every instance schedules the digest; the (period, department) claim lets one of them send it.
  const digestTask = config.digest.enabled
    ? cron.schedule(
        config.digest.schedule,
        async (run) => {
          try {
            const done = await sendDigests(ctx.db, ctx, run.date);
            if (done.sent.length) {
              logger.info("digests queued", { departments: done.sent });
              sender.wake();
            }
          } catch (err) {
            logger.error("digest run failed", { error: (err as Error).message });
          }
        },
        { name: "digest", noOverlap: true, ...(config.digest.timezone ? { timezone: config.digest.timezone } : {}) },
      )
    : null;
  // A standby asks for a mailbox often enough to take over within the lease; a leader over its
  // share runs once more, and lets the mailbox go before that run.
  const balance = async (): Promise<void> => {
    for (const [id, poller] of pollers) if (!leadership.leads(id)) void poller.poll();
    // One mailbox at a time is handed over; the next tick sees the new share.
    for (const [id, poller] of pollers) {
      if (await leadership.overShare(id)) {
        void poller.handOver();
        break;
      }
    }
  };
  const standby = config.database.url
    ? setInterval(
        () => {
          balance().catch((err: unknown) => logger.error("mailbox share check failed", { error: (err as Error).message }));
        },
        Math.max(1000, (config.instances.leaseSeconds * 1000) / 6),
      )
    : null;
  standby?.unref();
  // Between polls the heartbeat still says the process is alive (status, upgrades).
  const beat = setInterval(() => void heartbeat(), 60_000);
  beat.unref();
  const httpServer = config.http.enabled
    ? await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        db: ctx.db,
        metrics,
        logger,
        // A standby (others drain the mailboxes) is healthy without an IMAP connection.
        health: {
          imapConnected: () =>
            [...pollers].every(
              ([id, p]) =>
                !leadership.leads(id) || p.idleConnected || (!config.mailboxes.find((m) => m.id === id)!.idle && !p.lastRun?.error),
            ),
          lastPoll: () => {
            const s = state();
            return s.lastPollAt ? { at: s.lastPollAt, error: s.lastPollError } : null;
          },
        },
      })
    : null;

  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      logger.info("stopping", { signal });
      clearInterval(beat);
      if (standby) clearInterval(standby);
      await overdueTask.stop();
      await digestTask?.stop();
      await httpServer?.close();
      const final = state();
      for (const p of pollers.values()) await p.stop();
      await sender.stop();
      await leadership.close();
      await heartbeat({ ...final, stoppedAt: new Date(), idleConnected: false, mailboxes: [] });
      await ctx.reader?.close();
      await closeDb(ctx.db);
      logger.info("stopped");
    })();
    return stopping;
  };
  const done = new Promise<void>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => void stop(sig).then(resolve));
  });
  logger.info("ticketpost started", {
    version: VERSION,
    instance: instance.id,
    mailboxes: config.mailboxes.map((m) => m.id),
    mailbox: config.imap.mailbox,
    schedule: config.imap.schedule,
    idle: config.imap.idle,
  });
  sender.start();
  await Promise.all([...pollers.values()].map((p) => p.start()));
  await done;
  return 0;
}
