import { Table, TableIndex, type MigrationInterface, type QueryRunner, type TableColumnOptions } from "typeorm";

/**
 * Status mails carry files: each outbox row lists the files it attaches, as references to the
 * content-addressed blob store (SHA-256), never as copies. `contentId` is set for an image the
 * HTML part shows inline (cid:, RFC 2392).
 */
export class OutboxAttachments1764777600000 implements MigrationInterface {
  name = "OutboxAttachments1764777600000";

  async up(q: QueryRunner): Promise<void> {
    const col = (name: string, type: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type,
      isNullable: false,
      ...extra,
    });
    await q.createTable(
      new Table({
        name: "outbox_attachment",
        columns: [
          col("id", "integer", { isPrimary: true, isGenerated: true, generationStrategy: "increment" }),
          col("outboxId", "integer"),
          col("seq", "integer"),
          col("filename", "varchar", { length: "255" }),
          col("contentType", "varchar", { length: "255" }),
          col("size", "integer"),
          col("sha256", "varchar", { length: "64" }),
          col("contentId", "varchar", { length: "255", isNullable: true }),
        ],
        indices: [new TableIndex({ name: "idx_outbox_attachment_outbox", columnNames: ["outboxId"] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable("outbox_attachment");
  }
}
