import { createHash } from "node:crypto";
import pg from "pg";
import type { Logger } from "../shared/logger.js";

/**
 * Several gateway processes on one PostgreSQL database: exactly one of them drains the mailbox.
 * It holds a session-level advisory lock on a connection of its own; when the process dies, its
 * connection closes and PostgreSQL releases the lock, and a standby, trying every few seconds,
 * takes over. TCP keepalives on that connection bound how long a vanished (not closed) holder
 * keeps the lock: about the lease time. Everything else (receipts, outbox claims, overdue
 * claims) is safe with several processes anyway; the lock only keeps them from doing the same
 * mailbox work twice.
 */
export interface Leadership {
  /** True while this process holds the lock; tries to take it when not. */
  check(): Promise<boolean>;
  readonly leader: boolean;
  close(): Promise<void>;
}

/** With SQLite there is one process per database file: it always leads. */
export const soleLeader: Leadership = { check: async () => true, leader: true, close: async () => {} };

function lockKey(name: string): [number, number] {
  const d = createHash("sha256").update(name).digest();
  return [d.readInt32BE(0), d.readInt32BE(4)];
}

export function advisoryLeadership(url: string, name: string, leaseSeconds: number, logger: Logger): Leadership {
  const [k1, k2] = lockKey(`ticketpost mailbox ${name}`);
  let client: pg.Client | null = null;
  let leader = false;
  const drop = () => {
    if (leader) logger.warn("mailbox leadership lost", { mailbox: name });
    leader = false;
    const c = client;
    client = null;
    c?.end().catch(() => undefined);
  };
  return {
    get leader() {
      return leader;
    },
    async check() {
      try {
        if (!client) {
          const c = new pg.Client({ connectionString: url, keepAlive: true, keepAliveInitialDelayMillis: Math.max(1000, (leaseSeconds * 1000) / 3) });
          c.on("error", drop);
          c.on("end", drop);
          await c.connect();
          // The server side too: a half-open connection is noticed within about the lease.
          const idle = Math.max(1, Math.floor(leaseSeconds / 3));
          await c.query(`SET tcp_keepalives_idle = ${idle}; SET tcp_keepalives_interval = ${idle}; SET tcp_keepalives_count = 3`);
          client = c;
        }
        if (leader) {
          await client.query("SELECT 1");
          return true;
        }
        const r = await client.query("SELECT pg_try_advisory_lock($1, $2) AS ok", [k1, k2]);
        leader = r.rows[0].ok === true;
        if (leader) logger.info("mailbox leadership taken: this instance polls the mailbox", { mailbox: name });
        return leader;
      } catch (err) {
        logger.warn("mailbox leadership check failed", { error: (err as Error).message });
        drop();
        return false;
      }
    },
    async close() {
      const c = client;
      client = null;
      leader = false;
      await c?.end().catch(() => undefined);
    },
  };
}
