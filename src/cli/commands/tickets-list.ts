import type { TicketStatusName } from "../../tickets/levels.js";
import { defineCommand, JSON_OPTION, print, printJson, usage } from "../command.js";

const STATUSES = ["new", "in_progress", "waiting", "resolved"] as const satisfies readonly TicketStatusName[];

export const ticketsList = defineCommand({
  name: "tickets list",
  summary: "list tickets, filtered, in ID or work order",
  options: {
    status: { type: "string", value: "STATUS", choices: STATUSES, help: "only tickets in this status" },
    department: { type: "string", value: "ID", help: "only tickets of this department (an id from the configuration)" },
    assignee: { type: "string", value: "ADDRESS", help: "only tickets this agent works on" },
    overdue: { type: "boolean", help: "only tickets past their due date" },
    queue: { type: "boolean", help: "sort in work order: urgency, then priority, then due date, then age" },
    ...JSON_OPTION,
  },
  help: `Lists tickets, one line each (--json: an array of objects). Filters combine.
--queue sorts by work order, as an agent should take them (see the README).`,
  async run(call) {
    const { listTickets } = await import("../../tickets/queries.js");
    const { withDatabase } = await import("../database.js");
    const { printTicketList } = await import("../print.js");
    const config = call.config();
    const { status, department, assignee, overdue, queue } = call.opts;
    const known = config.departments.map((d) => d.id);
    if (department && !known.includes(department.toLowerCase()))
      usage(`tickets list: --department must be one of ${known.join(", ") || "(no departments configured)"}; got "${department}"`);
    const list = await withDatabase(config, (db) =>
      listTickets(db, { prefix: config.referencePrefix }, { status, department, assignee, overdue, order: queue ? "work" : "id" }),
    );
    if (call.opts.json) printJson(list);
    else print(printTicketList(list));
    return 0;
  },
});
