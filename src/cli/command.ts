import type { TicketpostConfig } from "../config/schema.js";
import { TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";

/*
 * The shape of one CLI command. Each command lives in its own file under commands/, declares its
 * arguments and options here, and the registry lists them; the dispatcher parses and validates
 * against this declaration before the command runs, and the help is rendered from it, so the
 * help cannot name an option the parser does not know.
 */

/** One option, as node:util parseArgs takes it, plus what the help and the validation need. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** The placeholder the help shows after a string option: `--status STATUS`. */
  value?: string;
  /** The only values a string option accepts; anything else is a usage error naming these. */
  choices?: readonly string[];
  /** The command cannot run without it (an empty string counts as missing). */
  required?: boolean;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** A positional argument after the command name. */
export interface ArgSpec {
  name: string;
  optional?: boolean;
  /** Takes every remaining positional; only the last argument may. */
  variadic?: boolean;
  /** Says what is wrong with a value ("PRIORITY must be low, normal, …; got …"), or null. */
  check?(value: string): string | null;
}

type ValueOf<S extends OptionSpec> = S["type"] extends "boolean" ? boolean | undefined : string | undefined;
export type OptionValues<O extends OptionSpecs> = { [K in keyof O]: ValueOf<O[K]> };

/** What a command gets when it runs: validated arguments, and the configuration on first use. */
export interface Invocation<O extends OptionSpecs = OptionSpecs> {
  /** The positionals after the command name, checked against `args`. */
  args: string[];
  opts: OptionValues<O>;
  /** Loads the configuration (--config, TICKETPOST_CONFIG, ./config/ticketpost.json) once. */
  config(): TicketpostConfig;
  /** The logger the configuration asks for: JSON lines, or readable lines on a terminal. */
  logger(): Logger;
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  /** One or two words: `migrate`, `tickets list`. */
  name: string;
  args?: readonly ArgSpec[];
  options?: O;
  /** Options that exclude each other, e.g. `--send` and `--no-send`. */
  exclusive?: ReadonlyArray<readonly [keyof O & string, keyof O & string]>;
  /** One line for `ticketpost --help`. */
  summary: string;
  /** What `ticketpost NAME --help` says below the usage line. */
  help: string;
  /** Runs the command; resolves to the exit code. Errors thrown carry a TicketpostError code. */
  run(call: Invocation<O>): Promise<number>;
  /**
   * The exit code for an error the command did not handle, when the default (2 for usage and
   * configuration, 1 for the rest) is wrong for its caller, as for a mail server's pipe.
   */
  exitCodeFor?(err: TicketpostError): number;
}

/**
 * Declares a command with its options typed; the registry holds them erased to the common shape.
 * The cast is sound because the dispatcher builds `opts` from the same `options` record.
 */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command {
  return command as unknown as Command;
}

/** A usage error: exit 2 and one line on stderr. */
export function usage(message: string): never {
  throw new TicketpostError("EUSAGE", message);
}

/** The options of `--json` commands, shared so that every command words it alike. */
export const JSON_OPTION = { json: { type: "boolean", help: "print JSON instead of text" } } as const satisfies OptionSpecs;

/** `--send` / `--no-send` for commands that may send the mail they queue. */
export const SEND_OPTIONS = {
  send: { type: "boolean", help: "send the queued notifications now, even while a gateway daemon runs" },
  "no-send": { type: "boolean", help: "leave them queued for the daemon, even when none runs" },
} as const satisfies OptionSpecs;

/** true/false when --send/--no-send was given, null to let the command decide. */
export function sendChoice(opts: { send?: boolean; "no-send"?: boolean }): boolean | null {
  return opts.send ? true : opts["no-send"] ? false : null;
}

/** Writes command output to stdout. The process exits only after it has drained (see main.ts). */
export function print(text: string): void {
  process.stdout.write(text);
}

/** Writes a value as JSON; `pretty` indents it for people reading it in a terminal or a file. */
export function printJson(value: unknown, pretty = true): void {
  process.stdout.write(JSON.stringify(value, null, pretty ? 2 : undefined) + "\n");
}
