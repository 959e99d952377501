import { parseArgs, type ParseArgsConfig } from "node:util";
import type { TicketpostConfig } from "../config/schema.js";
import { asTicketpostError, TicketpostError } from "../shared/errors.js";
import { createLogger, type Logger } from "../shared/logger.js";
import { usage, type Command, type Invocation, type OptionSpecs, type OptionValues } from "./command.js";
import { commandHelp, GLOBAL_OPTIONS, groupHelp, mainHelp, optionWord } from "./help.js";
import { COMMANDS, prepareChecks } from "./registry.js";

type ParseOptions = NonNullable<ParseArgsConfig["options"]>;

function toParseArgs(specs: OptionSpecs): ParseOptions {
  const out: ParseOptions = {};
  for (const [name, s] of Object.entries(specs)) out[name] = s.short ? { type: s.type, short: s.short } : { type: s.type };
  return out;
}

/**
 * The words that name the command. Options may stand anywhere, so the words are found with every
 * option any command knows: `--status new tickets list` must not read "new" as a command word.
 */
function commandWords(argv: string[]): string[] {
  const all: OptionSpecs = { ...GLOBAL_OPTIONS };
  for (const c of COMMANDS) Object.assign(all, c.options);
  return parseArgs({ args: argv, options: toParseArgs(all), strict: false, allowPositionals: true }).positionals;
}

/** The command named by the longest run of leading words, e.g. "tickets list" before "tickets". */
function lookUp(words: string[]): Command | undefined {
  for (let n = Math.min(2, words.length); n > 0; n--) {
    const name = words.slice(0, n).join(" ");
    const found = COMMANDS.find((c) => c.name === name);
    if (found) return found;
  }
  return undefined;
}

function groupOf(word: string | undefined): Command[] {
  return word ? COMMANDS.filter((c) => c.name.startsWith(`${word} `)) : [];
}

/** node:util's messages name the option but speak of positionals and "--"; ours name the command. */
function parseError(err: Error & { code?: string }, c: Command): TicketpostError {
  const unknown = /Unknown option '([^']+)'/.exec(err.message);
  if (unknown) return new TicketpostError("EUSAGE", `${c.name}: unknown option ${unknown[1]} (see ticketpost ${c.name} --help)`);
  return new TicketpostError("EUSAGE", `${c.name}: ${err.message} (see ticketpost ${c.name} --help)`);
}

function checkArgs(c: Command, args: string[], opts: Record<string, unknown>): void {
  const specs = c.args ?? [];
  const required = specs.filter((a) => !a.optional && !a.variadic).length + (specs.some((a) => a.variadic && !a.optional) ? 1 : 0);
  if (args.length < required) {
    const missing = specs
      .filter((a) => !a.optional)
      .map((a) => a.name)
      .slice(Math.min(args.length, specs.length));
    usage(`${c.name} needs ${missing.join(" and ")} (see ticketpost ${c.name} --help)`);
  }
  const variadic = specs.at(-1)?.variadic === true;
  if (!variadic && args.length > specs.length) {
    const extra = args.slice(specs.length);
    const words = extra.map((w) => `"${w}"`).join(" ");
    // An unquoted --text "two words" leaves all but its first word as positionals.
    if (typeof opts.text === "string")
      usage(
        `${c.name}: unexpected ${words} after the arguments; put quotes around the whole text: --text "${[opts.text, ...extra].join(" ")}"`,
      );
    if (c.options && "text" in c.options)
      usage(`${c.name}: unexpected ${words}; a text goes after --text, in quotes: --text "${extra.join(" ")}"`);
    usage(`${c.name}: unexpected ${words} (see ticketpost ${c.name} --help)`);
  }
  specs.forEach((a, i) => {
    const given = a.variadic ? args.slice(i) : args[i] === undefined ? [] : [args[i]];
    for (const v of given) {
      const bad = a.check?.(v);
      if (bad) usage(`${c.name}: ${bad}`);
    }
  });
}

