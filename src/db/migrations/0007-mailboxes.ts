import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/**
 * Several mailboxes: each instance's heartbeat names the mailboxes it drains (for `status`), and
 * the outbox finds a ticket's mailbox (the address its replies leave from) by the receipt that
 * created it, which needs an index on the receipt's ticket.
 */
export class Mailboxes1764691200000 implements MigrationInterface {
  name = "Mailboxes1764691200000";

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn("gateway_instance", new TableColumn({ name: "mailboxes", type: "text", isNullable: true }));
    await q.createIndex("mail_receipt", new TableIndex({ name: "idx_receipt_ticket", columnNames: ["ticketId"] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex("mail_receipt", "idx_receipt_ticket");
    await q.dropColumn("gateway_instance", "mailboxes");
  }
}
