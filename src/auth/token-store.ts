import { createHash } from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import { GatewaySetting } from "../db/entities.js";

/**
 * Where the refresh token of a refresh-token grant lives once the authorization server has
 * rotated it: the gateway_setting table (migration 0004), shared by every instance, so a restart
 * or another instance needs no new consent. The current access token is kept beside it, so that
 * instances share one token instead of each refreshing (with rotation, two instances refreshing
 * with the same refresh token would make the server see a replay and revoke the grant).
 */
export interface StoredGrant {
  /** SHA-256 of the refresh token the environment held when this was stored (see `seedOf`). */
  seed: string | null;
  refreshToken: string;
  accessToken: string | null;
  /** ms since epoch */
  expiresAt: number;
  updatedAt: string;
}

export interface GrantStore {
  /**
   * Runs `fn` with the stored grant while no other process runs it for the same key: a row lock
   * on PostgreSQL, SQLite's write lock otherwise. What `fn` returns (when not null) is stored.
   */
  exclusive<T>(key: string, fn: (current: StoredGrant | null) => Promise<{ store: StoredGrant | null; result: T }>): Promise<T>;
  read(key: string): Promise<StoredGrant | null>;
}

/** The environment's refresh token identified without keeping it: a new consent changes it. */
export function seedOf(refreshToken: string | null): string | null {
  return refreshToken ? createHash("sha256").update(refreshToken).digest("hex") : null;
}

/** gateway_setting keys are at most 64 characters. */
export function grantKey(parts: string[]): string {
  return `oauth2:${createHash("sha256").update(parts.join("\n")).digest("hex").slice(0, 48)}`;
}

function parse(value: string | undefined): StoredGrant | null {
  if (!value) return null;
  try {
    const v = JSON.parse(value) as StoredGrant;
    return typeof v.refreshToken === "string" ? v : null;
  } catch {
    return null;
  }
}

export function databaseGrantStore(db: DataSource): GrantStore {
  const postgres = db.options.type === "postgres";
  const lockedRead = async (em: EntityManager, key: string): Promise<StoredGrant | null> => {
    if (postgres) {
      // The row must exist to be locked; a concurrent insert of the same key loses harmlessly.
      await em.query(`INSERT INTO gateway_setting ("key", "value") VALUES ($1, '') ON CONFLICT ("key") DO NOTHING`, [key]);
      const rows: Array<{ value: string }> = await em.query(`SELECT "value" FROM gateway_setting WHERE "key" = $1 FOR UPDATE`, [key]);
      return parse(rows[0]?.value);
    }
    // A write first takes SQLite's write lock, so a second process waits here (busy_timeout).
    await em.query(`INSERT OR IGNORE INTO gateway_setting ("key", "value") VALUES (?, '')`, [key]);
    return parse((await em.findOne(GatewaySetting, { where: { key } }))?.value);
  };
  return {
    async exclusive(key, fn) {
      return db.transaction(async (em) => {
        const current = await lockedRead(em, key);
        const { store, result } = await fn(current);
        if (store) await em.update(GatewaySetting, { key }, { value: JSON.stringify(store) });
        return result;
      });
    },
    async read(key) {
      return parse((await db.getRepository(GatewaySetting).findOne({ where: { key } }))?.value);
    },
  };
}

/** For one-shot use without a database (a token source that stores nothing). */
export function memoryGrantStore(): GrantStore {
  const map = new Map<string, StoredGrant>();
  let chain: Promise<unknown> = Promise.resolve();
  return {
    exclusive(key, fn) {
      const run = chain.then(async () => {
        const { store, result } = await fn(map.get(key) ?? null);
        if (store) map.set(key, store);
        return result;
      });
      chain = run.catch(() => undefined);
      return run;
    },
    async read(key) {
      return map.get(key) ?? null;
    },
  };
}
