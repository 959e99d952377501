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
import { execFileSync, fork, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ImapFlow } from "imapflow";
import type { DataSource } from "typeorm";
import { simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import { closeDb, createSender, drainDeps, openGateway, spoolOptions } from "../../src/cli/gateway.js";
import { parseConfig } from "../../src/config/load.js";
import type { TicketpostConfig } from "../../src/config/schema.js";
import { OutboxMail } from "../../src/db/entities.js";
import { drainMailbox, type DrainSummary } from "../../src/mailbox/drain.js";
import { ImapMailbox } from "../../src/mailbox/imap-mailbox.js";
import { createLogger } from "../../src/shared/logger.js";
import { startDovecot, type DovecotInstance } from "../harness/dovecot.js";
import { startSmtpSink } from "../harness/smtp-relay.js";
import { createTestDatabase, type Engine } from "../helpers/databases.js";
import { profiled } from "./profile.js";
import { bigMail, newRequests, replyTo, summarize, SUPPORT_ADDRESS, type BenchMail, type MixSummary } from "./mail-mix.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const PHASES = ["bound", "ingest", "latency", "memory", "mailboxes"] as const;
type Phase = (typeof PHASES)[number];
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

/** What to undo at the end, newest first; each runs once, whether the run ends, fails or is interrupted. */
const cleanups: Array<() => Promise<unknown> | unknown> = [];

/** Registers an undo step; the returned function runs it now (and removes it). */
function atCleanup(fn: () => Promise<unknown> | unknown): () => Promise<void> {
  cleanups.push(fn);
  return async () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
    await fn();
  };
}

let cleaning: Promise<void> | null = null;

/** Single-flight: the end of main and a signal handler may both ask; both wait for the same run. */
function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch (err) {
        process.stderr.write(`bench: cleanup failed: ${(err as Error).message}\n`);
      }
    }
  })().finally(() => {
    cleaning = null;
  });
  return cleaning;
}

/** Daemons and the sink process; killed when the benchmark exits, however it exits. */
const liveChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of liveChildren) c.kill("SIGKILL");
});

// ---------------------------------------------------------------- arguments

interface Params {
  quick: boolean;
  json: boolean;
  n: number;
  seed: number;
  latencyMails: number;
  bigAttachmentMB: number;
  backlogMails: number;
  /** Fixed-pace latency run: one mail every paceMs. */
  paceMs: number;
  /** Isolated latency run: this many mails, each after a quiet pause. */
  isolatedMails: number;
  isolatedPauseMs: number;
  batchSize: number;
  phases: Phase[];
  profileDir: string | null;
}

