import { readFile } from "node:fs/promises";
import { TicketpostError } from "../../shared/errors.js";
import { inspectMail, type Inspection } from "../../tickets/inspect.js";
import { defineCommand, JSON_OPTION, print, printJson } from "../command.js";
import { closeDb, openGateway } from "../gateway.js";

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

/** The inspection for people: the verdict, what was read, a bounce's recipients, then the trail. */
export function printInspection(i: Inspection): string {
  const out = [`verdict: ${i.verdict}${i.ticket ? ` (${i.ticket})` : ""}`];
  if (i.parsed) {
    const p = i.parsed as {
      title: string;
      requester?: string;
      department?: string;
      priority: string;
      urgency: string;
      dueDate?: string;
      commands: string[];
      attachments: Array<{ filename: string; contentType: string; size: number }>;
    };
    out.push(`title: ${p.title}`);
    // Routing decides only for a new ticket; a reply keeps its ticket's department and levels.
    const newTicket = i.verdict === "new-ticket" || (i.verdict === "auto-reply" && !i.ticket);
    if (newTicket)
      out.push(
        `requester: ${p.requester ?? "-"}   department: ${p.department ?? "-"}   priority: ${p.priority}   urgency: ${p.urgency}   due: ${p.dueDate ?? "-"}`,
      );
    else out.push(`from: ${p.requester ?? "-"}`);
    if (p.commands.length) out.push(`commands: ${p.commands.join(", ")}`);
    for (const a of p.attachments) out.push(`attachment: ${a.filename} (${a.contentType}, ${a.size} bytes)`);
  }
  if (i.bounce) {
    out.push(`bounce: ${i.bounce.kind} (${i.bounce.format}), original Message-ID ${i.bounce.originalMessageId ?? "-"}`);
    for (const r of i.bounce.recipients)
      out.push(
        `  ${r.address}: ${r.status ?? "-"} ${r.replyCode ?? ""} ${r.permanent === true ? "permanent" : r.permanent === false ? "temporary" : "unknown"}: ${r.reason}`,
      );
  }
  out.push("trail:");
  for (const t of i.trail) out.push(`  ${t.stage.padEnd(9)} ${t.verdict.padEnd(20)} ${t.detail}`);
  return out.join("\n") + "\n";
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
