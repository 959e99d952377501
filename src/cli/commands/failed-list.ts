import { listFailedMails } from "../../tickets/queries.js";
import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";
import { withDatabase } from "../database.js";
import { printFailed } from "../print.js";

export const failedList = defineCommand({
  name: "failed list",
  summary: "mails that could not be processed, with the code, the reason and the trail",
  options: JSON_OPTION,
  help: `The mails that went to the Failed folder (or, from ingest and import, were recorded as failed),
with the error code, the reason and what each stage decided.`,
  async run(call) {
    const list = await withDatabase(call.config(), (db) => listFailedMails(db));
    if (call.opts.json) printJson(list);
    else print(printFailed(list));
    return 0;
  },
});
