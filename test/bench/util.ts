/*
 * Small helpers of the benchmark: clean-up on exit, timing, percentiles, CPU and memory of processes.
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { DataSource } from "typeorm";
import { type DovecotInstance } from "../harness/dovecot.js";

/** What to undo at the end, newest first; each runs once, whether the run ends, fails or is interrupted. */
export const cleanups: Array<() => Promise<unknown> | unknown> = [];

/** Registers an undo step; the returned function runs it now (and removes it). */
export function atCleanup(fn: () => Promise<unknown> | unknown): () => Promise<void> {
  cleanups.push(fn);
  return async () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
    await fn();
  };
}

export let cleaning: Promise<void> | null = null;

/** Single-flight: the end of main and a signal handler may both ask; both wait for the same run. */
export function runCleanups(): Promise<void> {
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
export const liveChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of liveChildren) c.kill("SIGKILL");
});

// ---------------------------------------------------------------- small helpers

export const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
export const secs = (ms: number) => ms / 1000;
export const rate = (count: number, ms: number) => (ms > 0 ? count / secs(ms) : 0);
export const mb = (bytes: number) => bytes / 1024 / 1024;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when the promise settled within ms; the timer does not outlive the race. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
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

export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done() && Date.now() < until) await sleep(10);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** VmRSS and VmHWM of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) each process used so far. */
export function cpuMsByPid(pids: number[]): Map<number, number> {
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

export interface CpuUse {
  /** This process: the gateway code when measured in-process (every thread: the reading thread and libuv's pool too). */
  selfMs: number;
  /** The part of selfMs spent in the kernel (system calls: files, sockets). */
  selfKernelMs: number;
  /** Every Dovecot process alive at the end (a session that ended meanwhile is missed). */
  dovecotMs: number;
  /** The PostgreSQL backends serving the gateway's database (0 for SQLite, which runs in-process). */
  dbMs: number;
}

export async function withCpu<T>(
  dovecot: DovecotInstance,
  db: DataSource | null,
  fn: () => Promise<T>,
): Promise<{ result: T; cpu: CpuUse }> {
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
    selfKernelMs: Math.round(self.system / 1000),
    dovecotMs: Math.round(delta(dove0, dove1)),
    dbMs: Math.round(delta(db0, db1)),
  };
  return { result, cpu };
}

/** Backend pids of the gateway's PostgreSQL connections, when the server runs on this machine. */
export async function postgresPids(db: DataSource): Promise<number[]> {
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

export function inReplyToOf(raw: Buffer): string | null {
  const end = raw.indexOf("\r\n\r\n");
  const head = raw
    .subarray(0, end < 0 ? raw.length : end)
    .toString("latin1")
    .replace(/\r\n[ \t]+/g, " ");
  return /^in-reply-to:\s*<([^>\s]+)>/im.exec(head)?.[1] ?? null;
}
