import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { DatabaseOptions } from "../../src/db/data-source.js";

/** The machine's PostgreSQL (trust auth); override with TICKETPOST_TEST_PG_URL. */
export const PG_ADMIN_URL = process.env.TICKETPOST_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export type Engine = "sqlite" | "postgres";
export const ENGINES: Engine[] = ["sqlite", "postgres"];

export interface TestDatabase {
  engine: Engine;
  options: DatabaseOptions;
  drop(): Promise<void>;
}

function urlWithDatabase(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database: a new SQLite file, or a new PostgreSQL database with a random name, dropped after. */
export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === "sqlite") {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tp-sqlite-"));
    return {
      engine,
      options: { url: null, sqlitePath: path.join(dir, "ticketpost.sqlite") },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `ticketpost_test_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    engine,
    options: { url: urlWithDatabase(PG_ADMIN_URL, name), sqlitePath: "/nonexistent" },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
