import { expect } from "chai";
import { openDatabase } from "../../src/db/data-source.js";
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
        expect(pending.upQueries.map((q) => q.query), "schema drift between entities and migrations").to.deep.equal([]);
        expect(await db.showMigrations()).to.equal(false);
      } finally {
        await db.destroy();
      }
    });

    it("running migrate again changes nothing", async () => {
      const db = await openDatabase(tdb.options, { migrate: true });
      try {
        const rows = await db.query(`SELECT name FROM ticketpost_migrations`);
        expect(rows).to.have.length(2);
      } finally {
        await db.destroy();
      }
    });
  });
}