function parseArgs(argv: string[]): Params {
  const has = (f: string) => argv.includes(f);
  const value = (f: string): string | undefined => {
    const i = argv.indexOf(f);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (f: string, def: number): number => {
    const v = value(f);
    if (v === undefined) return def;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${f} wants a whole number ≥ 1, got ${v}`);
    return Number(v);
  };
  const known = new Set(["--quick", "--json", "--n", "--seed", "--only", "--profile", "--help"]);
  for (let i = 0; i < argv.length; i++) {
    if (!known.has(argv[i])) throw new Error(`unknown argument ${argv[i]}`);
    if (["--n", "--seed", "--only", "--profile"].includes(argv[i])) i++;
  }
  if (has("--help")) {
    console.log(
      "usage: node dist/test/bench/bench.js [--quick] [--json] [--n N] [--seed S] [--only bound,ingest,latency,memory,mailboxes] [--profile DIR]",
    );
    process.exit(0);
  }
  const quick = has("--quick");
  const only = value("--only")
    ?.split(",")
    .map((s) => s.trim()) ?? [...PHASES];
  for (const p of only) if (!PHASES.includes(p as Phase)) throw new Error(`--only: unknown phase ${p} (${PHASES.join(", ")})`);
  return {
    quick,
    json: has("--json"),
    n: int("--n", quick ? 200 : 2000),
    seed: int("--seed", 1),
    latencyMails: quick ? 30 : 200,
    bigAttachmentMB: quick ? 10 : 50,
    backlogMails: quick ? 1000 : 10_000,
    paceMs: 50,
    isolatedMails: quick ? 10 : 40,
    isolatedPauseMs: 600,
    batchSize: 50,
    phases: only as Phase[],
    profileDir: value("--profile") ?? null,
  };
}

// ---------------------------------------------------------------- small helpers

const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const secs = (ms: number) => ms / 1000;
const rate = (count: number, ms: number) => (ms > 0 ? count / secs(ms) : 0);
const mb = (bytes: number) => bytes / 1024 / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when the promise settled within ms; the timer does not outlive the race. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await sleep(10);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** VmRSS and VmHWM of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) each process used so far. */
function cpuMsByPid(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
    } catch {
      // exited
    }
  }
  return out;
}

interface CpuUse {
  /** This process: the gateway code when measured in-process. */
  selfMs: number;
  /** Every Dovecot process alive at the end (a session that ended meanwhile is missed). */
  dovecotMs: number;
  /** The PostgreSQL backends serving the gateway's database (0 for SQLite, which runs in-process). */
  dbMs: number;
}

async function withCpu<T>(dovecot: DovecotInstance, db: DataSource | null, fn: () => Promise<T>): Promise<{ result: T; cpu: CpuUse }> {
  const delta = (before: Map<number, number>, after: Map<number, number>) =>
    [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);
  const dove0 = cpuMsByPid(dovecot.processIds());
  const db0 = cpuMsByPid(db ? await postgresPids(db) : []);
  const self0 = process.cpuUsage();
  const result = await fn();
  const self = process.cpuUsage(self0);
  const dove1 = cpuMsByPid(dovecot.processIds());
  const db1 = cpuMsByPid(db ? await postgresPids(db) : []);
  const cpu = {
    selfMs: Math.round((self.user + self.system) / 1000),
    dovecotMs: Math.round(delta(dove0, dove1)),
    dbMs: Math.round(delta(db0, db1)),
  };
  return { result, cpu };
}

/** Backend pids of the gateway's PostgreSQL connections, when the server runs on this machine. */
async function postgresPids(db: DataSource): Promise<number[]> {
  if (db.options.type !== "postgres") return [];
  const rows: Array<{ pid: number }> = await db.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database()");
  return rows
    .map((r) => Number(r.pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "postgres";
      } catch {
        return false;
      }
    });
}

function inReplyToOf(raw: Buffer): string | null {
  const end = raw.indexOf("\r\n\r\n");
  const head = raw
    .subarray(0, end < 0 ? raw.length : end)
    .toString("latin1")
    .replace(/\r\n[ \t]+/g, " ");
  return /^in-reply-to:\s*<([^>\s]+)>/im.exec(head)?.[1] ?? null;
}

// ---------------------------------------------------------------- the SMTP sink, in a process of its own

/**
 * The harness's SMTP sink, run in a child process: sending is then measured without the sink's
 * own work on the sender's thread (on a real system the SMTP server is elsewhere), and the
 * daemons get their acknowledgements accepted on the other core.
 */
interface SinkHandle {
  host: string;
  port: number;
  /** Mails accepted so far. */
  readonly count: number;
  /** `at` is on this process's performance.now() clock. */
  onAccepted(listener: (mail: { inReplyTo: string | null; at: number }) => void): () => void;
  stop(): Promise<void>;
}

type SinkMessage = { type: "ready"; host: string; port: number } | { type: "mail"; inReplyTo: string | null; epochMs: number };

async function startSinkProcess(): Promise<SinkHandle> {
  const child = fork(fileURLToPath(import.meta.url), ["--sink-child"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  liveChildren.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      liveChildren.delete(child);
      resolve();
    }),
  );
  const listeners = new Set<(mail: { inReplyTo: string | null; at: number }) => void>();
  let count = 0;
  const ready = await new Promise<{ host: string; port: number }>((resolve, reject) => {
    child.once("error", reject);
    void exited.then(() => reject(new Error("the SMTP sink process exited while starting")));
    child.on("message", (m: SinkMessage) => {
      if (m.type === "ready") resolve(m);
      else if (m.type === "mail") {
        count++;
        const mail = { inReplyTo: m.inReplyTo, at: m.epochMs - performance.timeOrigin };
        for (const l of listeners) l(mail);
      }
    });
  });
  return {
    ...ready,
    get count() {
      return count;
    },
    onAccepted(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: "stop" });
      if (!(await settlesWithin(exited, 5000))) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** The child's side: startSmtpSink, and one IPC message per accepted mail. */
async function sinkChild(): Promise<void> {
  const sink = await startSmtpSink();
  sink.onAccepted((mail) => {
    const epochMs = performance.timeOrigin + performance.now();
    sink.accepted.length = 0;
    process.send!({ type: "mail", inReplyTo: inReplyToOf(mail.raw), epochMs } satisfies SinkMessage);
  });
  process.on("message", (m: { type: string }) => {
    if (m.type === "stop") void sink.stop().finally(() => process.exit(0));
  });
  // The parent died without saying goodbye.
  process.on("disconnect", () => process.exit(0));
  process.send!({ type: "ready", host: sink.host, port: sink.port } satisfies SinkMessage);
}

/** Notes when each mail reaches the sink, keyed by the Message-ID it answers. */
class AckWatcher {
  private readonly arrived = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  count = 0;
  private readonly off: () => void;

  constructor(sink: SinkHandle) {
    this.off = sink.onAccepted(({ inReplyTo, at }) => {
      this.count++;
      if (!inReplyTo) return;
      this.arrived.set(inReplyTo, at);
      this.waiters.get(inReplyTo)?.(at);
    });
  }

  wait(id: string, timeoutMs: number): Promise<number> {
    const at = this.arrived.get(id);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`no acknowledgement for <${id}> within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(id, (t) => {
        clearTimeout(timer);
        this.waiters.delete(id);
        resolve(t);
      });
    });
  }

  async waitForCount(n: number, stallMs: number): Promise<void> {
    let last = this.count;
    let lastChange = Date.now();
    while (this.count < n) {
      await sleep(50);
      if (this.count !== last) [last, lastChange] = [this.count, Date.now()];
      else if (Date.now() - lastChange > stallMs)
        throw new Error(`only ${this.count} of ${n} mails reached the sink; nothing new for ${stallMs} ms`);
    }
  }

  close(): void {
    this.off();
  }
}

