/*
 * The daemon's memory around one big mail and over a backlog, and two mailboxes drained by one or two instances.
 */
import { performance } from "node:perf_hooks";
import { type DovecotInstance } from "../harness/dovecot.js";
import { createTestDatabase } from "../helpers/databases.js";
import { bigMail, newRequests } from "./mail-mix.js";
import { type Params } from "./params.js";
import { atCleanup, cpuMsByPid, mb, memoryOf, progress, rate, secs, sleep } from "./util.js";
import { AckWatcher, Daemon, type SinkHandle, appendMails, gatewayConfig, runCli } from "./processes.js";
import { round1 } from "./latency.js";

export interface MemoryResult {
  big: { attachmentMB: number; mailMB: number; idleRssMB: number; peakRssMB: number; afterRssMB: number; ackMs: number };
  backlog: {
    mails: number;
    mailMB: number;
    startRssMB: number;
    endRssMB: number;
    peakRssMB: number;
    ms: number;
    perSecond: number;
    daemonCpuMs: number;
    samples: Array<{ s: number; acks: number; rssMB: number }>;
  };
}

export const toMB = (bytes: number) => round1(mb(bytes));

/** Peak RSS of the daemon around one big mail (the size limit raised so it is ingested, not refused). */
export async function measureBigMail(p: Params, root: string, dovecot: DovecotInstance, sink: SinkHandle): Promise<MemoryResult["big"]> {
  const user = "big@example.test";
  const mail = await bigMail(p.seed, p.bigAttachmentMB * 1024 * 1024);
  const setup = gatewayConfig(root, "big", dovecot, sink, user, { maxMessageBytes: mail.raw.length * 2 });
  const acks = new AckWatcher(sink);
  const daemon = await Daemon.start(setup.configPath);
  try {
    await daemon.waitForLog(/"msg":"IMAP connected"/, 30_000);
    await sleep(1000);
    const idle = memoryOf(daemon.pid);
    const t = performance.now();
    await appendMails(dovecot, user, [mail.raw], 1);
    const at = await acks.wait(mail.messageId, 300_000);
    const after = memoryOf(daemon.pid);
    return {
      attachmentMB: p.bigAttachmentMB,
      mailMB: toMB(mail.raw.length),
      idleRssMB: toMB(idle.rss),
      peakRssMB: toMB(after.hwm),
      afterRssMB: toMB(after.rss),
      ackMs: Math.round(at - t),
    };
  } finally {
    acks.close();
    await daemon.stop();
  }
}

/** RSS of the daemon at the start and the end of a backlog that waits in its mailbox when it starts. */
export async function measureBacklog(
  p: Params,
  root: string,
  dovecot: DovecotInstance,
  sink: SinkHandle,
): Promise<MemoryResult["backlog"]> {
  const user = "backlog@example.test";
  const setup = gatewayConfig(root, "backlog", dovecot, sink, user);
  let bytes = 0;
  for (let i = 0; i < p.backlogMails; i += 500) {
    const chunk = await newRequests(p.seed, "backlog", i, Math.min(500, p.backlogMails - i));
    bytes += chunk.reduce((a, m) => a + m.raw.length, 0);
    await appendMails(
      dovecot,
      user,
      chunk.map((m) => m.raw),
    );
    if ((i / 500) % 4 === 3 || i + 500 >= p.backlogMails) progress(`backlog: appended ${i + chunk.length} of ${p.backlogMails}`);
  }
  const acks = new AckWatcher(sink);
  const daemon = await Daemon.start(setup.configPath);
  const samples: MemoryResult["backlog"]["samples"] = [];
  let sampler: NodeJS.Timeout | null = null;
  try {
    await daemon.waitForLog(/"msg":"IMAP connected"/, 30_000);
    const t = performance.now();
    const start = memoryOf(daemon.pid);
    const cpu0 = cpuMsByPid([daemon.pid]).get(daemon.pid) ?? 0;
    sampler = setInterval(
      () => samples.push({ s: Math.round(secs(performance.now() - t)), acks: acks.count, rssMB: toMB(memoryOf(daemon.pid).rss) }),
      5000,
    );
    await acks.waitForCount(p.backlogMails, 120_000);
    const ms = performance.now() - t;
    const end = memoryOf(daemon.pid);
    const cpu = (cpuMsByPid([daemon.pid]).get(daemon.pid) ?? 0) - cpu0;
    return {
      mails: p.backlogMails,
      mailMB: toMB(bytes),
      startRssMB: toMB(start.rss),
      endRssMB: toMB(end.rss),
      peakRssMB: toMB(end.hwm),
      ms: Math.round(ms),
      perSecond: round1(rate(p.backlogMails, ms)),
      daemonCpuMs: Math.round(cpu),
      samples,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    acks.close();
    await daemon.stop();
  }
}

/** Two mailboxes on PostgreSQL: `instances` daemons drain a backlog of n/2 mails in each. */
export interface MailboxesResult {
  instances: number;
  mails: number;
  ms: number;
  perSecond: number;
  /** Mail processed per mailbox by each instance (from their logs): who drained what. */
  drainedBy: Array<Record<string, number>>;
}

export async function measureMailboxes(
  p: Params,
  root: string,
  dovecot: DovecotInstance,
  sink: SinkHandle,
  instances: number,
): Promise<MailboxesResult> {
  const tdb = await createTestDatabase("postgres");
  const dropDatabase = atCleanup(() => tdb.drop());
  const name = `mb${instances}`;
  const account = (id: string) => ({
    id,
    host: dovecot.host,
    port: dovecot.imapPort,
    secure: false,
    user: `${name}-${id}@example.test`,
    password: dovecot.password,
    batchSize: p.batchSize,
  });
  const setup = gatewayConfig(root, name, dovecot, sink, `${name}-a@example.test`, {
    imap: undefined,
    mailboxes: [account("a"), account("b")],
    database: { url: tdb.options.url },
  });
  const half = Math.floor(p.n / 2);
  for (const id of ["a", "b"])
    await appendMails(
      dovecot,
      `${name}-${id}@example.test`,
      (await newRequests(p.seed, `${name}-${id}`, 0, half)).map((m) => m.raw),
    );
  const acks = new AckWatcher(sink);
  await runCli(["migrate", "--config", setup.configPath]);
  const daemons: Daemon[] = [];
  try {
    for (let i = 0; i < instances; i++) daemons.push(await Daemon.start(setup.configPath));
    await Promise.race(daemons.map((d) => d.waitForLog(/"msg":"IMAP connected"/, 60_000)));
    const t = performance.now();
    await acks.waitForCount(2 * half, 300_000);
    const ms = performance.now() - t;
    return {
      instances,
      mails: 2 * half,
      ms: Math.round(ms),
      perSecond: round1(rate(2 * half, ms)),
      drainedBy: daemons.map((d) => d.processedByMailbox()),
    };
  } finally {
    acks.close();
    for (const d of daemons) await d.stop();
    await dropDatabase();
  }
}