function checkOptions(c: Command, opts: Record<string, unknown>): void {
  for (const [name, spec] of Object.entries(c.options ?? {})) {
    const v = opts[name];
    if (spec.required && (v === undefined || (typeof v === "string" && v.trim() === "")))
      usage(
        `${c.name} needs ${optionWord(name, spec)}${spec.type === "string" && spec.value === "TEXT" ? ' (in quotes: --text "...")' : ""}`,
      );
    if (typeof v === "string" && spec.choices && !spec.choices.includes(v))
      usage(`${c.name}: --${name} must be one of ${spec.choices.join(", ")}; got "${v}"`);
  }
  for (const [a, b] of c.exclusive ?? []) if (opts[a] && opts[b]) usage(`${c.name}: --${a} and --${b} exclude each other; give one`);
}

/**
 * What a command gets; `loadConfig` is passed in because config/load.ts loads node-cron, which
 * `--help` and usage errors need not load.
 */
function invocation(args: string[], opts: Record<string, unknown>, loadConfig: (file?: string) => TicketpostConfig): Invocation {
  let config: TicketpostConfig | undefined;
  let logger: Logger | undefined;
  const loaded = () => (config ??= loadConfig(opts.config as string | undefined));
  return {
    args,
    opts: opts as OptionValues<OptionSpecs>,
    config: loaded,
    // JSON lines for a log collector; readable lines when a person watches a terminal.
    logger: () => (logger ??= createLogger(loaded().log.level, { service: "ticketpost" }, undefined, process.stderr.isTTY === true)),
  };
}

/** Help for `ticketpost [WORDS] --help` and `ticketpost help [WORDS]`; null when the words name nothing. */
function helpFor(words: string[]): string | null {
  if (words.length === 0) return mainHelp(COMMANDS);
  const c = lookUp(words);
  if (c) return commandHelp(c);
  const group = groupOf(words[0]);
  return group.length && words.length === 1 ? groupHelp(words[0], group) : null;
}

function unknownCommand(words: string[]): never {
  const group = groupOf(words[0]);
  if (group.length && words.length === 1)
    usage(`${words[0]}: name one of ${group.map((c) => c.name.split(" ")[1]).join(", ")} (see ticketpost ${words[0]} --help)`);
  usage(`unknown command "${words.slice(0, group.length ? 2 : 1).join(" ")}"; see ticketpost --help`);
}

async function dispatch(argv: string[], failed: { command?: Command }): Promise<number> {
  const words = commandWords(argv);
  const wantsHelp = argv.some((a) => a === "--help" || a === "-h");
  if (words[0] === "help" || wantsHelp) {
    const topic = words[0] === "help" ? words.slice(1) : words;
    const text = helpFor(topic);
    if (text === null) unknownCommand(topic);
    process.stdout.write(text);
    return 0;
  }
  if (words.length === 0) {
    process.stderr.write(mainHelp(COMMANDS));
    return 2;
  }
  const c = lookUp(words);
  if (!c) unknownCommand(words);
  failed.command = c;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: toParseArgs({ ...c.options, ...GLOBAL_OPTIONS }), strict: true, allowPositionals: true });
  } catch (err) {
    throw parseError(err as Error, c);
  }
  const args = parsed.positionals.slice(c.name.split(" ").length);
  // Arguments first: an unquoted --text leaves words behind, and that is the error to name.
  await prepareChecks(c);
  checkArgs(c, args, parsed.values);
  checkOptions(c, parsed.values);
  const { loadConfig } = await import("../config/load.js");
  return c.run(invocation(args, parsed.values, loadConfig));
}

/**
 * Runs one command line and resolves to the exit code; never exits the process, so that what
 * the command wrote can drain first. Errors become one line on stderr,
 * `ticketpost: CODE: message`, and exit 2 for usage and configuration errors, 1 for the rest
 * (unless the command maps them itself, as `ingest` does for a mail server).
 */
export async function runCommandLine(argv: string[]): Promise<number> {
  const failed: { command?: Command } = {};
  try {
    return await dispatch(argv, failed);
  } catch (err) {
    const e = asTicketpostError(err);
    process.stderr.write(`ticketpost: ${e.code}: ${e.message}\n`);
    return failed.command?.exitCodeFor?.(e) ?? (e.code === "EUSAGE" || e.code === "ECONFIG" ? 2 : 1);
  }
}
