import cron from "node-cron";
import type { TicketpostConfig } from "../config/schema.js";
import { MailboxPoller } from "../mailbox/poller.js";
import { startHttpServer } from "../ops/http-server.js";
import { InstanceRecord, VERSION } from "../ops/instance.js";
import { advisoryLeadership, soleLeader } from "../ops/leadership.js";
import { GatewayMetrics } from "../ops/metrics.js";
import type { Logger } from "../shared/logger.js";
import { notifyOverdue } from "../tickets/workflow/overdue.js";
import { closeDb, createSender, drainDeps, openGateway, spoolOptions } from "./gateway.js";

/** `ticketpost start`: IDLE + schedule + outbox sender + overdue job (+ HTTP), until SIGTERM/SIGINT. */
export async function runDaemon(config: TicketpostConfig, logger: Logger): Promise<number> {
  const ctx = await openGateway(config, logger);
  const sender = createSender(config, ctx);
  const metrics = new GatewayMetrics(ctx.db);
  const instance = new InstanceRecord(ctx.db);
  const heartbeat = (fields: Parameters<InstanceRecord["update"]>[0]) =>
    instance.update(fields).catch((err) => logger.warn("heartbeat not written", { error: (err as Error).message }));
  await heartbeat({});
  const swept = await ctx.blobs.sweep();
  if (swept) logger.info("removed files left half-written by an earlier process", { files: swept });

  const deps = { ...drainDeps(ctx, () => sender.wake()), onResult: (r: Parameters<GatewayMetrics["mailResult"]>[0]) => metrics.mailResult(r) };
  const leadership = config.database.url
    ? advisoryLeadership(config.database.url, `${config.imap.host}/${config.imap.user}/${config.imap.mailbox}`, config.instances.leaseSeconds, logger.child({ component: "leadership" }))
    : soleLeader;
  const poller = new MailboxPoller({
    imap: config.imap,
    deps,
    mayPoll: () => leadership.check(),
    spool: spoolOptions(config),
    logger: logger.child({ component: "mailbox" }),
    onRun: (run) => {
      metrics.pollRun(run);
      void heartbeat({ lastPollAt: run.at, lastPollError: run.error, idleConnected: run.idleConnected });
    },
  });
  const overdueTask = cron.schedule(config.overdue.schedule, async () => {
    try {
      const n = await notifyOverdue(ctx.db, ctx, config.overdue.repeatHours);
      if (n) {
        logger.info("overdue notices queued", { tickets: n });
        sender.wake();
      }
    } catch (err) {
      logger.error("overdue check failed", { error: (err as Error).message });
    }
  }, { name: "overdue", noOverlap: true });
  // A standby asks for the mailbox often enough to take over within the lease.
  const standby = config.database.url ? setInterval(() => {
    if (!leadership.leader) void poller.poll();
  }, Math.max(1000, (config.instances.leaseSeconds * 1000) / 6)) : null;
  standby?.unref();
  // Between polls the heartbeat still says the process is alive (status, upgrades).
  const beat = setInterval(() => void heartbeat({ lastPollAt: poller.lastRun?.at ?? null, lastPollError: poller.lastRun?.error ?? null, idleConnected: poller.idleConnected }), 60_000);
  beat.unref();
  const httpServer = config.http.enabled
    ? await startHttpServer({
        host: config.http.host,
        port: config.http.port,
        db: ctx.db,
        metrics,
        logger,
        // A standby (another instance drains the mailbox) is healthy without an IMAP connection.
        health: { imapConnected: () => !leadership.leader || poller.idleConnected || (!config.imap.idle && !poller.lastRun?.error), lastPoll: () => (poller.lastRun ? { at: poller.lastRun.at, error: poller.lastRun.error } : null) },
      })
    : null;

  let stopping: Promise<void> | null = null;
  const stop = (signal: string) => {
    stopping ??= (async () => {
      logger.info("stopping", { signal });
      clearInterval(beat);
      if (standby) clearInterval(standby);
      await overdueTask.stop();
      await httpServer?.close();
      await poller.stop();
      await sender.stop();
      await leadership.close();
      await heartbeat({ stoppedAt: new Date(), idleConnected: false, lastPollAt: poller.lastRun?.at ?? null, lastPollError: poller.lastRun?.error ?? null });
      await closeDb(ctx.db);
      logger.info("stopped");
    })();
    return stopping;
  };
  const done = new Promise<void>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => void stop(sig).then(resolve));
  });
  logger.info("ticketpost started", { version: VERSION, instance: instance.id, mailbox: config.imap.mailbox, schedule: config.imap.schedule, idle: config.imap.idle });
  sender.start();
  await poller.start();
  await done;
  return 0;
}
