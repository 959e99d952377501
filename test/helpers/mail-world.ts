import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import Database from "better-sqlite3";
import pg from "pg";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { dovecotAvailable, startDovecot, type DovecotInstance, type DovecotOptions } from "../harness/dovecot.js";
import { MailUser } from "../harness/mail-user.js";
import { startSmtpRelay, type SmtpRelay, type SmtpRelayOptions } from "../harness/smtp-relay.js";
import { createTestDatabase, type Engine, type TestDatabase } from "./databases.js";

export const CLI = path.resolve("dist/src/cli/main.js");
export const SUPPORT = "support@example.test";
/** The test relay plays the organisation's border server; the gateway trusts its verdicts. */
export const AUTHSERV_ID = "relay.example.test";

/** Skips the suite with a message when Dovecot is missing; in CI that is a failure instead. */
export function requireDovecot(ctx: Mocha.Context): void {
  if (dovecotAvailable()) return;
  const msg = "dovecot is not installed (apt-get install -y dovecot-imapd dovecot-lmtpd); end-to-end tests need it";
  if (process.env.CI) throw new Error(msg);
  console.warn(`    skipped: ${msg}`);
  ctx.skip();
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `ticketpost` process to the end; `input` goes to its standard input. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/**
 * One private mail world: Dovecot with a mailbox per person, the SMTP relay, a data folder and a
 * gateway config file pointing at them. The gateway itself runs as a real process.
 */
export class MailWorld {
  readonly dir: string;
  readonly configPath: string;
  private daemons: ChildProcess[] = [];

  private constructor(
    readonly dovecot: DovecotInstance,
    readonly relay: SmtpRelay,
    readonly database: TestDatabase | null,
    extraConfig: Record<string, unknown>,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "tp-world-"));
    this.configPath = path.join(this.dir, "ticketpost.json");
    const config = {
      name: "ACME Support",
      supportAddress: SUPPORT,
      messageIdDomain: "tickets.example.test",
      dataDir: path.join(this.dir, "data"),
      ...(database ? { database: { url: database.options.url } } : {}),
      imap: {
        host: dovecot.host,
        port: dovecot.imapPort,
        secure: false,
        user: SUPPORT,
        password: dovecot.password,
        schedule: "*/10 * * * * *",
      },
      smtp: { host: relay.host, port: relay.port, secure: false },
      outbox: { intervalMs: 500, backoffBaseMs: 500, backoffMaxMs: 5000, claimMs: 2000 },
      agentAuth: { mode: "authentication-results", trustedAuthservIds: [AUTHSERV_ID] },
      ...extraConfig,
    };
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  /** engine "postgres" gives the gateway its own fresh PostgreSQL database; default is SQLite in the data folder. */
  static async start(
    people: string[],
    extraConfig: Record<string, unknown> = {},
    engine: Engine = "sqlite",
    aliases: Record<string, string> = {},
    servers: { dovecot?: Partial<DovecotOptions>; relay?: Partial<SmtpRelayOptions> } = {},
  ): Promise<MailWorld> {
    // A password no log line could contain by accident, so tests can check it never appears.
    const dovecot = await startDovecot({
      users: [SUPPORT, ...people],
      password: `pw-${randomBytes(8).toString("hex")}`,
      ...servers.dovecot,
    });
    const relay = await startSmtpRelay({
      lmtpHost: dovecot.host,
      lmtpPort: dovecot.lmtpPort,
      aliases,
      authservId: AUTHSERV_ID,
      ...servers.relay,
    });
    const database = engine === "postgres" ? await createTestDatabase("postgres") : null;
    return new MailWorld(dovecot, relay, database, extraConfig);
  }

  /** Changes the gateway's config file (the next CLI run or daemon reads it). */
  updateConfig(change: (config: Record<string, any>) => void): Record<string, any> {
    const config = JSON.parse(readFileSync(this.configPath, "utf8"));
    change(config);
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
    return config;
  }

  user(address: string, name?: string, opts: { authenticate?: boolean } = {}): MailUser {
    return MailUser.create({ dovecot: this.dovecot, relay: this.relay, address, name, authenticate: opts.authenticate });
  }

  /** Runs `ticketpost ARGS --config <world>` to the end. */
  cli(args: string[], env: NodeJS.ProcessEnv = {}, input?: string | Buffer): Promise<CliResult> {
    return runCli([...args, "--config", this.configPath], { env, input });
  }

  async json<T = unknown>(args: string[]): Promise<T> {
    const r = await this.cli([...args, "--json"]);
    if (r.code !== 0) throw new Error(`ticketpost ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  /** `ticketpost poll-once --json`; a run that does not exit 0 fails the test with its stderr. */
  async pollOnce(): Promise<{
    mails: number;
    byOutcome: Record<string, number>;
    failed: number;
    outbox: { sent: number; deferred: number; failed: number };
  }> {
    return this.json(["poll-once"]);
  }

  /** Starts `ticketpost start` in the background; its log lines are collected. */
  startDaemon(env: NodeJS.ProcessEnv = {}): { child: ChildProcess; log: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [CLI, "start", "--config", this.configPath], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    child.stderr!.on("data", (d) => (log += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? -1 : null))));
    this.daemons.push(child);
    return { child, log: () => log, exited };
  }

  /** Ends every session of an IMAP user on the server, as a server restart or a network cut would. */
  kickImapUser(address: string): void {
    execFileSync("doveadm", ["-c", path.join(this.dovecot.dir, "dovecot.conf"), "kick", address], { stdio: "ignore" });
  }

  /** Number of tickets, read straight from the gateway's database (SQLite file or PostgreSQL). */
  async ticketCount(): Promise<number> {
    if (this.database) {
      const client = new pg.Client({ connectionString: this.database.options.url! });
      await client.connect();
      try {
        return Number((await client.query("SELECT COUNT(*) AS n FROM ticket")).rows[0].n);
      } finally {
        await client.end();
      }
    }
    const db = new Database(path.join(this.dir, "data", "ticketpost.sqlite"), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT COUNT(*) AS n FROM ticket").get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  async stop(): Promise<void> {
    for (const d of this.daemons) if (d.exitCode === null && d.signalCode === null) d.kill("SIGKILL");
    await this.relay.stop();
    await this.dovecot.stop();
    await this.database?.drop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
