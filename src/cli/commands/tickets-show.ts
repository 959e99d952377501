import { TicketpostError } from "../../shared/errors.js";
import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";
import { parseTicketId } from "./ticket-id.js";

export const ticketsShow = defineCommand({
  name: "tickets show",
  args: [{ name: "ID" }],
  summary: "one ticket with its fields, participants, events and every message",
  options: JSON_OPTION,
  help: `Shows one ticket: its fields, participants, event log, and every message with its delivery status.
ID may be 42, T-42, [#T-42] or the whole tag from a subject line.`,
  async run(call) {
    const { showTicket } = await import("../../tickets/queries.js");
    const { withDatabase } = await import("../database.js");
    const { printTicket } = await import("../print.js");
    const config = call.config();
    const id = parseTicketId(call.args[0], config.referencePrefix);
    const t = await withDatabase(config, (db) => showTicket(db, { prefix: config.referencePrefix }, id));
    if (!t) throw new TicketpostError("ENOTFOUND", `no ticket ${config.referencePrefix}-${id}`);
    if (call.opts.json) printJson(t);
    else print(printTicket(t));
    return 0;
  },
});
