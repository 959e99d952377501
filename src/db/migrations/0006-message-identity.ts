import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * A mail is the same mail only when its Message-ID and its content are the same (issue 9): the
 * unique index on the Message-ID alone gives way to one on Message-ID and content fingerprint,
 * and lookups by Message-ID (threading) keep an index of their own. Rows stored before keep a
 * null fingerprint; for them the Message-ID alone decides, as it did.
 */
export class MessageIdentity1764604800000 implements MigrationInterface {
  name = "MessageIdentity1764604800000";

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn("message", new TableColumn({ name: "fingerprint", type: "varchar", length: "64", isNullable: true }));
    await q.dropIndex("message", "uq_message_message_id");
    await q.createIndex("message", new TableIndex({ name: "idx_message_message_id", columnNames: ["messageId"] }));
    await q.createIndex(
      "message",
      new TableIndex({ name: "uq_message_identity", columnNames: ["messageId", "fingerprint"], isUnique: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex("message", "uq_message_identity");
    await q.dropIndex("message", "idx_message_message_id");
    await q.dropColumn("message", "fingerprint");
    await q.createIndex("message", new TableIndex({ name: "uq_message_message_id", columnNames: ["messageId"], isUnique: true }));
  }
}
