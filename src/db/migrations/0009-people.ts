import { Table, TableColumn, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * People in the loop (issue 12): a participant an agent removed stays on record (so copying them
 * in again does not bring them back), a merged ticket points at the ticket it went into, an
 * outbox mail carries its Cc recipients, and each digest period is claimed by one row, so that
 * several instances send one digest per period and department.
 */
export class People1764864000000 implements MigrationInterface {
  name = "People1764864000000";

  async up(q: QueryRunner): Promise<void> {
    const time = q.connection.driver.options.type === "postgres" ? "timestamp" : "datetime";
    await q.addColumn("participant", new TableColumn({ name: "removedAt", type: time, isNullable: true }));
    await q.addColumn("ticket", new TableColumn({ name: "mergedIntoId", type: "integer", isNullable: true }));
    await q.addColumn("outbox", new TableColumn({ name: "ccAddresses", type: "text", isNullable: true }));
    // Counting the mails an address got in Cc (limits) reads only the recent rows.
    await q.createIndex("outbox", new TableIndex({ name: "idx_outbox_created", columnNames: ["createdAt"] }));
    await q.createTable(
      new Table({
        name: "digest_run",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "period", type: "varchar", length: "32" },
          { name: "departmentId", type: "varchar", length: "32" },
          { name: "instanceId", type: "varchar", length: "128", isNullable: true },
          { name: "createdAt", type: time },
        ],
        uniques: [new TableUnique({ name: "uq_digest_run_period", columnNames: ["period", "departmentId"] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable("digest_run");
    await q.dropIndex("outbox", "idx_outbox_created");
    await q.dropColumn("outbox", "ccAddresses");
    await q.dropColumn("ticket", "mergedIntoId");
    await q.dropColumn("participant", "removedAt");
  }
}
