import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { ImapFlow } from "imapflow";
import type { ImapConfig } from "../config/schema.js";
import { TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { AccountLogins } from "../auth/logins.js";
import { fixFor } from "../auth/problems.js";
import type { MailPosition, RawMail } from "../tickets/pipeline.js";

/** The only module that imports imapflow. It hands out raw mails with their position and moves them when told. */

export interface FetchedMail {
  position: MailPosition;
  /** Small mails as bytes; big ones streamed to a file in the spool folder. */
  raw: RawMail;
}

export interface SpoolOptions {
  /** Where big mails are streamed to (inside the data directory, so a rename files them away). */
  dir: string;
  /** Mails above this size are streamed to disk instead of fetched into memory. */
  thresholdBytes: number;
  /** Mails above this size are not downloaded at all: only their header goes on (to answer the sender). */
  maxMessageBytes: number;
}

export interface MailSource {
  readonly mailbox: string;
  listUids(): Promise<number[]>;
  fetch(uids: number[]): Promise<FetchedMail[]>;
  move(uids: number[], folder: string): Promise<void>;
  close(): Promise<void>;
}

function imapError(err: unknown, what: string): TicketpostError {
  if (err instanceof TicketpostError) return err;
  const e = err as { authenticationFailed?: boolean; code?: string; responseText?: string; message?: string };
  if (e?.authenticationFailed)
    return new TicketpostError("EIMAP_AUTH", `IMAP login refused: ${e.responseText ?? e.message}`, { cause: err });
  if (e?.code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|NoConnection|EConnectionClosed)$/.test(e.code)) {
    return new TicketpostError("EIMAP_CONNECT", `${what}: ${e.code} ${e.message ?? ""}`.trim(), { cause: err });
  }
  return new TicketpostError("EIMAP", `${what}: ${e?.responseText ?? e?.message ?? String(err)}`, { cause: err });
}

type ImapOptions = Partial<ConstructorParameters<typeof ImapFlow>[0]>;

/**
 * Every IMAP connection of the gateway: the configured server, login and TLS verification,
 * connected. With OAuth2 a refused token (AUTHENTICATIONFAILED) is fetched anew and tried once
 * more; refused again, the token is good but does not open this mailbox (a permission).
 */
async function connectImap(cfg: ImapConfig & { key?: string }, logins: AccountLogins, extra: ImapOptions = {}): Promise<ImapFlow> {
  const key = cfg.key ?? "imap";
  for (let attempt = 1; ; attempt++) {
    const client = new ImapFlow({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      auth: await logins.credentials(cfg, key, attempt > 1),
      tls: { rejectUnauthorized: cfg.tls.rejectUnauthorized },
      logger: false,
      ...extra,
    });
    try {
      await client.connect();
      return client;
    } catch (err) {
      client.close();
      if (!(err as { authenticationFailed?: boolean }).authenticationFailed || !cfg.oauth2)
        throw imapError(err, `IMAP connect to ${cfg.host}:${cfg.port}`);
      if (attempt >= 2) {
        const e = err as { responseText?: string; message?: string };
        throw new TicketpostError(
          "EIMAP_AUTH",
          `IMAP server refused a fresh OAuth2 token for ${cfg.user}: ${e.responseText ?? e.message} → fix: ${fixFor("missing-permission", cfg.oauth2)}`,
          { cause: err },
        );
      }
    }
  }
}

export class ImapMailbox implements MailSource {
  private uidValidity = 0;
  private readonly idleEnabled: boolean;
  /** The folder drained. */
  readonly mailbox: string;
  /** What receipts name: the mailbox's configured id (the folder for the single imap block). */
  readonly id: string;

  private constructor(
    cfg: ImapConfig & { id?: string; key?: string },
    private readonly client: ImapFlow,
    private readonly logger: Logger,
    private readonly spool: SpoolOptions | null,
  ) {
    this.mailbox = cfg.mailbox;
    this.id = cfg.id ?? cfg.mailbox;
    this.idleEnabled = cfg.idle;
    // A recreated mailbox gets a new UIDVALIDITY; positions must carry the current one.
    this.client.on("mailboxOpen", (m: { path: string; uidValidity: bigint }) => {
      if (m.path === this.mailbox) this.uidValidity = Number(m.uidValidity);
    });
  }

  /** Connects, creates the Processed and Failed folders when missing, and selects the mailbox. */
  static async open(
    cfg: ImapConfig & { id?: string; key?: string },
    logger: Logger,
    spool: SpoolOptions | null = null,
    logins: AccountLogins = new AccountLogins(),
  ): Promise<ImapMailbox> {
    const client = await connectImap(cfg, logins, {
      // A new mail is announced while the connection idles, so it is handled within a second.
      disableAutoIdle: !cfg.idle,
      // imapflow waits 15 s after the last command before it idles; mail arriving in that window
      // would wait for the schedule. A short pause still keeps IDLE out of a busy batch.
      autoIdleDelay: 250,
    });
    const mb = new ImapMailbox(cfg, client, logger, spool);
    try {
      const existing = new Set((await mb.client.list()).map((f) => f.path));
      for (const folder of [cfg.processedFolder, cfg.failedFolder]) {
        if (!existing.has(folder)) {
          await mb.client.mailboxCreate(folder);
          logger.info("created IMAP folder", { folder });
        }
      }
      const opened = await mb.client.mailboxOpen(cfg.mailbox);
      mb.uidValidity = Number(opened.uidValidity);
    } catch (err) {
      await mb.close();
      throw imapError(err, `IMAP mailbox ${cfg.mailbox}`);
    }
    return mb;
  }

  get connected(): boolean {
    return this.client.usable;
  }

