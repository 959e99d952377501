import { Table, type MigrationInterface, type QueryRunner } from "typeorm";

/** Running gateway processes and their last poll, for `status`, /healthz and safe upgrades. */
export class Instances1764345600000 implements MigrationInterface {
  name = "Instances1764345600000";

  async up(q: QueryRunner): Promise<void> {
    const ts = q.connection.driver.options.type === "postgres" ? "timestamp" : "datetime";
    await q.createTable(
      new Table({
        name: "gateway_instance",
        columns: [
          { name: "id", type: "varchar", length: "128", isPrimary: true },
          { name: "version", type: "varchar", length: "32", isNullable: false },
          { name: "startedAt", type: ts, isNullable: false },
          { name: "heartbeatAt", type: ts, isNullable: false },
          { name: "lastPollAt", type: ts, isNullable: true },
          { name: "lastPollError", type: "text", isNullable: true },
          { name: "idleConnected", type: "boolean", isNullable: false },
          { name: "stoppedAt", type: ts, isNullable: true },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable("gateway_instance");
  }
}
