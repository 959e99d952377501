/*
 * Latency from delivery (LMTP) to the acknowledgement at the SMTP sink, with the daemon running as a real process.
 */
import { performance } from "node:perf_hooks";
import nodemailer from "nodemailer";
import { type DovecotInstance } from "../harness/dovecot.js";
import { newRequests, type BenchMail } from "./mail-mix.js";
import { type Params } from "./params.js";
import { percentile, sleep } from "./util.js";
import { AckWatcher, Daemon, type SinkHandle, gatewayConfig } from "./processes.js";

export interface LatencyResult {
  mails: number;
  mode: string;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** The LMTP transaction itself (not part of the latency). */
  lmtpP50: number;
  /** Where the time went, p50 of each step in ms (see breakdown()). */
  breakdown?: Breakdown;
}

/**
 * The steps between the LMTP "250" and the acknowledgement at the sink, from the daemon's log:
 * notice: until the server told the gateway (an EXISTS: IDLE or a re-check), 0 when a run already
 * in progress found the mail; fetch: from then until its batch was fetched (waiting for a run in
 * progress, SEARCH, FETCH); process: parse, plan and the batch's commit; wake: from the commit
 * until the outbox sender began the SMTP transaction; smtp: that transaction until the sink had it.
 */
export interface Breakdown {
  notice: number;
  fetch: number;
  process: number;
  wake: number;
  smtp: number;
  /** How many mails were announced by the server (the others were found by a run in progress). */
  announced: number;
  mails: number;
}

interface Delivered {
  messageId: string;
  /** LMTP "250" and the ack at the sink, epoch ms. */
  deliveredAt: number;
  ackAt: number;
}

const epoch = (perfMs: number) => performance.timeOrigin + perfMs;

/** The p50 of each step over the mails, from the daemon's log lines. */
export function breakdown(mails: Delivered[], timeline: Daemon["timeline"]): Breakdown {
  const at = (iso: unknown) => Date.parse(String(iso));
  const steps: Record<"notice" | "fetch" | "process" | "wake" | "smtp", number[]> = {
    notice: [],
    fetch: [],
    process: [],
    wake: [],
    smtp: [],
  };
  let announced = 0;
  for (const m of mails) {
    const processed = timeline.find((l) => l.msg === "mail processed" && l.messageId === m.messageId);
    const sent =
      processed && timeline.find((l) => l.msg === "notification sent" && l.ticket === processed.ticket && l.event === "received");
    if (!processed || !sent) continue;
    const fetchedAt = at(processed.fetchedAt);
    const announce = timeline
      .filter((l) => l.msg === "IDLE: new mail announced" && at(l.time) >= m.deliveredAt - 1 && at(l.time) <= fetchedAt)
      .map((l) => at(l.time))[0];
    if (announce !== undefined) announced++;
    const noticed = announce ?? m.deliveredAt;
    steps.notice.push(noticed - m.deliveredAt);
    steps.fetch.push(fetchedAt - noticed);
    steps.process.push(at(processed.time) - fetchedAt);
    steps.wake.push(at(sent.smtpAt) - at(processed.time));
    steps.smtp.push(m.ackAt - at(sent.smtpAt));
  }
  const p50 = (xs: number[]) =>
    round1(
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      ),
    );
  return {
    notice: p50(steps.notice),
    fetch: p50(steps.fetch),
    process: p50(steps.process),
    wake: p50(steps.wake),
    smtp: p50(steps.smtp),
    announced,
    mails: steps.notice.length,
  };
}

export const round1 = (x: number) => Math.round(x * 10) / 10;

export function latencyStats(mode: string, latencies: number[], lmtpTimes: number[]): LatencyResult {
  const l = [...latencies].sort((a, b) => a - b);
  return {
    mails: l.length,
    mode,
    p50: round1(percentile(l, 50)),
    p95: round1(percentile(l, 95)),
    p99: round1(percentile(l, 99)),
    max: round1(l[l.length - 1]),
    mean: round1(l.reduce((a, b) => a + b, 0) / l.length),
    lmtpP50: round1(
      percentile(
        [...lmtpTimes].sort((a, b) => a - b),
        50,
      ),
    ),
  };
}

