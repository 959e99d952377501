import { TicketpostError } from "../../shared/errors.js";
import { defineCommand, print } from "../command.js";

export const addressesClear = defineCommand({
  name: "addresses clear",
  args: [{ name: "ADDRESS" }],
  summary: "lift the block on an address that bounced",
  help: `Removes the bounce flag of ADDRESS, so that mail to it is sent again.`,
  async run(call) {
    const [{ AddressFlag }, { withDatabase }] = await Promise.all([import("../../db/entities.js"), import("../database.js")]);
    const [address] = call.args;
    const res = await withDatabase(call.config(), (db) => db.getRepository(AddressFlag).delete({ address: address.toLowerCase() }));
    if (!res.affected) throw new TicketpostError("ENOTFOUND", `${address} is not flagged`);
    print(`${address} cleared: mail to it is sent again\n`);
    return 0;
  },
});
