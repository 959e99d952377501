import { TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/** The per-address answer limit counts recent outbox rows by address: without this index, a scan of the whole outbox per new ticket. */
export class OutboxAddress1764518400000 implements MigrationInterface {
  name = "OutboxAddress1764518400000";

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex("outbox", new TableIndex({ name: "idx_outbox_address", columnNames: ["toAddress", "createdAt"] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex("outbox", "idx_outbox_address");
  }
}
