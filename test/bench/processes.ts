/*
 * The processes a benchmark phase talks to: the SMTP sink (a child process), IMAP set-up, the gateway's config file, `ticketpost start` as a real process.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ImapFlow } from "imapflow";
import { parseConfig } from "../../src/config/load.js";
import type { TicketpostConfig } from "../../src/config/schema.js";
import { type DovecotInstance } from "../harness/dovecot.js";
import { startSmtpSink } from "../harness/smtp-relay.js";
import { SUPPORT_ADDRESS } from "./mail-mix.js";
import { inReplyToOf, liveChildren, settlesWithin, sleep } from "./util.js";

export const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

// ---------------------------------------------------------------- the SMTP sink, in a process of its own

/**
 * The harness's SMTP sink, run in a child process: sending is then measured without the sink's
 * own work on the sender's thread (on a real system the SMTP server is elsewhere), and the
 * daemons get their acknowledgements accepted on the other core.
 */
export interface SinkHandle {
  host: string;
  port: number;
  /** Mails accepted so far. */
  readonly count: number;
  /** `at` is on this process's performance.now() clock. */
  onAccepted(listener: (mail: { inReplyTo: string | null; at: number }) => void): () => void;
  stop(): Promise<void>;
}

export type SinkMessage = { type: "ready"; host: string; port: number } | { type: "mail"; inReplyTo: string | null; epochMs: number };

export async function startSinkProcess(): Promise<SinkHandle> {
  const child = fork(fileURLToPath(new URL("./bench.js", import.meta.url)), ["--sink-child"], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
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
export async function sinkChild(): Promise<void> {
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
export class AckWatcher {
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

export function imapClient(dovecot: DovecotInstance, user: string): ImapFlow {
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
export async function appendMails(dovecot: DovecotInstance, user: string, raws: Buffer[], connections = 3): Promise<void> {
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

export interface GatewaySetup {
  dir: string;
  configPath: string;
  config: TicketpostConfig;
}

/** A config file as MailWorld writes it, with production defaults for schedule and outbox. */
export function gatewayConfig(
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
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TICKETPOST_")));
}

export function runCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ticketpost ${args[0]} exited ${code}: ${err.trim()}`))));
  });
}

/** `ticketpost start` as a real process; keeps the tail of its log for error messages. */
const TIMELINE = /"msg":"(IDLE: new mail announced|mail processed|notification sent)"/;

export class Daemon {
  private tail = "";
  private partial = "";
  private readonly processed: Record<string, number> = {};
  private readonly watchers: Array<{ re: RegExp; resolve: () => void }> = [];
  /** The log lines the latency breakdown reads (LOG_TIMELINE), parsed. */
  readonly timeline: Array<Record<string, unknown> & { msg: string; time: string }> = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stderr!.on("data", (d: Buffer) => {
      const text = this.partial + d.toString("utf8");
      const lines = text.split("\n");
      this.partial = lines.pop() ?? "";
      for (const line of lines) {
        const drained = /"msg":"mail processed".*"mailbox":"([^"]+)"/.exec(line);
        if (drained) this.processed[drained[1]] = (this.processed[drained[1]] ?? 0) + 1;
        if (TIMELINE.test(line)) this.timeline.push(JSON.parse(line) as (typeof this.timeline)[number]);
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
