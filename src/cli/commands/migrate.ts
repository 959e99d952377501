import { TicketpostError } from "../../shared/errors.js";
import { defineCommand, print } from "../command.js";

export const migrate = defineCommand({
  name: "migrate",
  summary: "create or upgrade the database schema",
  options: { force: { type: "boolean", help: "migrate even while a gateway of another version runs on the database" } },
  help: `Applies pending database migrations (SQLite file or PostgreSQL database from the configuration).
Refuses while a gateway process of another version is running on the same database (stop it
first, or --force).`,
  async run(call) {
    const { openDatabase } = await import("../../db/data-source.js");
    const { liveInstancesOfOtherVersions } = await import("../../ops/instance.js");
    const { closeDb } = await import("../gateway.js");
    const config = call.config();
    const probe = await openDatabase(config.database, { allowPending: true });
    try {
      // Before the migration that creates the heartbeat table there is nobody to ask.
      const hasInstances = (
        await probe.query(`SELECT COUNT(*) AS n FROM ticketpost_migrations WHERE name = 'Instances1764345600000'`).catch(() => [{ n: 0 }])
      )[0];
      const others = Number(hasInstances?.n ?? 0) > 0 ? await liveInstancesOfOtherVersions(probe) : [];
      if (others.length && !call.opts.force) {
        throw new TicketpostError(
          "EUSAGE",
          `refusing to migrate: ${others.map((o) => `${o.id} (version ${o.version})`).join(", ")} is running on this database; stop it first (or --force)`,
        );
      }
    } finally {
      await closeDb(probe);
    }
    const db = await openDatabase(config.database, { migrate: true });
    try {
      const applied: Array<{ name: string }> = await db.query(`SELECT name FROM ticketpost_migrations ORDER BY id`);
      print(`database is up to date (${applied.length} migration(s): ${applied.map((r) => r.name).join(", ")})\n`);
    } finally {
      await closeDb(db);
    }
    return 0;
  },
});
