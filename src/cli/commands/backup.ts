import { defineCommand, print, usage } from "../command.js";

/** The part of better-sqlite3's connection that TypeORM does not expose. */
interface SqliteBackup {
  backup(file: string): Promise<{ totalPages: number }>;
}

export const backup = defineCommand({
  name: "backup",
  args: [{ name: "FILE" }],
  summary: "copy the SQLite database online to FILE",
  help: `Copies the SQLite database to FILE while the gateway keeps running (SQLite online backup). For
PostgreSQL use pg_dump. The stored mails and attachments are files under dataDir/blobs: copy
them with any file backup (they are never changed once written).`,
  async run(call) {
    const { openDatabase } = await import("../../db/data-source.js");
    const { closeDb } = await import("../gateway.js");
    const config = call.config();
    const [target] = call.args;
    if (config.database.url) usage("backup copies the SQLite database; for PostgreSQL use pg_dump");
    const db = await openDatabase(config.database, { allowPending: true });
    try {
      const conn = (db.driver as unknown as { databaseConnection: SqliteBackup }).databaseConnection;
      const r = await conn.backup(target);
      print(`backed up ${config.database.sqlitePath} to ${target} (${r.totalPages} pages)\n`);
    } finally {
      await closeDb(db);
    }
    return 0;
  },
});
