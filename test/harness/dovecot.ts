import { spawn } from "node:child_process";
import { accessSync, existsSync, constants as fsConstants, readdirSync, readFileSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "./ports.js";

export interface DovecotOptions {
  /** Full addresses, e.g. "support@example.test"; each becomes an IMAP login and an LMTP recipient. */
  users: string[];
  /** Shared by all users. Defaults to "secret". */
  password?: string;
  /**
   * OAuth2 (Dovecot's oauth2 passdb): SASL XOAUTH2 and OAUTHBEARER tokens are checked by RFC 7662
   * introspection at this URL (credentials in it); `tokenOnly` users may log in with a token only,
   * their passwords are refused.
   */
  oauth2?: { introspectionUrl: string; scope: string; tokenOnly: string[] };
}

export interface DovecotInstance {
  imapPort: number;
  lmtpPort: number;
  host: "127.0.0.1";
  password: string;
  /** Temp dir holding config, runtime files and mail; removed by stop(). */
  dir: string;
  /** Dovecot's own log; read it when a test fails in a puzzling way (gone after stop()). */
  logPath: string;
  /** Pid of the dovecot master process. */
  pid: number;
  /** The master and every live process below it (imap, lmtp, auth, ...). */
  processIds(): number[];
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const DEFAULT_PASSWORD = "secret";
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;
/** dovecot's exit code for fatal startup errors such as a listener that cannot bind. */
const EX_CONFIG_OR_BIND = 89;

/** Non-root users often lack /usr/sbin in PATH although Debian installs dovecot there. */
const EXTRA_SBIN_DIRS = ["/usr/sbin", "/usr/local/sbin", "/sbin"];

function findDovecotBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter).filter(Boolean), ...EXTRA_SBIN_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, "dovecot");
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function dovecotAvailable(): boolean {
  return findDovecotBinary() !== undefined;
}

/**
 * Starts a private Dovecot (IMAP + LMTP on 127.0.0.1, plaintext auth, Maildir)
 * that shares nothing with a system-wide Dovecot. Needs root: Dovecot drops
 * privileges to its own users and delivers mail as uid nobody.
 */
