#!/usr/bin/env node
import { asTicketpostError } from "../shared/errors.js";
import { main } from "./commands.js";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    const argCode = (err as { code?: unknown }).code;
    if (typeof argCode === "string" && argCode.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`ticketpost: ${(err as Error).message} (see ticketpost --help)\n`);
      process.exit(2);
    }
    const e = asTicketpostError(err);
    process.stderr.write(`ticketpost: ${e.code}: ${e.message}\n`);
    process.exit(e.code === "EUSAGE" || e.code === "ECONFIG" ? 2 : 1);
  },
);
