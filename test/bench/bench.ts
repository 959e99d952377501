/*
 * `npm run bench`: how fast the gateway turns mail into tickets on this machine, against a private
 * Dovecot, the machine's PostgreSQL and an SMTP sink. Not a mocha test (no ".test." in the name):
 * nothing is asserted; it exits 0 when every phase ran, 1 when one failed (the table says which).
 *
 *   node dist/test/bench/bench.js [--quick] [--json] [--n N] [--seed S] [--only PHASES] [--profile DIR]
 *
 * Phases (--only takes a comma list):
 *   bound    imapflow fetch + mailparser's simpleParser of N mails, nothing else: what no gateway beats
 *   ingest   in-process, the real code (openGateway, ImapMailbox.open, drainMailbox), a fresh SQLite
 *            and a fresh PostgreSQL database: N new mails → tickets; the OutboxSender sending their
 *            acknowledgements; N replies threading into those tickets
 *   latency  `ticketpost start` as a real process; mails delivered over LMTP, time to the ack at the sink
 *   memory   the daemon's RSS around one big mail, and at the start and end of a backlog
 * --profile DIR writes a V8 CPU profile of each timed ingest drain (DIR/ingest-<engine>.cpuprofile)
 * and prints the top self time by function and by package to stderr.
 * Progress goes to stderr; the table to stdout, or with --json one JSON object (the table to stderr).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { startDovecot } from "../harness/dovecot.js";
import { newRequests, summarize } from "./mail-mix.js";
import { type Phase, parseArgs } from "./params.js";
import { atCleanup, liveChildren, progress, runCleanups, secs } from "./util.js";
import { sinkChild, startSinkProcess } from "./processes.js";
import { measureBound, measureEngine } from "./ingest.js";
import { measureLatency } from "./latency.js";
import { measureBacklog, measureBigMail, measureMailboxes } from "./memory.js";
import { type Report, codeVersion, machineInfo, table } from "./report.js";

const USERS = [
  "bound",
  "warmup-sqlite",
  "ingest-sqlite",
  "ingest-postgres",
  "latency",
  "big",
  "backlog",
  "mb1-a",
  "mb1-b",
  "mb2-a",
  "mb2-b",
].map((u) => `${u}@example.test`);

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const p = parseArgs(process.argv.slice(2));
  const began = performance.now();
  const report: Report = {
    code: codeVersion(),
    params: {
      quick: p.quick,
      n: p.n,
      seed: p.seed,
      latencyMails: p.latencyMails,
      paceMs: p.paceMs,
      isolatedMails: p.isolatedMails,
      isolatedPauseMs: p.isolatedPauseMs,
      bigAttachmentMB: p.bigAttachmentMB,
      backlogMails: p.backlogMails,
      batchSize: p.batchSize,
      phases: p.phases,
    },
    machine: machineInfo(),
    mix: null,
    bound: null,
    engines: {},
    latency: null,
    memory: {},
    mailboxes: [],
    errors: {},
    phaseSeconds: {},
    startedAt: new Date().toISOString().slice(0, 19) + "Z",
    durationS: 0,
  };
  if (p.profileDir) mkdirSync(p.profileDir, { recursive: true });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    progress("interrupted; cleaning up");
    // A daemon's IMAP session would hold up Dovecot's shutdown; there is nothing of theirs to keep.
    for (const c of liveChildren) c.kill("SIGKILL");
    void runCleanups().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const phase = async (key: string, fn: () => Promise<void>) => {
    const t = performance.now();
    try {
      await fn();
    } catch (err) {
      if (interrupted) return;
      report.errors[key] = (err as Error).stack ?? String(err);
      progress(`${key} failed: ${(err as Error).message}`);
    } finally {
      report.phaseSeconds[key] = Math.round(secs(performance.now() - t));
    }
  };

  try {
    const root = mkdtempSync(path.join(os.tmpdir(), "tp-bench-"));
    atCleanup(() => rmSync(root, { recursive: true, force: true }));
    progress("starting Dovecot and the SMTP sink");
    const dovecot = await startDovecot({ users: USERS });
    atCleanup(() => dovecot.stop());
    const sink = await startSinkProcess();
    atCleanup(() => sink.stop());

    const wants = (ph: Phase) => p.phases.includes(ph);
    if (wants("bound") || wants("ingest")) {
      progress(`generating ${p.n} mails (seed ${p.seed})`);
      const mails = await newRequests(p.seed, "bench", 0, p.n);
      report.mix = summarize(mails);
      if (wants("bound"))
        await phase("bound", async () => {
          progress("bound: imapflow fetch + simpleParser");
          report.bound = await measureBound(dovecot, mails, p.batchSize);
        });
      // The first gateway run in this process would pay for the JIT compiling TypeORM and friends.
      if (wants("ingest"))
        await phase(
          "warmup",
          async () => void (await measureEngine("sqlite", p, root, dovecot, sink, mails.slice(0, 100), "warmup-sqlite")),
        );
      if (wants("ingest"))
        for (const engine of ["sqlite", "postgres"] as const) {
          await phase(`ingest-${engine}`, async () => {
            report.engines[engine] = await measureEngine(engine, p, root, dovecot, sink, mails);
          });
        }
    }
    if (wants("latency"))
      await phase("latency", async () => {
        progress(`latency: ${p.latencyMails} + ${p.latencyMails} + ${p.isolatedMails} mails over LMTP to the running daemon`);
        report.latency = await measureLatency(p, root, dovecot, sink);
      });
    if (wants("memory")) {
      await phase("memory-big", async () => {
        progress(`memory: one mail with a ${p.bigAttachmentMB} MB attachment`);
        report.memory.big = await measureBigMail(p, root, dovecot, sink);
      });
      await phase("memory-backlog", async () => {
        progress(`memory: backlog of ${p.backlogMails} mails`);
        report.memory.backlog = await measureBacklog(p, root, dovecot, sink);
      });
    }
    if (wants("mailboxes"))
      for (const instances of [1, 2]) {
        await phase(`mailboxes-${instances}`, async () => {
          progress(`mailboxes: ${p.n} mails in two mailboxes, ${instances} instance(s), PostgreSQL`);
          report.mailboxes.push(await measureMailboxes(p, root, dovecot, sink, instances));
        });
      }
    if (report.engines.postgres || report.mailboxes.length) report.machine.postgres = await postgresVersion();
  } finally {
    await runCleanups();
  }
  // The signal handler exits once its cleanup is done; a half-run table would only mislead.
  if (interrupted) await new Promise(() => {});
  report.durationS = Math.round(secs(performance.now() - began));
  report.machine.loadAvgAfter = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const text = table(report);
  if (p.json) {
    process.stderr.write(text + "\n");
    process.stdout.write(JSON.stringify(report) + "\n");
  } else {
    process.stdout.write(text + "\n");
  }
  for (const [key, stack] of Object.entries(report.errors)) progress(`${key}: ${stack}`);
  return Object.keys(report.errors).length ? 1 : 0;
}

async function postgresVersion(): Promise<string | null> {
  try {
    const pg = (await import("pg")).default;
    const { PG_ADMIN_URL } = await import("../helpers/databases.js");
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      return String((await c.query("SHOW server_version")).rows[0].server_version)
        .replace(/^/, "PostgreSQL ")
        .split(" (")[0];
    } finally {
      await c.end();
    }
  } catch {
    return null;
  }
}

const entry = process.argv.includes("--sink-child") ? sinkChild().then(() => null) : main();
entry.then(
  (code) => {
    if (code !== null) process.exit(code);
  },
  (err) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