export async function startDovecot(opts: DovecotOptions): Promise<DovecotInstance> {
  const binary = findDovecotBinary();
  if (binary === undefined) {
    throw new Error("dovecot binary not found; install it with: apt-get update && apt-get install -y dovecot-imapd dovecot-lmtpd");
  }
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error("startDovecot must run as root (Dovecot switches to its own users and to uid nobody)");
  }
  const users = normalizeUsers(opts.users);
  const password = opts.password ?? DEFAULT_PASSWORD;
  if (/[\s:]/.test(password)) {
    throw new Error("password must not contain whitespace or ':' (passwd-file format)");
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), "ticketpost-dovecot-"));
  try {
    // mkdtemp creates 0700, but the dovecot/dovenull/nobody users must be able to traverse it.
    await chmod(dir, 0o755);
    const mailDir = path.join(dir, "mail");
    await mkdir(mailDir);
    const { uid: nobodyUid, gid: nogroupGid } = lookupNobody();
    await chown(mailDir, nobodyUid, nogroupGid);
    await writeFile(path.join(dir, "users"), users.map((user) => `${user}:{PLAIN}${password}::::::\n`).join(""), { mode: 0o644 });
    if (opts.oauth2) {
      await writeFile(
        path.join(dir, "token-only-users"),
        normalizeUsers(opts.oauth2.tokenOnly)
          .map((u) => `${u}:::::::\n`)
          .join(""),
        { mode: 0o644 },
      );
      // Dovecot's auth process reads it as user dovecot; the introspection URL holds a client secret.
      await writeFile(path.join(dir, "dovecot-oauth2.conf.ext"), renderOAuth2(opts.oauth2), { mode: 0o644 });
    }

    let lastError: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      try {
        return await startOnce(binary, dir, password, opts.oauth2);
      } catch (err) {
        lastError = err;
        // freePort() releases the port before dovecot binds it, so a parallel process may win the race.
        if (!(err instanceof PortInUseError)) break;
      }
    }
    throw lastError;
  } catch (err) {
    // Keep the startup error visible even if cleanup fails too.
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

class PortInUseError extends Error {}

async function startOnce(binary: string, dir: string, password: string, oauth2?: DovecotOptions["oauth2"]): Promise<DovecotInstance> {
  const imapPort = await freePort();
  let lmtpPort = await freePort();
  while (lmtpPort === imapPort) lmtpPort = await freePort();

  const confPath = path.join(dir, "dovecot.conf");
  const baseDir = path.join(dir, "run");
  const logPath = path.join(dir, "dovecot.log");
  const startupLogPath = path.join(dir, "startup.log");
  await writeFile(confPath, renderConfig({ dir, baseDir, logPath, imapPort, lmtpPort, oauth2: !!oauth2 }));

  // A file rather than a pipe: the daemonized master inherits stdout/stderr, and
  // a pipe would stay open until dovecot stops. The file keeps config errors,
  // which dovecot prints before its log is set up.
  const startupLog = await open(startupLogPath, "w");
  const startedAt = Date.now();
  let exitCode: number | null;
  try {
    exitCode = await new Promise<number | null>((resolve, reject) => {
      // Own process group: a Ctrl-C or timeout aimed at the test runner must not hit
      // dovecot between its fork and its exit, which would orphan a half-started daemon.
      const child = spawn(binary, ["-c", confPath], {
        stdio: ["ignore", startupLog.fd, startupLog.fd],
        detached: true,
      });
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve(signal ? -1 : code));
    });
  } finally {
    await startupLog.close();
  }
  if (exitCode !== 0) {
    const details = await diagnostics(startupLogPath, logPath);
    for (const master of findMasters(confPath)) await stopMaster(master);
    if (exitCode === EX_CONFIG_OR_BIND && /Address already in use/.test(details)) {
      throw new PortInUseError(`dovecot could not bind its ports:\n${details}`);
    }
    throw new Error(`dovecot exited with code ${exitCode} while starting:\n${details}`);
  }

  const deadline = startedAt + READY_TIMEOUT_MS;
  let pid: number | undefined;
  try {
    pid = await waitForMasterPid(path.join(baseDir, "master.pid"), deadline);
    live.add(pid);
    await waitForGreeting(imapPort, "* OK", deadline);
    await waitForGreeting(lmtpPort, "220 ", deadline);
  } catch (err) {
    const details = await diagnostics(startupLogPath, logPath);
    // Without a pid file the master can still be running; its command line names our config.
    for (const master of pid !== undefined ? [pid] : findMasters(confPath)) await stopMaster(master);
    throw new Error(`dovecot did not become ready within ${READY_TIMEOUT_MS} ms (${(err as Error).message}):\n${details}`, { cause: err });
  }
  const watchdog = startWatchdog(pid, confPath, dir);
  return makeInstance({ dir, confPath, logPath, imapPort, lmtpPort, password, pid, watchdog });
}

const WATCHDOG_SCRIPT = `
owner=$1 master=$2 conf=$3 dir=$4
alive() { s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1); [ -n "$s" ] && [ "$s" != Z ]; }
while alive "$owner"; do sleep 1; done
if tr '\\0' '\\n' < "/proc/$master/cmdline" 2>/dev/null | grep -qxF -- "$conf"; then
  kill "$master"
  i=0; while alive "$master" && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done
fi
rm -rf -- "$dir"
`;

/**
 * A test process that dies by a signal (timeout, Ctrl-C, OOM) runs no exit
 * hooks, and the daemonized master would keep running as root with its ports.
 * A detached shell outlives us, stops that master and removes the temp dir.
 * It checks the master's command line first so that a recycled pid is never
 * killed. Needs /proc; elsewhere only the exit hook below protects.
 */
function startWatchdog(master: number, confPath: string, dir: string): number | undefined {
  if (!existsSync("/proc/self/stat")) return undefined;
  const child = spawn("sh", ["-c", WATCHDOG_SCRIPT, "ticketpost-dovecot-watchdog", String(process.pid), String(master), confPath, dir], {
    detached: true,
    stdio: "ignore",
  });
  child.unref();
  return child.pid;
}

/**
 * The process we spawned exits as soon as it has forked the daemon, and only
 * the daemon writes master.pid, so the file shows up a moment later.
 */
async function waitForMasterPid(pidPath: string, deadline: number): Promise<number> {
  for (;;) {
    const text = await readFile(pidPath, "utf8").catch(() => "");
    // An empty or partial file is the daemon caught mid-write.
    if (text.endsWith("\n")) {
      const pid = Number.parseInt(text, 10);
      if (Number.isInteger(pid) && pid > 0) return pid;
    }
    if (Date.now() > deadline) throw new Error(`no pid in ${pidPath}`);
    await sleep(5);
  }
}

