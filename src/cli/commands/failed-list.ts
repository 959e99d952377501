import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";

export const failedList = defineCommand({
  name: "failed list",
  summary: "mails that could not be processed, with the code, the reason and the trail",
  options: JSON_OPTION,
  help: `The mails that went to the Failed folder (or, from ingest and import, were recorded as failed),
with the error code, the reason and what each stage decided.`,
  async run(call) {
    const { listFailedMails } = await import("../../tickets/queries.js");
    const { withDatabase } = await import("../database.js");
    const { printFailed } = await import("../print.js");
    const list = await withDatabase(call.config(), (db) => listFailedMails(db));
    if (call.opts.json) printJson(list);
    else print(printFailed(list));
    return 0;
  },
});
