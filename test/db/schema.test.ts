import { expect } from "chai";
import { DataSource } from "typeorm";
import { createDataSource, MIGRATIONS, openDatabase } from "../../src/db/data-source.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../helpers/databases.js";

for (const engine of ENGINES) {
  describe(`database schema (${engine})`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(engine);
    });
    after(async () => tdb?.drop());

    it("refuses to start on an empty database until migrated", async () => {
      let err: unknown;
      try {
        await openDatabase(tdb.options);
      } catch (e) {
        err = e;
      }
      expect(err).to.have.property("code", "EDB");
      expect(String((err as Error).message)).to.contain("ticketpost migrate");
    });

    it("migrations create exactly the schema the entities describe", async () => {
      const db = await openDatabase(tdb.options, { migrate: true });
      try {
        const pending = await db.driver.createSchemaBuilder().log();
        expect(
          pending.upQueries.map((q) => q.query),
          "schema drift between entities and migrations",
        ).to.deep.equal([]);
        expect(await db.showMigrations()).to.equal(false);
      } finally {
        await db.destroy();
      }
    });

    it("running migrate again changes nothing", async () => {
      const db = await openDatabase(tdb.options, { migrate: true });
      try {
        const rows = await db.query(`SELECT name FROM ticketpost_migrations`);
        expect(rows).to.have.length(MIGRATIONS.length);
      } finally {
        await db.destroy();
      }
    });
  });

  describe(`upgrading an existing database (${engine})`, () => {
    let tdb: TestDatabase;
    before(async () => {
      tdb = await createTestDatabase(engine);
    });
    after(async () => tdb?.drop());

    it("keeps the tickets of a database made by the first release, with defaults for the new fields", async () => {
      const first = createDataSource(tdb.options);
      const old = new DataSource({ ...first.options, migrations: [MIGRATIONS[0]] } as never);
      await old.initialize();
      await old.runMigrations();
      await old.query(
        `INSERT INTO ticket (title, description, status, "requesterAddress", "requesterName", language, "createdAt", "updatedAt") VALUES ('Old printer', 'jam', 'new', 'carla@customer.test', NULL, 'en', '2026-01-01 10:00:00', '2026-01-01 10:00:00')`,
      );
      await old.destroy();
      const db = await openDatabase(tdb.options, { migrate: true });
      try {
        const rows = await db.query(`SELECT title, priority, urgency, "departmentId" FROM ticket`);
        expect(rows).to.deep.equal([{ title: "Old printer", priority: "normal", urgency: "impaired", departmentId: null }]);
      } finally {
        await db.destroy();
      }
    });
  });
}
