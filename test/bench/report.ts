/*
 * The report: the JSON shape (`--json`) and the table printed from it.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Engine } from "../helpers/databases.js";
import { type MixSummary } from "./mail-mix.js";
import { type Params, type Phase } from "./params.js";
import { type CpuUse, mb, secs } from "./util.js";
import { type EngineResult, type Throughput } from "./ingest.js";
import { type LatencyModes, type LatencyResult } from "./latency.js";
import { type MailboxesResult, type MemoryResult } from "./memory.js";

// ---------------------------------------------------------------- report

export interface Report {
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
    /** machineInfo's probe: a blob-store-like file (folder, temporary name, 30 KB, rename), CPU ms each. */
    fileCreate?: { cpuMsPerFile: number; kernelMsPerFile: number };
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
export function codeVersion(): string | null {
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

export function machineInfo(): Report["machine"] {
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
    fileCreate: fileCreateCost(),
  };
}

/**
 * What creating a small file costs on this machine, as the blob store does it (a fan-out folder,
 * a temporary name, write, rename): 200 files of 30 KB in a fresh folder, CPU ms per file, most
 * of it in the kernel. A mail costs one such file, plus one per attachment.
 */
function fileCreateCost(): { cpuMsPerFile: number; kernelMsPerFile: number } {
  const root = mkdtempSync(path.join(os.tmpdir(), "tp-bench-files-"));
  try {
    const bytes = Buffer.alloc(30 * 1024, 120);
    const before = process.cpuUsage();
    for (let i = 0; i < 200; i++) {
      const name = createHash("sha256").update(String(i)).digest("hex");
      const dir = path.join(root, name.slice(0, 2), name.slice(2, 4));
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${name}.tmp`), bytes);
      renameSync(path.join(dir, `${name}.tmp`), path.join(dir, name));
    }
    const used = process.cpuUsage(before);
    const ms = (us: number) => Math.round(us / 200 / 10) / 100;
    return { cpuMsPerFile: ms(used.user + used.system), kernelMsPerFile: ms(used.system) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Where a mode's latency went, p50 per step (latency.ts, breakdown). */
function steps(l: LatencyResult): string {
  const b = l.breakdown;
  if (!b) return "";
  return `; p50 by step: server notice ${b.notice} (${b.announced} of ${b.mails} announced), fetch ${b.fetch}, process+commit ${b.process}, outbox wake-up ${b.wake}, SMTP ${b.smtp} ms`;
}

export function table(r: Report): string {
  const rows: string[][] = [["figure", "engine", "result", "× bound", "wall", "CPU ms/mail: gateway/dovecot/pg", "notes"]];
  const bound = r.bound?.perSecond ?? 0;
  const ratio = (x: number) => (bound ? (x / bound).toFixed(2) : "");
  const wall = (ms: number) => `${secs(ms).toFixed(1)} s`;
  const cpu = (c: CpuUse, mails: number, pg: boolean) =>
    [c.selfMs, c.dovecotMs, ...(pg ? [c.dbMs] : [])].map((ms) => (mails ? ms / mails : 0).toFixed(2)).join(" / ") + (pg ? "" : " / -");
  const split = (t: Throughput) => {
    const m = t.splitMs as Record<string, number>;
    // In this thread only: the reading thread stores most blobs (big mails and mails read alone are stored here).
    const blobs = (m.put ?? 0) + (m.putStream ?? 0) + (m.putFile ?? 0);
    const processing = m.process + (m.processBatch ?? 0);
    const waited = m.readWait ?? 0;
    return (
      `IMAP ${wall(m.listUids + m.fetch + m.move)} (fetches overlap processing), processing ${wall(processing)} ` +
      `(waiting for the reading thread ${wall(waited)}, DB transactions ${wall(m.transaction)}, blob store in this thread ${wall(blobs)}, ` +
      `rest ${wall(processing - waited - m.transaction - blobs)})`
    );
  };
  const kernel = (t: Throughput) => `gateway CPU in the kernel ${(t.mails ? (t.cpu.selfKernelMs ?? 0) / t.mails : 0).toFixed(2)} ms/mail`;
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
    [
      "ingest: new mail → ticket, ack queued",
      "ingest",
      (t: Throughput) => `${t.outcomes}; ${t.queued} queued; ${kernel(t)}; ${split(t)}; ${t.sql}`,
    ],
    ["replies: threading into those tickets", "replies", (t: Throughput) => `${t.outcomes}; ${kernel(t)}; ${split(t)}; ${t.sql}`],
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
        `p95 ${l.p95}, p99 ${l.p99}, max ${l.max}, mean ${l.mean} ms; ${l.mails} mails: ${l.mode}; LMTP itself p50 ${l.lmtpP50} ms${steps(l)}`,
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
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.os}, node ${m.node}, Dovecot ${m.dovecot ?? "?"}${m.postgres ? `, ${m.postgres}` : ""}; load average ${m.loadAvgBefore[0]} before the run (other work on the machine skews every figure)${m.fileCreate ? `; creating a 30 KB file as the blob store does costs ${m.fileCreate.cpuMsPerFile} CPU-ms (${m.fileCreate.kernelMsPerFile} in the kernel)` : ""}`,
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