/** Dovecot masters started with this config file, found through /proc. */
function findMasters(confPath: string): number[] {
  const masters: number[] = [];
  for (const pid of listPids()) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (argv.includes(confPath) && isProcessAlive(pid)) masters.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return masters;
}

function makeInstance(p: {
  dir: string;
  confPath: string;
  logPath: string;
  imapPort: number;
  lmtpPort: number;
  password: string;
  pid: number;
  watchdog: number | undefined;
}): DovecotInstance {
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (p.watchdog !== undefined) signal(p.watchdog, "SIGTERM");
    // Also looked up by config path, so a wrong pid in master.pid can never leave the daemon running.
    for (const master of new Set([p.pid, ...findMasters(p.confPath)])) await stopMaster(master);
    await rm(p.dir, { recursive: true, force: true });
  };
  return {
    imapPort: p.imapPort,
    lmtpPort: p.lmtpPort,
    host: HOST,
    password: p.password,
    dir: p.dir,
    logPath: p.logPath,
    pid: p.pid,
    processIds: () => processTree(p.pid),
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

async function stopMaster(pid: number): Promise<void> {
  // Children are collected first: once the master is gone they are reparented
  // to init and can no longer be found through it.
  const pids = processTree(pid);
  if (pids.length > 0) {
    signal(pid, "SIGTERM");
    if (!(await waitUntilGone(pids, STOP_TIMEOUT_MS))) {
      for (const p of pids) signal(p, "SIGKILL");
      if (!(await waitUntilGone(pids, 2_000))) {
        throw new Error(`dovecot processes still alive after SIGKILL: ${pids.filter(isProcessAlive).join(", ")}`);
      }
    }
  }
  live.delete(pid);
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isProcessAlive)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/**
 * True while the process exists and is not a zombie. The daemonized master is
 * a child of init, which on some container inits reaps late, and kill(pid, 0)
 * succeeds on zombies.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  const stat = readProcStat(pid);
  return stat === undefined || stat.state !== "Z";
}

interface ProcStat {
  state: string;
  ppid: number;
}

function readProcStat(pid: number): ProcStat | undefined {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself contain spaces or ')'.
  const fields = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", ppid: Number(fields[1]) };
}

/** The live process and its live descendants, found through /proc (Linux only; elsewhere just the root). */
function processTree(root: number): number[] {
  if (!isProcessAlive(root)) return [];
  const pids = listPids();
  if (pids.length === 0) return [root];
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const stat = readProcStat(pid);
    if (stat === undefined || stat.state === "Z") continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(pid);
    children.set(stat.ppid, siblings);
  }
  const result: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    result.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return result;
}

/** All pids in /proc; empty where there is no /proc. */
function listPids(): number[] {
  try {
    return readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/** Masters not stopped yet. A run that ends without stop() (mocha --exit) terminates them at once; the watchdog would only notice a second later. */
const live = new Set<number>();
process.on("exit", () => {
  for (const pid of live) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
});

function waitForGreeting(port: number, prefix: string, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError = "no attempt made";
    const attempt = (): void => {
      if (Date.now() > deadline) {
        reject(new Error(`port ${port}: ${lastError}`));
        return;
      }
      const socket = net.connect({ host: HOST, port });
      let buffer = "";
      let settled = false;
      const retry = (reason: string): void => {
        if (settled) return;
        settled = true;
        lastError = reason;
        socket.destroy();
        setTimeout(attempt, 50);
      };
      socket.setTimeout(Math.max(100, deadline - Date.now()), () => retry("no greeting"));
      socket.on("error", (err) => retry(err.message));
      socket.on("close", () => retry(`closed before greeting (got ${JSON.stringify(buffer)})`));
      socket.on("data", (chunk) => {
        buffer += chunk.toString("latin1");
        if (!buffer.includes("\r\n")) return;
        if (!buffer.startsWith(prefix)) {
          retry(`unexpected greeting ${JSON.stringify(buffer.trim())}`);
          return;
        }
        settled = true;
        // Dovecot logs a disconnect without a LOGOUT as noise, so say goodbye properly.
        socket.end(prefix === "* OK" ? "a LOGOUT\r\n" : "QUIT\r\n");
        resolve();
      });
    };
    attempt();
  });
}

