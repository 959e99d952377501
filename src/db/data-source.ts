import "reflect-metadata";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DataSource } from "typeorm";
import { TicketpostError } from "../shared/errors.js";
import { ENTITIES } from "./entities.js";
import { Initial1764172800000 } from "./migrations/0001-initial.js";
import { Workflow1764259200000 } from "./migrations/0002-workflow.js";
import { Instances1764345600000 } from "./migrations/0003-instances.js";
import { Settings1764432000000 } from "./migrations/0004-settings.js";
import { OutboxAddress1764518400000 } from "./migrations/0005-outbox-address.js";
import { MessageIdentity1764604800000 } from "./migrations/0006-message-identity.js";
import { Mailboxes1764691200000 } from "./migrations/0007-mailboxes.js";
import { OutboxAttachments1764777600000 } from "./migrations/0008-outbox-attachment.js";
import { People1764864000000 } from "./migrations/0009-people.js";

export const MIGRATIONS = [
  Initial1764172800000,
  Workflow1764259200000,
  Instances1764345600000,
  Settings1764432000000,
  OutboxAddress1764518400000,
  MessageIdentity1764604800000,
  Mailboxes1764691200000,
  OutboxAttachments1764777600000,
  People1764864000000,
];

export interface DatabaseOptions {
  /** postgres://… selects PostgreSQL; null means SQLite at sqlitePath. */
  url: string | null;
  sqlitePath: string;
  logging?: boolean;
}

export function createDataSource(options: DatabaseOptions): DataSource {
  if (options.url) {
    return new DataSource({
      type: "postgres",
      url: options.url,
      entities: ENTITIES,
      migrations: MIGRATIONS,
      migrationsTableName: "ticketpost_migrations",
      logging: options.logging ?? false,
      synchronize: false,
    });
  }
  mkdirSync(path.dirname(options.sqlitePath), { recursive: true });
  return new DataSource({
    type: "better-sqlite3",
    database: options.sqlitePath,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: "ticketpost_migrations",
    logging: options.logging ?? false,
    synchronize: false,
    // WAL lets `tickets list` read while the daemon writes; busy_timeout rides out short locks.
    enableWAL: true,
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma("busy_timeout = 5000");
    },
  });
}

export async function openDatabase(options: DatabaseOptions, { migrate = false, allowPending = false } = {}): Promise<DataSource> {
  const ds = createDataSource(options);
  try {
    await ds.initialize();
  } catch (err) {
    throw new TicketpostError(
      "EDB",
      `database: cannot open ${options.url ? "PostgreSQL" : options.sqlitePath}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (migrate) await ds.runMigrations({ transaction: "each" });
  else if (!allowPending && (await ds.showMigrations())) {
    await ds.destroy();
    throw new TicketpostError("EDB", "database: migrations are pending; run `ticketpost migrate` first", { retryable: false });
  }
  return ds;
}
