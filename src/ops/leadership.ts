import { createHash } from "node:crypto";
import pg from "pg";
import type { Logger } from "../shared/logger.js";

/**
 * Several gateway processes on one PostgreSQL database: each mailbox is drained by exactly one
 * of them. A process holds a session-level advisory lock per mailbox it drains, all on one
 * connection of its own; when the process dies, the connection closes, PostgreSQL releases the
 * locks, and a standby, trying every few seconds, takes over. TCP keepalives on that connection
 * bound how long a vanished (not closed) holder keeps them: about the lease time.
 *
 * So that N instances drain N mailboxes in parallel instead of the first one taking all, every
 * process also holds a shared "present" lock; the number of its holders is the number of live
 * instances, and nobody leads more than its fair share (mailboxes / instances, rounded up). A
 * process over its share lets one mailbox go between two runs, never during one.
 *
 * Everything else (receipts, outbox claims, overdue claims) is safe with several processes
 * anyway; the locks only keep them from doing the same mailbox work twice.
 */
export interface Leadership {
  /** True while this process holds the mailbox's lock; tries to take it when not. */
  check(mailbox: string): Promise<boolean>;
  leads(mailbox: string): boolean;
  /** This process leads more mailboxes than its share: the caller should let one go at its next run. */
  overShare(mailbox: string): Promise<boolean>;
  /** The mailboxes this process drains now. */
  readonly led: string[];
  close(): Promise<void>;
}

/** With SQLite there is one process per database file: it leads every mailbox. */
export const soleLeader: Leadership = {
  check: async () => true,
  leads: () => true,
  overShare: async () => false,
  led: [],
  close: async () => {},
};

function lockKey(name: string): [number, number] {
  const d = createHash("sha256").update(name).digest();
  return [d.readInt32BE(0), d.readInt32BE(4)];
}

/** @param names mailbox id → lock name (server, login and folder: two configs on one mailbox share its lock). */
export function advisoryLeadership(url: string, names: Record<string, string>, leaseSeconds: number, logger: Logger): Leadership {
  const keys = new Map(Object.entries(names).map(([id, name]) => [id, lockKey(`ticketpost mailbox ${name}`)]));
  const [p1, p2] = lockKey("ticketpost instances present");
  const held = new Set<string>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;

  const drop = () => {
    if (held.size) logger.warn("mailbox leadership lost", { mailboxes: [...held] });
    held.clear();
    const c = client;
    client = null;
    c?.end().catch(() => undefined);
  };
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({
      connectionString: url,
      keepAlive: true,
      keepAliveInitialDelayMillis: Math.max(1000, (leaseSeconds * 1000) / 3),
    });
    c.on("error", drop);
    c.on("end", () => client === c && drop());
    await c.connect();
    // The server side too: a half-open connection is noticed within about the lease.
    const idle = Math.max(1, Math.floor(leaseSeconds / 3));
    await c.query(`SET tcp_keepalives_idle = ${idle}; SET tcp_keepalives_interval = ${idle}; SET tcp_keepalives_count = 3`);
    await c.query("SELECT pg_advisory_lock_shared($1, $2)", [p1, p2]);
    client = c;
    return c;
  };
  const conn = async (): Promise<pg.Client> => {
    if (client) return client;
    connecting ??= connect().finally(() => (connecting = null));
    return connecting;
  };
  const share = async (c: pg.Client): Promise<number> => {
    const r = await c.query(
      `SELECT COUNT(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ($1::int)::oid AND objid = ($2::int)::oid AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [p1, p2],
    );
    return Math.ceil(keys.size / Math.max(1, r.rows[0].n as number));
  };

  return {
    get led() {
      return [...held];
    },
    leads: (mailbox) => held.has(mailbox),
    async overShare(mailbox) {
      if (!held.has(mailbox) || !client) return false;
      try {
        return held.size > (await share(client));
      } catch {
        return false;
      }
    },
    async check(mailbox) {
      const key = keys.get(mailbox);
      if (!key) return false;
      try {
        const c = await conn();
        const fair = await share(c);
        if (held.has(mailbox)) {
          if (held.size <= fair) return true;
          // Forgotten before the await, so a second mailbox checked meanwhile stays.
          held.delete(mailbox);
          await c.query("SELECT pg_advisory_unlock($1, $2)", key);
          logger.info("mailbox handed over: another instance is free to drain it", { mailbox });
          return false;
        }
        if (held.size >= fair) return false;
        const r = await c.query("SELECT pg_try_advisory_lock($1, $2) AS ok", key);
        if (r.rows[0].ok !== true) return false;
        held.add(mailbox);
        logger.info("mailbox leadership taken: this instance polls the mailbox", { mailbox });
        return true;
      } catch (err) {
        logger.warn("mailbox leadership check failed", { error: (err as Error).message });
        drop();
        return false;
      }
    },
    async close() {
      const c = client;
      client = null;
      held.clear();
      await c?.end().catch(() => undefined);
    },
  };
}
