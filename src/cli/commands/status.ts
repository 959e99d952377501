import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";

export const status = defineCommand({
  name: "status",
  summary: "mailbox, database, outbox and last poll at a glance",
  options: JSON_OPTION,
  help: `Is the mailbox reachable, how many mails wait in it and in Failed, how deep is the outbox and how
old its oldest row, when did the last poll run, which migrations are applied. Exit 1 when the
mailbox or the database cannot be reached.`,
  async run(call) {
    const { gatherStatus, printStatus } = await import("../ops-commands.js");
    const s = await gatherStatus(call.config());
    if (call.opts.json) printJson(s);
    else print(printStatus(s));
    return s.ok ? 0 : 1;
  },
});
