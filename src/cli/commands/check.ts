import { defineCommand, print } from "../command.js";

export const check = defineCommand({
  name: "check",
  summary: "validate the configuration and try every connection",
  help: `Validates the configuration and the templates, logs in to IMAP (and looks at the folders), greets
and authenticates at SMTP, and opens the database. One line per check, with a fix for each failure.
Exit 0 when all pass, 1 otherwise.`,
  async run(call) {
    const { printChecks, runChecks } = await import("../ops-commands.js");
    const lines = await runChecks(call.config());
    print(printChecks(lines));
    return lines.every((l) => l.ok) ? 0 : 1;
  },
});