export type LatencyModes = { sequential: LatencyResult; paced: LatencyResult; isolated: LatencyResult };

/**
 * Mails delivered over LMTP to the mailbox of `ticketpost start`; latency runs from the LMTP
 * "250" (the mail is in the mailbox) to the acknowledgement at the sink. Three ways:
 * - one at a time: the next mail as soon as the previous ack arrived;
 * - a fixed pace (every paceMs), whatever the gateway does;
 * - isolated: a quiet pause before each mail, so it finds the gateway idling (as on a quiet day).
 */
export async function measureLatency(p: Params, root: string, dovecot: DovecotInstance, sink: SinkHandle): Promise<LatencyModes> {
  const user = "latency@example.test";
  const setup = gatewayConfig(root, "latency", dovecot, sink, user);
  const warmup = 3;
  const lmtp = nodemailer.createTransport({
    host: dovecot.host,
    port: dovecot.lmtpPort,
    lmtp: true,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 1,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const acks = new AckWatcher(sink);
  const delivered: Delivered[] = [];
  const deliver = async (m: BenchMail, waitMs: number) => {
    const t0 = performance.now();
    await lmtp.sendMail({ envelope: { from: m.from, to: [user] }, raw: m.raw });
    const t1 = performance.now();
    const ack = acks.wait(m.messageId, waitMs).then((at) => {
      delivered.push({ messageId: m.messageId, deliveredAt: epoch(t1), ackAt: epoch(at) });
      return Math.max(0, at - t1);
    });
    return { lmtpMs: t1 - t0, ack };
  };
  // The delivered mails of one mode, for its breakdown.
  const take = () => delivered.splice(0);
  const oneByOne = async (mails: BenchMail[], pauseMs: number, skip: number) => {
    const latencies: number[] = [];
    const lmtpTimes: number[] = [];
    for (let i = 0; i < mails.length; i++) {
      if (pauseMs) await sleep(pauseMs);
      const d = await deliver(mails[i], 30_000);
      const latency = await d.ack;
      if (i < skip) continue;
      latencies.push(latency);
      lmtpTimes.push(d.lmtpMs);
    }
    return { latencies, lmtpTimes };
  };
  const daemon = await Daemon.start(setup.configPath);
  try {
    await daemon.waitForLog(/"msg":"IMAP connected"/, 30_000);
    const seq = await oneByOne(await newRequests(p.seed, "latency", 0, p.latencyMails + warmup), 0, warmup);
    const seqMails = take().slice(warmup);

    const paced = await newRequests(p.seed, "paced", 0, p.latencyMails);
    const pacedLmtp: number[] = [];
    const pending: Array<Promise<number>> = [];
    const start = performance.now();
    for (let i = 0; i < paced.length; i++) {
      const ahead = start + i * p.paceMs - performance.now();
      if (ahead > 0) await sleep(ahead);
      const d = await deliver(paced[i], 60_000);
      pacedLmtp.push(d.lmtpMs);
      pending.push(d.ack);
    }
    const pacedLatencies = await Promise.all(pending);
    const pacedMails = take();

    const iso = await oneByOne(await newRequests(p.seed, "isolated", 0, p.isolatedMails), p.isolatedPauseMs, 0);
    const isoMails = take();
    const log = daemon.timeline;
    return {
      sequential: {
        ...latencyStats("the next mail as soon as the previous ack reached the sink", seq.latencies, seq.lmtpTimes),
        breakdown: breakdown(seqMails, log),
      },
      paced: {
        ...latencyStats(`a mail every ${p.paceMs} ms, whatever the gateway does`, pacedLatencies, pacedLmtp),
        breakdown: breakdown(pacedMails, log),
      },
      isolated: {
        ...latencyStats(
          `${p.isolatedPauseMs} ms of quiet before each mail, so the gateway is idling in IDLE`,
          iso.latencies,
          iso.lmtpTimes,
        ),
        breakdown: breakdown(isoMails, log),
      },
    };
  } finally {
    acks.close();
    lmtp.close();
    await daemon.stop();
  }
}
