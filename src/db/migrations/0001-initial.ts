import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner, type TableColumnOptions } from "typeorm";

/*
 * Written with TypeORM's Table API rather than raw SQL so one migration serves SQLite and
 * PostgreSQL; the only type that differs is the timestamp. test/db/schema.test.ts checks that
 * the entities and this migration agree on both engines.
 */
export class Initial1764172800000 implements MigrationInterface {
  name = "Initial1764172800000";

  async up(q: QueryRunner): Promise<void> {
    const ts = q.connection.driver.options.type === "postgres" ? "timestamp" : "datetime";
    const id: TableColumnOptions = { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" };
    const col = (name: string, type: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
      name,
      type,
      isNullable: false,
      ...extra,
    });
    const vc = (name: string, length: number, nullable = false) => col(name, "varchar", { length: String(length), isNullable: nullable });
    const text = (name: string, nullable = false) => col(name, "text", { isNullable: nullable });
    const int = (name: string, nullable = false) => col(name, "integer", { isNullable: nullable });
    const date = (name: string, nullable = false) => col(name, ts, { isNullable: nullable });

    await q.createTable(
      new Table({
        name: "ticket",
        columns: [
          id,
          text("title"),
          text("description"),
          vc("status", 32),
          vc("requesterAddress", 320),
          vc("requesterName", 320, true),
          vc("language", 8),
          date("createdAt"),
          date("updatedAt"),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: "participant",
        columns: [id, int("ticketId"), vc("address", 320), vc("name", 320, true), vc("role", 16)],
        uniques: [new TableUnique({ name: "uq_participant_ticket_address", columnNames: ["ticketId", "address"] })],
      }),
    );
    await q.createTable(
      new Table({
        name: "message",
        columns: [
          id,
          int("ticketId"),
          vc("direction", 16),
          vc("visibility", 16),
          vc("messageId", 998),
          vc("inReplyTo", 998, true),
          text("references", true),
          vc("fromAddress", 320),
          vc("fromName", 320, true),
          text("toAddresses"),
          text("ccAddresses"),
          text("subject"),
          text("text"),
          vc("rawSha256", 64, true),
          int("rawSize", true),
          date("createdAt"),
        ],
        indices: [
          new TableIndex({ name: "idx_message_ticket", columnNames: ["ticketId"] }),
          new TableIndex({ name: "uq_message_message_id", columnNames: ["messageId"], isUnique: true }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: "attachment",
        columns: [
          id,
          int("messageRowId"),
          vc("filename", 255),
          vc("contentType", 255),
          int("size"),
          vc("sha256", 64),
          col("inline", "boolean"),
        ],
        indices: [new TableIndex({ name: "idx_attachment_message", columnNames: ["messageRowId"] })],
      }),
    );
    await q.createTable(
      new Table({
        name: "mail_receipt",
        columns: [
          id,
          vc("mailbox", 255),
          col("uidValidity", "bigint"),
          col("uid", "bigint"),
          vc("messageIdHeader", 998, true),
          text("subject", true),
          vc("fromAddress", 320, true),
          vc("outcome", 32),
          vc("errorCode", 32, true),
          text("reason", true),
          int("ticketId", true),
          int("messageRowId", true),
          vc("rawSha256", 64, true),
          int("rawSize", true),
          vc("movedTo", 255, true),
          date("receivedAt"),
        ],
        uniques: [new TableUnique({ name: "uq_receipt_position", columnNames: ["mailbox", "uidValidity", "uid"] })],
      }),
    );
    await q.createTable(
      new Table({
        name: "trail_entry",
        columns: [id, int("receiptId"), int("seq"), vc("stage", 32), vc("verdict", 32), text("detail")],
        indices: [new TableIndex({ name: "idx_trail_receipt", columnNames: ["receiptId"] })],
      }),
    );
    await q.createTable(
      new Table({
        name: "outbox",
        columns: [
          id,
          int("ticketId", true),
          vc("event", 64),
          vc("toAddress", 320),
          vc("toName", 320, true),
          vc("language", 8),
          text("subject"),
          text("textBody"),
          text("htmlBody", true),
          int("messageRowId", true),
          vc("messageId", 998),
          vc("inReplyTo", 998, true),
          text("references", true),
          vc("status", 16),
          int("attempts"),
          date("nextAttemptAt"),
          text("lastError", true),
          date("createdAt"),
          date("sentAt", true),
        ],
        indices: [new TableIndex({ name: "idx_outbox_due", columnNames: ["status", "nextAttemptAt"] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ["outbox", "trail_entry", "mail_receipt", "attachment", "message", "participant", "ticket"]) {
      await q.dropTable(t);
    }
  }
}