async function diagnostics(startupLogPath: string, logPath: string): Promise<string> {
  const parts: string[] = [];
  for (const [label, file] of [
    ["startup output", startupLogPath],
    ["dovecot log", logPath],
  ] as const) {
    const text = await readFile(file, "utf8").catch(() => "");
    if (text.trim() !== "") parts.push(`--- ${label} (${file}) ---\n${tail(text, 40)}`);
  }
  return parts.length > 0 ? parts.join("\n") : "(dovecot wrote no output)";
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function normalizeUsers(users: string[]): string[] {
  if (users.length === 0) throw new Error("startDovecot needs at least one user");
  // auth_username_format = %Lu lowercases logins before the passwd-file lookup,
  // so the file must hold lowercase names for mixed-case addresses to log in.
  const normalized = users.map((user) => user.trim().toLowerCase());
  for (const user of normalized) {
    if (!/^[^\s:@]+@[^\s:@]+$/.test(user)) {
      throw new Error(`not a plain mail address usable as a Dovecot user: ${JSON.stringify(user)}`);
    }
  }
  return [...new Set(normalized)];
}

function lookupNobody(): { uid: number; gid: number } {
  // uid/gid 65534 is the Debian default; /etc/passwd and /etc/group are consulted in case a distro differs.
  const find = (file: string, name: string, field: number): number | undefined => {
    try {
      const line = readFileSync(file, "utf8")
        .split("\n")
        .find((l) => l.startsWith(`${name}:`));
      const value = line?.split(":")[field];
      return value === undefined ? undefined : Number(value);
    } catch {
      return undefined;
    }
  };
  return {
    uid: find("/etc/passwd", "nobody", 2) ?? 65534,
    gid: find("/etc/group", "nogroup", 2) ?? 65534,
  };
}

function renderOAuth2(o: NonNullable<DovecotOptions["oauth2"]>): string {
  return `# Generated by test/harness/dovecot.ts: tokens are checked by RFC 7662 introspection.
introspection_mode = post
introspection_url = ${o.introspectionUrl}
force_introspection = yes
username_attribute = username
username_format = %Lu
active_attribute = active
active_value = true
# Debian's build wants every scope listed here in the token: one.
scope = ${o.scope}
`;
}

function renderOAuth2Passdbs(dir: string): string {
  return `auth_mechanisms = plain login xoauth2 oauthbearer
# Dovecot delays every login from an address after a failed one (its auth penalty, up to 15 s):
# longer than the test's tokens live, so a token would expire in the wait. Without the anvil
# socket the penalty is off (Dovecot's documented way).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
# Users listed here log in with a token only: a password for them is refused outright.
passdb {
  driver = passwd-file
  args = ${path.join(dir, "token-only-users")}
  deny = yes
  mechanisms = plain login
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${path.join(dir, "dovecot-oauth2.conf.ext")}
}
`;
}

function renderConfig(p: { dir: string; baseDir: string; logPath: string; imapPort: number; lmtpPort: number; oauth2: boolean }): string {
  return `# Generated by test/harness/dovecot.ts; self-contained, nothing from /etc/dovecot is included.
base_dir = ${p.baseDir}
state_dir = ${path.join(p.dir, "state")}
instance_name = ticketpost-test
log_path = ${p.logPath}
info_log_path = ${p.logPath}

protocols = imap lmtp
listen = ${HOST}
ssl = no
disable_plaintext_auth = no
${p.oauth2 ? renderOAuth2Passdbs(p.dir) : "auth_mechanisms = plain login\n"}# Logins and LMTP recipients are full addresses, lowercased, never stripped to the local part.
auth_username_format = %Lu

default_internal_user = dovecot
default_login_user = dovenull
# uid nobody (65534) must be accepted as a mail user; 0 means no upper limit.
first_valid_uid = 1
last_valid_uid = 0
first_valid_gid = 1
last_valid_gid = 0

passdb {
  driver = passwd-file
  args = ${path.join(p.dir, "users")}
}
# A static userdb still asks the passdb whether a user exists, so LMTP rejects unknown recipients.
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${path.join(p.dir, "mail")}/%u
}

mail_location = maildir:~/Maildir
# Throwaway mailboxes: durability is not worth the fsync latency.
mail_fsync = never

# Plus-addressing (support+123@...) delivers to the base user's INBOX, like a typical provider.
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no

service imap-login {
  inet_listener imap {
    address = ${HOST}
    port = ${p.imapPort}
  }
  # Port 0 disables the listener; otherwise it tries 993 and collides with other instances.
  inet_listener imaps {
    port = 0
  }
}

service lmtp {
  inet_listener lmtp {
    address = ${HOST}
    port = ${p.lmtpPort}
  }
  unix_listener lmtp {
    mode = 0666
  }
}
`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
