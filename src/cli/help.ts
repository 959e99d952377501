import type { ArgSpec, Command, OptionSpec, OptionSpecs } from "./command.js";

/** Options every command takes; the dispatcher adds them to each command's own. */
export const GLOBAL_OPTIONS = {
  config: {
    type: "string",
    short: "c",
    value: "FILE",
    help: "configuration file (default: $TICKETPOST_CONFIG, then ./config/ticketpost.json)",
  },
  help: { type: "boolean", short: "h", help: "this help" },
} as const satisfies OptionSpecs;

function argWord(a: ArgSpec): string {
  const body = a.variadic ? `${a.name}...` : a.name;
  return a.optional ? `[${body}]` : body;
}

/** `tickets show ID`: the name and the positionals, as the command list shows them. */
export function synopsis(c: Command): string {
  return [c.name, ...(c.args ?? []).map(argWord)].join(" ");
}

/** `--status STATUS` or `--overdue`. */
export function optionWord(name: string, o: OptionSpec): string {
  return o.type === "string" ? `--${name} ${o.value ?? "VALUE"}` : `--${name}`;
}

/** The usage line: `ticketpost tickets list [--status STATUS] [--json] [--config FILE]`. */
export function usageLine(c: Command): string {
  const own = Object.entries(c.options ?? {}).map(([name, o]) => (o.required ? optionWord(name, o) : `[${optionWord(name, o)}]`));
  return `ticketpost ${[synopsis(c), ...own, "[--config FILE]"].join(" ")}`;
}

function optionLines(options: OptionSpecs): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : "    "}${optionWord(name, o)}`;
    const right = o.choices ? `${o.help}: ${o.choices.join(", ")}` : o.help;
    return [left, right] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`);
}

/** `ticketpost NAME --help`: usage, the command's own text, and every option it takes. */
export function commandHelp(c: Command): string {
  return [`Usage: ${usageLine(c)}`, "", c.help.trimEnd(), "", "Options:", ...optionLines({ ...c.options, ...GLOBAL_OPTIONS }), ""].join(
    "\n",
  );
}

function commandList(commands: readonly Command[]): string[] {
  const width = Math.max(...commands.map((c) => synopsis(c).length)) + 2;
  return commands.map((c) => `  ${synopsis(c).padEnd(width)}${c.summary}`);
}

/** `ticketpost tickets --help`: the commands of one group, one line each. */
export function groupHelp(group: string, commands: readonly Command[]): string {
  return [
    `Usage: ticketpost ${group} SUBCOMMAND ... [--config FILE]`,
    "",
    ...commandList(commands),
    "",
    `"ticketpost ${group} SUBCOMMAND --help" shows one in full.`,
    "",
  ].join("\n");
}

/** `ticketpost --help`: every command of the registry. */
export function mainHelp(commands: readonly Command[]): string {
  return [
    "ticketpost — email-driven ticket gateway",
    "",
    "Usage: ticketpost COMMAND [options]",
    "",
    "Commands:",
    ...commandList(commands),
    "",
    "Options for every command:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    `"ticketpost COMMAND --help" shows one command in full, e.g. "ticketpost tickets list --help".`,
    "",
  ].join("\n");
}
