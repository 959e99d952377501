import { randomBytes } from "node:crypto";
import type { TicketpostConfig } from "../../config/schema.js";
import type * as FieldLinesModule from "../../mail/field-lines.js";
import { TicketpostError } from "../../shared/errors.js";
import type { Change } from "../../tickets/workflow/types.js";
import { defineCommand, print, SEND_OPTIONS, sendChoice, type ArgSpec, type Command } from "../command.js";
import { parseTicketId } from "./ticket-id.js";

/** A terminal action and the mail command it is: the same words, so the same code path. */
interface TicketAction {
  command: string;
  summary: string;
  /** The one value after the ID, checked with the parser the mail command uses. */
  value?: ArgSpec;
  text: "required" | "optional" | "none";
}

type FieldLines = typeof FieldLinesModule;
let fieldLines: FieldLines | undefined;

/**
 * Loads the parsers the value checks share with the mail commands (chrono-node among them); the
 * dispatcher awaits it before it checks the arguments of a `tickets` action, so that no other
 * command pays for loading them.
 */
export async function loadValueParsers(): Promise<void> {
  fieldLines ??= await import("../../mail/field-lines.js");
}

function parsers(): FieldLines {
  if (!fieldLines) throw new Error("loadValueParsers() was not awaited before the arguments were checked");
  return fieldLines;
}

const checkWith = (parse: (p: FieldLines, v: string) => unknown, field: "priority" | "urgency" | "due") => (v: string) =>
  parse(parsers(), v) === null
    ? `${field === "due" ? "DATE" : field.toUpperCase()} must be ${parsers().expectedValues(field, "en")}; got "${v}"`
    : null;

export const TICKET_ACTIONS: Record<string, TicketAction> = {
  take: { command: "#take", summary: "take the ticket: you work on it", text: "none" },
  ask: { command: "#ask", summary: "ask the requester a question; the ticket waits for the answer", text: "required" },
  assign: {
    command: "#assign",
    summary: "hand the ticket to a colleague or a department",
    value: { name: "COLLEAGUE|DEPARTMENT" },
    text: "optional",
  },
  note: { command: "#note", summary: "add an internal note (never sent to the requester)", text: "required" },
  priority: {
    command: "#priority",
    summary: "set the priority",
    value: { name: "PRIORITY", check: checkWith((p, v) => p.parsePriority(v), "priority") },
    text: "none",
  },
  urgency: {
    command: "#urgency",
    summary: "set the urgency",
    value: { name: "URGENCY", check: checkWith((p, v) => p.parseUrgency(v), "urgency") },
    text: "none",
  },
  due: {
    command: "#due",
    summary: "set the due date",
    value: { name: "DATE", check: checkWith((p, v) => p.parseDate(v, new Date()), "due") },
    text: "none",
  },
  resolve: { command: "#resolve", summary: "resolve the ticket; the text is the resolution the requester gets", text: "optional" },
  reopen: { command: "#reopen", summary: "reopen a resolved ticket", text: "none" },
};

/** The agent's mail the operator would have sent: commands on top, text below. */
function terminalMail(config: TicketpostConfig, from: string, ticketId: number, action: string, body: string): Buffer {
  return Buffer.from(
    [
      `From: ${from}`,
      `To: ${config.supportAddress}`,
      `Subject: [#${config.referencePrefix}-${ticketId}] ${action} (terminal)`,
      `Message-ID: <terminal.${Date.now().toString(36)}.${randomBytes(6).toString("hex")}@${config.messageIdDomain}>`,
      `Date: ${new Date().toUTCString()}`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      body,
    ].join("\r\n"),
  );
}

/** One line per change; a resolution says what the requester is told, not "resolved" a second time. */
function changeLines(changes: Change[], resolution: string | null, describe: (c: Change) => string): string[] {
  return changes.map((c) => (c.kind === "resolution" ? `resolution: ${resolution?.split("\n")[0] ?? "(no text)"}` : describe(c)));
}

function actionCommand(name: string, spec: TicketAction): Command {
  const args: ArgSpec[] = [{ name: "ID" }, ...(spec.value ? [spec.value] : [])];
  return defineCommand({
    name: `tickets ${name}`,
    args,
    summary: spec.summary,
    options: {
      as: { type: "string", value: "AGENT", required: true, help: "the agent the action is done as" },
      ...(spec.text === "none"
        ? {}
        : { text: { type: "string", value: "TEXT", required: spec.text === "required", help: "the text, in quotes" } }),
      ...SEND_OPTIONS,
    },
    exclusive: [["send", "no-send"]],
    help: `Does what the mail command ${spec.command} does, as agent AGENT: the same code handles it, so the
requester and the colleagues get the same mails. The confirmation is printed instead of mailed.
An action the agent may not do, or one from an address that is not an agent, changes nothing
and exits 1 with "ticketpost: EREFUSED: why".`,
    async run(call) {
      const [{ Ticket }, { describeChange }, { runTerminalAction }, { closeDb, directoryOf, openGateway, sendQueuedNow }] =
        await Promise.all([
          import("../../db/entities.js"),
          import("../../notify/change-text.js"),
          import("../../tickets/terminal.js"),
          import("../gateway.js"),
        ]);
      const config = call.config();
      // --as is required, so the dispatcher has checked that it is there.
      const opts = call.opts as { as: string; text?: string; send?: boolean; "no-send"?: boolean };
      const ticketId = parseTicketId(call.args[0], config.referencePrefix);
      const value = call.args[1];
      const dir = directoryOf(config);
      const agent = dir.agent(opts.as);
      if (!agent) throw new TicketpostError("EREFUSED", `${opts.as} is not a configured agent (a member of a department); nothing changed`);

      const ctx = await openGateway(config, call.logger());
      try {
        if (!(await ctx.db.getRepository(Ticket).exists({ where: { id: ticketId } })))
          throw new TicketpostError("ENOTFOUND", `no ticket ${config.referencePrefix}-${ticketId}`);
        const raw = terminalMail(config, agent.address, ticketId, name, `${spec.command}${value ? ` ${value}` : ""}\n${opts.text ?? ""}\n`);
        const result = await runTerminalAction(ctx, ticketId, raw);
        if (result.commandErrors.length) throw new TicketpostError("EREFUSED", `nothing changed: ${result.commandErrors.join("; ")}`);
        const describe = (c: Change) => describeChange(c, "en", (id) => dir.departmentName(id, "en") ?? id);
        const resolution = spec.command === "#resolve" ? (opts.text ?? null) : null;
        const lines = changeLines(result.changes, resolution, describe).map((l) => `  ${l}`);
        const mailed = result.notified.map((n) => `  mail: ${n.replace("→", " to ")}`);
        print(`${config.referencePrefix}-${ticketId}: ${name} done as ${agent.address}\n${[...lines, ...mailed].join("\n")}\n`);
        await sendQueuedNow(config, ctx, sendChoice(opts));
        return 0;
      } finally {
        await closeDb(ctx.db);
      }
    },
  });
}

/** `ticketpost tickets take|ask|assign|…`: one registry entry per action. */
export const ticketActions: Command[] = Object.entries(TICKET_ACTIONS).map(([name, spec]) => actionCommand(name, spec));
