import { createHash } from "node:crypto";
import { rm, stat, writeFile } from "node:fs/promises";
import type { DataSource } from "typeorm";
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
   * Runs `fn` with the stored grant while nothing else runs it for the same key: in this process
   * one after the other; between processes a row lock on PostgreSQL, a lock file with SQLite.
   * What `fn` returns (when not null) is stored.
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

const chains = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call with the same key in this process has finished. */
function serially<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (chains.get(key) ?? Promise.resolve()).then(fn);
  chains.set(
    key,
    run.catch(() => undefined),
  );
  return run;
}

/**
 * Between processes on one SQLite file (the daemon and `check`, say): a lock file beside the
 * database, made with O_EXCL. Not a transaction: better-sqlite3 has one connection per process,
 * which the mail pipeline's transactions use, and waits for a lock synchronously.
 */
async function withLockFile<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await writeFile(file, String(process.pid), { flag: "wx" });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // A holder killed mid-refresh leaves its file: a minute is far longer than one token request.
      const age = await stat(file).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 60_000) await rm(file, { force: true });
      else if (Date.now() > deadline) throw new Error(`${file} is held by another process`, { cause: err });
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(file, { force: true });
  }
}

export function databaseGrantStore(db: DataSource): GrantStore {
  const postgres = db.options.type === "postgres";
  const read = async (key: string) => parse((await db.getRepository(GatewaySetting).findOne({ where: { key } }))?.value);
  if (!postgres) {
    const lockFile = `${String(db.options.database)}.oauth2.lock`;
    return {
      read,
      exclusive: (key, fn) =>
        serially(key, () =>
          withLockFile(lockFile, async () => {
            const { store, result } = await fn(await read(key));
            if (store) await db.getRepository(GatewaySetting).upsert({ key, value: JSON.stringify(store) }, ["key"]);
            return result;
          }),
        ),
    };
  }
  return {
    read,
    // A row lock: the row must exist to be locked; a concurrent insert of the same key loses harmlessly.
    exclusive: (key, fn) =>
      serially(key, () =>
        db.transaction(async (em) => {
          await em.query(`INSERT INTO gateway_setting ("key", "value") VALUES ($1, '') ON CONFLICT ("key") DO NOTHING`, [key]);
          const rows: Array<{ value: string }> = await em.query(`SELECT "value" FROM gateway_setting WHERE "key" = $1 FOR UPDATE`, [key]);
          const { store, result } = await fn(parse(rows[0]?.value));
          if (store) await em.update(GatewaySetting, { key }, { value: JSON.stringify(store) });
          return result;
        }),
      ),
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