  /** Starts IDLE now rather than after imapflow's auto-IDLE pause (only when the connection idles at all: imap.idle). */
  idleNow(): void {
    if (!this.idleEnabled || !this.client.usable) return;
    this.client.idle({ whenFree: true }).catch((err: Error) => this.logger.debug("IDLE not started", { error: err.message }));
  }

  /** Asks the server for news (NOOP): a new mail shows up as an "exists" event. */
  async noop(): Promise<void> {
    try {
      await this.client.noop();
    } catch (err) {
      throw imapError(err, "IMAP NOOP");
    }
  }

  on(event: "exists" | "close" | "error", listener: (...args: unknown[]) => void): void {
    this.client.on(event, listener);
  }

  /** Every mail in the mailbox: processed mails leave it, so what is here is work (never "UNSEEN since today"). */
  async listUids(): Promise<number[]> {
    try {
      const uids = await this.client.search({ all: true }, { uid: true });
      return (uids || []).sort((a, b) => a - b);
    } catch (err) {
      throw imapError(err, "IMAP search");
    }
  }

  async fetch(uids: number[]): Promise<FetchedMail[]> {
    if (uids.length === 0) return [];
    try {
      const pos = (uid: number) => ({ mailbox: this.id, uidValidity: this.uidValidity, uid });
      let small = uids;
      const out: FetchedMail[] = [];
      if (this.spool) {
        const sizes = await this.client.fetchAll(uids.join(","), { uid: true, size: true }, { uid: true });
        const big = sizes.filter((m) => (m.size ?? 0) > this.spool!.thresholdBytes);
        small = sizes.filter((m) => !big.includes(m)).map((m) => m.uid);
        for (const m of big) out.push({ position: pos(m.uid), raw: await this.spoolOne(m.uid, m.size ?? 0) });
      }
      if (small.length) {
        const msgs = await this.client.fetchAll(small.join(","), { uid: true, source: true }, { uid: true });
        for (const m of msgs) if (m.source) out.push({ position: pos(m.uid), raw: m.source });
      }
      return out.sort((a, b) => a.position.uid - b.position.uid);
    } catch (err) {
      throw imapError(err, "IMAP fetch");
    }
  }

  /** Streams one big mail into the spool (or only its header, when it is over the size limit). */
  private async spoolOne(uid: number, size: number): Promise<RawMail> {
    const spool = this.spool!;
    await mkdir(spool.dir, { recursive: true });
    const file = path.join(spool.dir, `spool.${this.uidValidity}.${uid}.${randomBytes(4).toString("hex")}.eml`);
    if (size > spool.maxMessageBytes) {
      const head = await this.client.fetchOne(String(uid), { uid: true, headers: true }, { uid: true });
      await writeFile(file, head && head.headers ? head.headers : Buffer.alloc(0));
      return { file, size };
    }
    const dl = await this.client.download(String(uid), undefined, { uid: true });
    if (!dl.content) throw new TicketpostError("EIMAP", `IMAP download of uid ${uid} returned nothing`);
    await pipeline(dl.content, createWriteStream(file));
    return { file, size };
  }

  async move(uids: number[], folder: string): Promise<void> {
    if (uids.length === 0) return;
    try {
      await this.client.messageMove(uids.join(","), folder, { uid: true });
    } catch (err) {
      throw imapError(err, `IMAP move to ${folder}`);
    }
  }

  async close(): Promise<void> {
    try {
      if (this.client.usable) await this.client.logout();
    } catch (err) {
      this.logger.debug("IMAP logout failed", { error: (err as Error).message });
    } finally {
      this.client.close();
    }
  }
}

export interface MailboxProbe {
  ok: boolean;
  error: string | null;
  code: string | null;
  /** Messages per folder; null when the folder does not exist. */
  folders: Record<string, number | null>;
}

/** Logs in and counts the mails in the given folders, changing nothing (for status and check). */
export async function probeMailbox(
  cfg: ImapConfig & { id?: string; key?: string },
  folders: string[],
  logins: AccountLogins = new AccountLogins(),
): Promise<MailboxProbe> {
  let client: ImapFlow;
  try {
    client = await connectImap(cfg, logins, { connectionTimeout: 10_000 });
  } catch (err) {
    const e = err instanceof TicketpostError ? err : imapError(err, `IMAP connect to ${cfg.host}:${cfg.port}`);
    return { ok: false, error: e.message, code: e.code, folders: {} };
  }
  try {
    const existing = new Set((await client.list()).map((f) => f.path));
    const counts: Record<string, number | null> = {};
    for (const f of folders) {
      const st = existing.has(f) ? await client.status(f, { messages: true }) : false;
      counts[f] = st === false ? null : (st.messages ?? 0);
    }
    return { ok: true, error: null, code: null, folders: counts };
  } catch (err) {
    const e = imapError(err, "IMAP status");
    return { ok: false, error: e.message, code: e.code, folders: {} };
  } finally {
    await client.logout().catch(() => undefined);
    client.close();
  }
}

/** Moves mails, found by Message-ID, from the Failed folder to Processed (after a successful retry). */
export async function moveFromFailed(
  cfg: ImapConfig & { id?: string; key?: string },
  messageIds: string[],
  logins: AccountLogins = new AccountLogins(),
): Promise<number> {
  const client = await connectImap(cfg, logins);
  let moved = 0;
  try {
    const lock = await client.getMailboxLock(cfg.failedFolder);
    try {
      for (const id of messageIds) {
        const uids = await client.search({ header: { "message-id": id } }, { uid: true });
        if (uids && uids.length) {
          await client.messageMove(uids.join(","), cfg.processedFolder, { uid: true });
          moved += uids.length;
        }
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => undefined);
    client.close();
  }
  return moved;
}
