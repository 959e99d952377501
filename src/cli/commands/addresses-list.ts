import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";

export const addressesList = defineCommand({
  name: "addresses list",
  summary: "addresses whose mail bounced",
  options: JSON_OPTION,
  help: `Addresses whose mail bounced. A permanent failure blocks all mail to the address until the flag
is cleared (ticketpost addresses clear ADDRESS); a temporary one is only recorded.`,
  async run(call) {
    const [{ AddressFlag }, { withDatabase }] = await Promise.all([import("../../db/entities.js"), import("../database.js")]);
    const rows = await withDatabase(call.config(), (db) => db.getRepository(AddressFlag).find({ order: { flaggedAt: "DESC" } }));
    if (call.opts.json) printJson(rows);
    else if (!rows.length) print("no flagged addresses\n");
    else
      print(
        rows
          .map(
            (r) =>
              `${r.address.padEnd(32)} ${r.permanent ? "BLOCKED" : "temporary"} ${r.status ?? "-"} bounces: ${r.bounces} ${r.flaggedAt.toISOString()} ${r.reason.slice(0, 80)}`,
          )
          .join("\n") + "\n",
      );
    return 0;
  },
});