// ---------------------------------------------------------------- IMAP setup

function imapClient(dovecot: DovecotInstance, user: string): ImapFlow {
  const client = new ImapFlow({
    host: dovecot.host,
    port: dovecot.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: dovecot.password },
    logger: false,
    disableAutoIdle: true,
  });
  client.on("error", () => {});
  return client;
}

/** IMAP APPEND over a few connections at once (untimed setup). */
async function appendMails(dovecot: DovecotInstance, user: string, raws: Buffer[], connections = 3): Promise<void> {
  let next = 0;
  const worker = async () => {
    const client = imapClient(dovecot, user);
    await client.connect();
    try {
      while (next < raws.length) await client.append("INBOX", raws[next++]);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };
  await Promise.all(Array.from({ length: Math.min(connections, raws.length) }, worker));
}

// ---------------------------------------------------------------- gateway configuration

interface GatewaySetup {
  dir: string;
  configPath: string;
  config: TicketpostConfig;
}

/** A config file as MailWorld writes it, with production defaults for schedule and outbox. */
function gatewayConfig(
  root: string,
  name: string,
  dovecot: DovecotInstance,
  sink: SinkHandle,
  imapUser: string,
  extra: Record<string, unknown> = {},
): GatewaySetup {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const json = {
    name: "ACME Support",
    supportAddress: SUPPORT_ADDRESS,
    messageIdDomain: "tickets.example.test",
    dataDir: path.join(dir, "data"),
    imap: { host: dovecot.host, port: dovecot.imapPort, secure: false, user: imapUser, password: dovecot.password, batchSize: 50 },
    smtp: { host: sink.host, port: sink.port, secure: false },
    ...extra,
  };
  const configPath = path.join(dir, "ticketpost.json");
  writeFileSync(configPath, JSON.stringify(json, null, 2));
  return { dir, configPath, config: parseConfig(json, { env: {} }) };
}

/** The CLI without the caller's TICKETPOST_* variables, which would override the config file. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TICKETPOST_")));
}

function runCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ticketpost ${args[0]} exited ${code}: ${err.trim()}`))));
  });
}

/** `ticketpost start` as a real process; keeps the tail of its log for error messages. */
class Daemon {
  private tail = "";
  private partial = "";
  private readonly processed: Record<string, number> = {};
  private readonly watchers: Array<{ re: RegExp; resolve: () => void }> = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stderr!.on("data", (d: Buffer) => {
      const text = this.partial + d.toString("utf8");
      const lines = text.split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) {
        const drained = /"msg":"mail processed".*"mailbox":"([^"]+)"/.exec(line);
        if (drained) this.processed[drained[1]] = (this.processed[drained[1]] ?? 0) + 1;
        for (const w of [...this.watchers])
          if (w.re.test(line)) {
            this.watchers.splice(this.watchers.indexOf(w), 1);
            w.resolve();
          }
      }
      this.tail = (this.tail + text).slice(-8000);
    });
    this.exited = new Promise((resolve) =>
      child.on("close", (code, signal) => {
        liveChildren.delete(child);
        resolve(code ?? (signal ? -1 : null));
      }),
    );
  }

  static async start(configPath: string): Promise<Daemon> {
    await runCli(["migrate", "--config", configPath]);
    const child = spawn(process.execPath, [CLI, "start", "--config", configPath], { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] });
    liveChildren.add(child);
    return new Daemon(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Mails this daemon processed, by mailbox id (from its log). */
  processedByMailbox(): Record<string, number> {
    return { ...this.processed };
  }

  /** Resolves at the first log line matching re; rejects on timeout or when the daemon exits first. */
  waitForLog(re: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) =>
        reject(new Error(`daemon: ${why} while waiting for a log line matching ${re}; log tail:\n${this.tail}`));
      const timer = setTimeout(() => fail(`nothing after ${timeoutMs} ms`), timeoutMs);
      void this.exited.then((code) => fail(`exited (${code})`));
      this.watchers.push({
        re,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** SIGTERM, as systemd stops it; SIGKILL if it has not finished within 20 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    if (!(await settlesWithin(this.exited, 20_000))) this.child.kill("SIGKILL");
    await this.exited;
  }
}

// ---------------------------------------------------------------- phases

interface Throughput {
  mails: number;
  ms: number;
  perSecond: number;
  cpu: CpuUse;
  [extra: string]: unknown;
}

function throughput(mails: number, ms: number, cpu: CpuUse, extra: Record<string, unknown> = {}): Throughput {
  return { mails, ms: Math.round(ms), perSecond: Math.round(rate(mails, ms) * 10) / 10, cpu, ...extra };
}

const PARSE_OPTIONS = { skipTextToHtml: true, skipTextLinks: true } as const;

/** imapflow fetch + simpleParser, the same batches and parser options as the gateway, nothing else. */
async function measureBound(dovecot: DovecotInstance, mails: BenchMail[], batchSize: number): Promise<Throughput> {
  const user = "bound@example.test";
  await appendMails(
    dovecot,
    user,
    mails.map((m) => m.raw),
  );
  // The gateway rows run later, with mailparser already compiled by the JIT; so should this one.
  for (const m of mails.slice(0, 100)) await simpleParser(m.raw, PARSE_OPTIONS);
  const client = imapClient(dovecot, user);
  await client.connect();
  try {
    await client.mailboxOpen("INBOX");
    let fetchMs = 0;
    let parseMs = 0;
    const { result, cpu } = await withCpu(dovecot, null, async () => {
      let parsed = 0;
      const start = performance.now();
      const uids = ((await client.search({ all: true }, { uid: true })) || []).sort((a, b) => a - b);
      for (let i = 0; i < uids.length; i += batchSize) {
        const t = performance.now();
        const batch = await client.fetchAll(uids.slice(i, i + batchSize).join(","), { uid: true, source: true }, { uid: true });
        const t2 = performance.now();
        fetchMs += t2 - t;
        for (const m of batch) {
          if (!m.source) continue;
          await simpleParser(m.source, PARSE_OPTIONS);
          parsed++;
        }
        parseMs += performance.now() - t2;
      }
      return { parsed, ms: performance.now() - start };
    });
    return throughput(result.parsed, result.ms, cpu, { fetchMs: Math.round(fetchMs), parseMs: Math.round(parseMs) });
  } finally {
    await client.logout().catch(() => client.close());
  }
}

interface EngineResult {
  ingest: Throughput;
  send: Throughput;
  replies: Throughput;
}

type Gateway = Awaited<ReturnType<typeof openGateway>>;

/**
 * SQL statements the gateway sent while fn ran, by first keyword. TypeORM hands every statement
 * to its logger whether logging is on or not, so a wrapper on this instance's logger sees them all.
 */
async function countingStatements<T>(db: DataSource, fn: () => Promise<T>): Promise<{ result: T; statements: Record<string, number> }> {
  const logger = db.logger;
  const original = logger.logQuery;
  const statements: Record<string, number> = {};
  logger.logQuery = function (query, parameters, runner) {
    const verb = /^\s*(\w+)/.exec(query)?.[1]?.toUpperCase() ?? "?";
    statements[verb] = (statements[verb] ?? 0) + 1;
    return original.call(this, query, parameters, runner);
  };
  try {
    return { result: await fn(), statements };
  } finally {
    logger.logQuery = original;
  }
}

function perMail(statements: Record<string, number>, mails: number): string {
  const total = Object.values(statements).reduce((a, b) => a + b, 0);
  if (!mails || !total) return "";
  const parts = Object.entries(statements)
    .sort((a, b) => b[1] - a[1])
    .map(([verb, n]) => `${(n / mails).toFixed(1)} ${verb}`);
  return `${(total / mails).toFixed(1)} SQL/mail (${parts.join(", ")})`;
}

function outcomes(summary: DrainSummary): string {
  return (
    Object.entries(summary.byOutcome)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ") || "nothing"
  );
}

/**
 * Adds the time spent in the named async methods of obj to `into` (a pass-through on the instance),
 * to tell IMAP round trips from the work on each mail.
 */
function timeMethods<T extends object>(obj: T, names: Array<keyof T & string>, into: Record<string, number>): void {
  for (const name of names) {
    const original = obj[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    into[name] = 0;
    if (typeof original !== "function") continue;
    (obj as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const t = performance.now();
      try {
        return await original.apply(obj, args);
      } finally {
        into[name] += performance.now() - t;
      }
    };
  }
}

/** drainMailbox on a freshly opened ImapMailbox; only the drain is timed. */
async function timedDrain(
  config: TicketpostConfig,
  ctx: Gateway,
  dovecot: DovecotInstance,
  profileFile: string | null,
): Promise<Throughput> {
  // As the daemon opens it: IDLE on, big mails spooled to disk.
  const mb = await ImapMailbox.open(config.imap, ctx.logger, spoolOptions(config));
  try {
    const split: Record<string, number> = {};
    timeMethods(mb, ["listUids", "fetch", "move"], split);
    const deps = drainDeps(ctx);
    timeMethods(deps, ["process", "markMoved"], split);
    // Inside processMail: the database transaction(s) and the blob store (raw mail, attachments).
    timeMethods(ctx.db, ["transaction"], split);
    timeMethods(ctx.blobs as unknown as Record<string, unknown>, ["put", "putStream", "putFile"], split);
    const { result: counted, cpu } = await withCpu(dovecot, ctx.db, () =>
      countingStatements(ctx.db, () =>
        profiled(profileFile, async () => {
          const start = performance.now();
          const summary = await drainMailbox(mb, config.imap, deps);
          return { ms: performance.now() - start, summary };
        }),
      ),
    );
    const { result, statements } = counted;
    const splitMs = Object.fromEntries(Object.entries(split).map(([k, v]) => [k, Math.round(v)]));
    return throughput(result.summary.processed, result.ms, cpu, {
      outcomes: outcomes(result.summary),
      statements,
      sql: perMail(statements, result.summary.processed),
      splitMs,
    });
  } finally {
    await mb.close();
  }
}

/** ingest (new tickets) → send (their acknowledgements) → replies (threading into those tickets), on one fresh database. */
async function measureEngine(
  engine: Engine,
  p: Params,
  root: string,
  dovecot: DovecotInstance,
  sink: SinkHandle,
  mails: BenchMail[],
  name = `ingest-${engine}`,
): Promise<EngineResult> {
  const tdb = engine === "postgres" ? await createTestDatabase("postgres") : null;
  const dropDatabase = tdb ? atCleanup(() => tdb.drop()) : async () => {};
  const say = (msg: string) => progress(`${name}: ${msg}`);
  try {
    const imapUser = `${name}@example.test`;
    const setup = gatewayConfig(root, name, dovecot, sink, imapUser, tdb ? { database: { url: tdb.options.url } } : {});
    await appendMails(
      dovecot,
      imapUser,
      mails.map((m) => m.raw),
    );
    // Log lines are built as in the daemon, then dropped: their cost counts, stderr's does not.
    const ctx = await openGateway(
      setup.config,
      createLogger("info", {}, () => {}),
      { migrate: true },
    );
    try {
      say(`ingesting ${mails.length} mails`);
      const ingest = await timedDrain(
        setup.config,
        ctx,
        dovecot,
        p.profileDir && name.startsWith("ingest") ? path.join(p.profileDir, `${name}.cpuprofile`) : null,
      );
      ingest.queued = await ctx.db.getRepository(OutboxMail).count({ where: { status: "pending" } });

      say(`sending ${ingest.queued} queued mails to the sink`);
      const sender = createSender(setup.config, ctx);
      const before = sink.count;
      const { result: counted, cpu: sendCpu } = await withCpu(dovecot, ctx.db, () =>
        countingStatements(ctx.db, async () => {
          const t = performance.now();
          const summary = await sender.runOnce();
          return { summary, ms: performance.now() - t };
        }),
      );
      const { result: sent, statements } = counted;
      // The sink reports each mail just after its "250"; the last report may trail sendMail by a moment.
      await waitUntil(() => sink.count - before >= sent.summary.sent, 5000);
      const sinkCount = sink.count - before;
      const send = throughput(sinkCount, sent.ms, sendCpu, {
        sent: sent.summary.sent,
        deferred: sent.summary.deferred,
        failed: sent.summary.failed,
        statements,
        sql: perMail(statements, sinkCount),
      });
      await sender.stop();

      const acks = await ctx.db.getRepository(OutboxMail).find({ where: { event: "received" }, order: { id: "ASC" } });
      const replies: Buffer[] = [];
      for (let i = 0; i < acks.length; i++) replies.push((await replyTo(p.seed, i, acks[i])).raw);
      await appendMails(dovecot, imapUser, replies);
      say(`ingesting ${replies.length} replies`);
      const rep = await timedDrain(setup.config, ctx, dovecot, null);
      return { ingest, send, replies: rep };
    } finally {
      await closeDb(ctx.db);
    }
  } finally {
    await dropDatabase();
  }
}

interface LatencyResult {
  mails: number;
  mode: string;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  /** The LMTP transaction itself (not part of the latency). */
  lmtpP50: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function latencyStats(mode: string, latencies: number[], lmtpTimes: number[]): LatencyResult {
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

type LatencyModes = { sequential: LatencyResult; paced: LatencyResult; isolated: LatencyResult };

/**
 * Mails delivered over LMTP to the mailbox of `ticketpost start`; latency runs from the LMTP
 * "250" (the mail is in the mailbox) to the acknowledgement at the sink. Three ways:
 * - one at a time: the next mail as soon as the previous ack arrived;
 * - a fixed pace (every paceMs), whatever the gateway does;
 * - isolated: a quiet pause before each mail, so it finds the gateway idling (as on a quiet day).
 */
async function measureLatency(p: Params, root: string, dovecot: DovecotInstance, sink: SinkHandle): Promise<LatencyModes> {
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
  const deliver = async (m: BenchMail, waitMs: number) => {
    const t0 = performance.now();
    await lmtp.sendMail({ envelope: { from: m.from, to: [user] }, raw: m.raw });
    const t1 = performance.now();
    return { lmtpMs: t1 - t0, ack: acks.wait(m.messageId, waitMs).then((at) => Math.max(0, at - t1)) };
  };
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

    const iso = await oneByOne(await newRequests(p.seed, "isolated", 0, p.isolatedMails), p.isolatedPauseMs, 0);
    return {
      sequential: latencyStats("the next mail as soon as the previous ack reached the sink", seq.latencies, seq.lmtpTimes),
      paced: latencyStats(`a mail every ${p.paceMs} ms, whatever the gateway does`, pacedLatencies, pacedLmtp),
      isolated: latencyStats(
        `${p.isolatedPauseMs} ms of quiet before each mail, so the gateway is idling in IDLE`,
        iso.latencies,
        iso.lmtpTimes,
      ),
    };
  } finally {
    acks.close();
    lmtp.close();
    await daemon.stop();
  }
}

interface MemoryResult {
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

const toMB = (bytes: number) => round1(mb(bytes));

/** Peak RSS of the daemon around one big mail (the size limit raised so it is ingested, not refused). */
async function measureBigMail(p: Params, root: string, dovecot: DovecotInstance, sink: SinkHandle): Promise<MemoryResult["big"]> {
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
async function measureBacklog(p: Params, root: string, dovecot: DovecotInstance, sink: SinkHandle): Promise<MemoryResult["backlog"]> {
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
interface MailboxesResult {
  instances: number;
  mails: number;
  ms: number;
  perSecond: number;
  /** Mail processed per mailbox by each instance (from their logs): who drained what. */
  drainedBy: Array<Record<string, number>>;
}

async function measureMailboxes(
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

// ---------------------------------------------------------------- report

interface Report {
  code: string | null;
  params: Omit<Params, "json" | "profileDir" | "phases"> & { phases: Phase[] };
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGB: number;
    node: string;
    os: string;
    dovecot: string | null;
    postgres: string | null;
    loadAvgBefore: number[];
    loadAvgAfter: number[];
  };
  mix: MixSummary | null;
  bound: Throughput | null;
  engines: Partial<Record<Engine, EngineResult>>;
  latency: LatencyModes | null;
  memory: Partial<MemoryResult>;
  /** Two mailboxes (PostgreSQL): drained by one instance, and by two. */
  mailboxes: MailboxesResult[];
  errors: Record<string, string>;
  /** Wall time of each phase, setup (generating and appending mail) included. */
  phaseSeconds: Record<string, number>;
  startedAt: string;
  durationS: number;
}

/** The commit measured, with "+changes" when src/ differs from it (runs of different code do not compare). */
function codeVersion(): string | null {
  const root = fileURLToPath(new URL("../../..", import.meta.url));
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "templates", "package-lock.json"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return null;
  }
}

function machineInfo(): Report["machine"] {
  let dovecot: string | null = null;
  try {
    dovecot = execFileSync("dovecot", ["--version"], {
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/usr/local/sbin` },
      encoding: "utf8",
    }).trim();
  } catch {
    // reported as unknown
  }
  const load = os.loadavg().map((x) => Math.round(x * 100) / 100);
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "?",
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    dovecot,
    postgres: null,
    loadAvgBefore: load,
    loadAvgAfter: load,
  };
}

function table(r: Report): string {
  const rows: string[][] = [["figure", "engine", "result", "× bound", "wall", "CPU ms/mail: gateway/dovecot/pg", "notes"]];
  const bound = r.bound?.perSecond ?? 0;
  const ratio = (x: number) => (bound ? (x / bound).toFixed(2) : "");
  const wall = (ms: number) => `${secs(ms).toFixed(1)} s`;
  const cpu = (c: CpuUse, mails: number, pg: boolean) =>
    [c.selfMs, c.dovecotMs, ...(pg ? [c.dbMs] : [])].map((ms) => (mails ? ms / mails : 0).toFixed(2)).join(" / ") + (pg ? "" : " / -");
  const split = (t: Throughput) => {
    const m = t.splitMs as Record<string, number>;
    const blobs = (m.put ?? 0) + (m.putStream ?? 0) + (m.putFile ?? 0);
    return `IMAP ${wall(m.listUids + m.fetch + m.move)}, processMail ${wall(m.process)} (DB transactions ${wall(m.transaction)}, blob store ${wall(blobs)}, rest ${wall(m.process - m.transaction - blobs)})`;
  };
  const err = (key: string, figure: string, engine = "") => {
    if (r.errors[key]) rows.push([figure, engine, "ERROR", "", "", "", r.errors[key].split("\n")[0].slice(0, 160)]);
  };
  if (r.bound) {
    const b = r.bound;
    rows.push([
      "bound: imapflow fetch + simpleParser",
      "-",
      `${b.perSecond} mails/s`,
      "1.00",
      wall(b.ms),
      cpu(b.cpu, b.mails, false),
      `fetch ${wall(b.fetchMs as number)}, parse ${wall(b.parseMs as number)}`,
    ]);
  }
  err("bound", "bound");
  const kinds = [
    ["ingest: new mail → ticket, ack queued", "ingest", (t: Throughput) => `${t.outcomes}; ${t.queued} queued; ${split(t)}; ${t.sql}`],
    ["replies: threading into those tickets", "replies", (t: Throughput) => `${t.outcomes}; ${split(t)}; ${t.sql}`],
    [
      "send: OutboxSender → SMTP sink",
      "send",
      (t: Throughput) => `sink counted ${t.mails} (sent ${t.sent}, deferred ${t.deferred}, failed ${t.failed}); ${t.sql}`,
    ],
  ] as const;
  for (const [label, key, note] of kinds) {
    for (const engine of ["sqlite", "postgres"] as const) {
      const e = r.engines[engine];
      if (e)
        rows.push([
          label,
          engine,
          `${e[key].perSecond} mails/s`,
          key === "send" ? "" : ratio(e[key].perSecond),
          wall(e[key].ms),
          cpu(e[key].cpu, e[key].mails, engine === "postgres"),
          note(e[key]),
        ]);
      else if (key === "ingest") err(`ingest-${engine}`, "ingest, replies, send", engine);
    }
  }
  if (r.latency) {
    const modes: Array<[string, LatencyResult]> = [
      ["one at a time", r.latency.sequential],
      [`every ${r.params.paceMs} ms`, r.latency.paced],
      ["isolated", r.latency.isolated],
    ];
    for (const [name, l] of modes) {
      rows.push([
        `latency: LMTP → ack at sink, ${name}`,
        "sqlite",
        `p50 ${l.p50} ms`,
        "",
        "",
        "",
        `p95 ${l.p95}, p99 ${l.p99}, max ${l.max}, mean ${l.mean} ms; ${l.mails} mails: ${l.mode}; LMTP itself p50 ${l.lmtpP50} ms`,
      ]);
    }
  }
  err("latency", "latency", "sqlite");
  if (r.memory.big) {
    const b = r.memory.big;
    rows.push([
      `memory: one mail, ${b.attachmentMB} MB attachment`,
      "sqlite",
      `peak ${b.peakRssMB} MB`,
      "",
      wall(b.ackMs),
      "",
      `VmHWM of the daemon; VmRSS idle before ${b.idleRssMB} MB, after ${b.afterRssMB} MB; the mail is ${b.mailMB} MB; wall = APPEND to ack`,
    ]);
  }
  err("memory-big", "memory: big mail", "sqlite");
  if (r.memory.backlog) {
    const b = r.memory.backlog;
    rows.push([
      `memory: backlog of ${b.mails} mails`,
      "sqlite",
      `${b.startRssMB} → ${b.endRssMB} MB`,
      "",
      wall(b.ms),
      `${(b.daemonCpuMs / b.mails).toFixed(2)} / - / -`,
      `VmRSS at start and end, VmHWM ${b.peakRssMB} MB; ${b.mailMB} MB of mail; ${b.perSecond} mails/s end to end (daemon: ingest + send + logging)`,
    ]);
  }
  err("memory-backlog", "memory: backlog", "sqlite");
  for (const m of r.mailboxes) {
    const one = r.mailboxes.find((x) => x.instances === 1);
    const by = m.drainedBy
      .map(
        (d, i) =>
          `#${i + 1} ${
            Object.entries(d)
              .map(([k, v]) => `${k}:${v}`)
              .join(" ") || "-"
          }`,
      )
      .join(", ");
    rows.push([
      `mailboxes: two, ${m.instances} instance${m.instances > 1 ? "s" : ""}, backlog → acks sent`,
      "postgres",
      `${m.perSecond} mails/s`,
      "",
      wall(m.ms),
      "",
      `${m.mails} mails${one && m !== one ? `; ${(m.perSecond / one.perSecond).toFixed(2)} × one instance` : ""}; drained by ${by}`,
    ]);
  }
  for (const k of ["mailboxes-1", "mailboxes-2"]) err(k, "mailboxes", "postgres");

  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ");
  const m = r.machine;
  const x = r.mix;
  return [
    `Ticketpost benchmark of ${r.code ?? "(unknown commit)"}, ${r.startedAt}: N=${r.params.n}, seed ${r.params.seed}${r.params.quick ? ", quick" : ""}, batch ${r.params.batchSize}`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.os}, node ${m.node}, Dovecot ${m.dovecot ?? "?"}${m.postgres ? `, ${m.postgres}` : ""}; load average ${m.loadAvgBefore[0]} before the run (other work on the machine skews every figure)`,
    ...(x
      ? [
          `mix: ${x.mails} mails, ${mb(x.totalBytes).toFixed(1)} MB (avg ${(x.avgBytes / 1024).toFixed(1)} KB, max ${(x.maxBytes / 1024).toFixed(0)} KB): ${x.shapes.plain} plain, ${x.shapes.html} text+HTML, ${x.shapes["html-only"]} HTML only, ${x.shapes.quoted} quoting a conversation; ${x.withAttachment} with an attachment; ${x.german} German`,
        ]
      : []),
    "",
    line(rows[0]),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.slice(1).map(line),
    "",
    `took ${r.durationS} s in total (${Object.entries(r.phaseSeconds)
      .map(([k, v]) => `${k} ${v} s`)
      .join(", ")}; the rest is starting Dovecot and generating mail)`,
  ].join("\n");
}

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
