import { randomBytes } from "node:crypto";
import type { TicketpostConfig } from "../config/schema.js";
import { Ticket } from "../db/entities.js";
import { describeChange } from "../notify/change-text.js";
import { TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { runTerminalAction } from "../tickets/terminal.js";
import { closeDb, directoryOf, openGateway, sendQueuedNow } from "./gateway.js";

/** Terminal actions and the mail command each one is: the same words, so the same code path. */
export const TICKET_ACTIONS: Record<string, { command: string; arg: string | null; text: "required" | "optional" | "none" }> = {
  take: { command: "#take", arg: null, text: "none" },
  ask: { command: "#ask", arg: null, text: "required" },
  assign: { command: "#assign", arg: "colleague or department", text: "optional" },
  note: { command: "#note", arg: null, text: "required" },
  priority: { command: "#priority", arg: "priority", text: "none" },
  urgency: { command: "#urgency", arg: "urgency", text: "none" },
  due: { command: "#due", arg: "date", text: "none" },
  resolve: { command: "#resolve", arg: null, text: "optional" },
  reopen: { command: "#reopen", arg: null, text: "none" },
};

/**
 * `ticketpost tickets take|ask|assign|note|… ID`: writes the agent's mail the operator would
 * have sent (commands on top, text below) and runs it through the very code that handles
 * agents' mails, so the terminal and the mail can never disagree. Only the confirmation differs:
 * it is printed instead of mailed.
 */
export async function runTicketAction(config: TicketpostConfig, logger: Logger, action: string, ticketId: number, arg: string | undefined, opts: { as?: string; text?: string; send: boolean | null }): Promise<number> {
  const spec = TICKET_ACTIONS[action];
  const dir = directoryOf(config);
  if (!opts.as) throw new TicketpostError("EUSAGE", `tickets ${action} needs --as AGENT (the agent the action is done as)`);
  const agent = dir.agent(opts.as);
  if (!agent) throw new TicketpostError("EUSAGE", `${opts.as} is not a configured agent (a member of a department)`);
  if (spec.arg && !arg) throw new TicketpostError("EUSAGE", `tickets ${action} ID needs a ${spec.arg}`);
  if (spec.text === "required" && !opts.text?.trim()) throw new TicketpostError("EUSAGE", `tickets ${action} needs --text "..."`);

  const ctx = await openGateway(config, logger);
  try {
    if (!(await ctx.db.getRepository(Ticket).exists({ where: { id: ticketId } }))) throw new TicketpostError("ENOTFOUND", `no ticket ${config.referencePrefix}-${ticketId}`);
    const body = `${spec.command}${arg ? ` ${arg}` : ""}\n${opts.text ?? ""}\n`;
    const raw = Buffer.from([
      `From: ${agent.address}`,
      `To: ${config.supportAddress}`,
      `Subject: [#${config.referencePrefix}-${ticketId}] ${action} (terminal)`,
      `Message-ID: <terminal.${Date.now().toString(36)}.${randomBytes(6).toString("hex")}@${config.messageIdDomain}>`,
      `Date: ${new Date().toUTCString()}`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      body,
    ].join("\r\n"));
    const result = await runTerminalAction(ctx, ticketId, raw);
    if (result.commandErrors.length) {
      process.stderr.write(result.commandErrors.map((e) => `ticketpost: nothing changed: ${e}\n`).join(""));
      return 1;
    }
    const ref = `${config.referencePrefix}-${ticketId}`;
    const lines = result.changes.map((c) => `  ${describeChange(c, "en", (id) => dir.departmentName(id, "en") ?? id)}`);
    const mailed = result.notified.map((n) => `  mail: ${n.replace("→", " to ")}`);
    process.stdout.write(`${ref}: ${action} done as ${agent.address}\n${[...lines, ...mailed].join("\n")}\n`);

    await sendQueuedNow(config, ctx, opts.send);
    return 0;
  } finally {
    await closeDb(ctx.db);
  }
}
