import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from "typeorm";

/** The ticket workflow: department, priority, urgency, due date, assignee, resolution; the event log. */
export class Workflow1764259200000 implements MigrationInterface {
  name = "Workflow1764259200000";

  async up(q: QueryRunner): Promise<void> {
    const ts = q.connection.driver.options.type === "postgres" ? "timestamp" : "datetime";
    await q.addColumns("ticket", [
      new TableColumn({ name: "departmentId", type: "varchar", length: "32", isNullable: true }),
      new TableColumn({ name: "priority", type: "varchar", length: "16", isNullable: false, default: "'normal'" }),
      new TableColumn({ name: "urgency", type: "varchar", length: "32", isNullable: false, default: "'impaired'" }),
      new TableColumn({ name: "dueDate", type: "varchar", length: "10", isNullable: true }),
      new TableColumn({ name: "assigneeAddress", type: "varchar", length: "320", isNullable: true }),
      new TableColumn({ name: "resolvedAt", type: ts, isNullable: true }),
      new TableColumn({ name: "resolution", type: "text", isNullable: true }),
      new TableColumn({ name: "relatedTicketId", type: "integer", isNullable: true }),
      new TableColumn({ name: "lastOverdueNoticeAt", type: ts, isNullable: true }),
    ]);
    await q.createTable(
      new Table({
        name: "ticket_event",
        columns: [
          { name: "id", type: "integer", isPrimary: true, isGenerated: true, generationStrategy: "increment" },
          { name: "ticketId", type: "integer", isNullable: false },
          { name: "at", type: ts, isNullable: false },
          { name: "actor", type: "varchar", length: "320", isNullable: true },
          { name: "action", type: "varchar", length: "32", isNullable: false },
          { name: "detail", type: "text", isNullable: false },
        ],
        indices: [new TableIndex({ name: "idx_ticket_event_ticket", columnNames: ["ticketId"] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable("ticket_event");
    for (const c of [
      "lastOverdueNoticeAt",
      "relatedTicketId",
      "resolution",
      "resolvedAt",
      "assigneeAddress",
      "dueDate",
      "urgency",
      "priority",
      "departmentId",
    ]) {
      await q.dropColumn("ticket", c);
    }
  }
}
