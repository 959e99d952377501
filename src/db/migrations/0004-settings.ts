import { Table, type MigrationInterface, type QueryRunner } from "typeorm";

/** Settings the gateway makes itself and every instance must share (the reference key), and address flags from bounces. */
export class Settings1764432000000 implements MigrationInterface {
  name = "Settings1764432000000";

  async up(q: QueryRunner): Promise<void> {
    const ts = q.connection.driver.options.type === "postgres" ? "timestamp" : "datetime";
    await q.createTable(
      new Table({
        name: "gateway_setting",
        columns: [
          { name: "key", type: "varchar", length: "64", isPrimary: true },
          { name: "value", type: "text", isNullable: false },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: "address_flag",
        columns: [
          { name: "address", type: "varchar", length: "320", isPrimary: true },
          { name: "permanent", type: "boolean", isNullable: false },
          { name: "status", type: "varchar", length: "16", isNullable: true },
          { name: "reason", type: "text", isNullable: false },
          { name: "ticketId", type: "integer", isNullable: true },
          { name: "bounces", type: "integer", isNullable: false },
          { name: "flaggedAt", type: ts, isNullable: false },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable("address_flag");
    await q.dropTable("gateway_setting");
  }
}
