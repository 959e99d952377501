import type { DataSource } from "typeorm";
import type { TicketpostConfig } from "../config/schema.js";
import { openDatabase } from "../db/data-source.js";
import { closeDb } from "./gateway.js";

/** Opens the database for one read, runs `fn`, and closes it again whatever happens. */
export async function withDatabase<T>(config: TicketpostConfig, fn: (db: DataSource) => Promise<T>): Promise<T> {
  const db = await openDatabase(config.database);
  try {
    return await fn(db);
  } finally {
    await closeDb(db);
  }
}
