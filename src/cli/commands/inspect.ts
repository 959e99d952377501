import { readFile } from "node:fs/promises";
import { TicketpostError } from "../../shared/errors.js";
import type { Inspection } from "../../tickets/inspect.js";
import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";

async function readInput(file: string): Promise<Buffer> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (err) {
    throw new TicketpostError("EREAD", `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export const inspect = defineCommand({
  name: "inspect",
  args: [{ name: "FILE|-" }],
  summary: "what the gateway would do with a mail, changing nothing",
  options: JSON_OPTION,
  help: `Shows what the gateway would do with a mail (a file, or - for standard input), changing nothing:
the verdict (new-ticket, reply, command, bounce, report, auto-reply, loop, duplicate, stranger,
rejected) with every reason on the trail, the parsed fields (title, requester; for a new ticket
the department, priority, urgency and due date; commands, attachments) and, for a bounce, the
failed recipients with status and reason.`,
  async run(call) {
    const { inspectMail, printInspection } = await import("../../tickets/inspect.js");
    const { closeDb, openGateway } = await import("../gateway.js");
    const raw = await readInput(call.args[0]);
    const ctx = await openGateway(call.config(), call.logger());
    let inspection: Inspection;
    try {
      // Read-only: everything runs in a transaction that is rolled back, so nothing can stick.
      const qr = ctx.db.createQueryRunner();
      await qr.startTransaction();
      try {
        inspection = await inspectMail(ctx, raw, qr.manager);
      } finally {
        await qr.rollbackTransaction();
        await qr.release();
      }
    } finally {
      await closeDb(ctx.db);
    }
    if (call.opts.json) printJson(inspection);
    else print(printInspection(inspection));
    return 0;
  },
});
