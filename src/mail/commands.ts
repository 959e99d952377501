import type { Priority, Urgency } from "../tickets/levels.js";
import { splitLines } from "./lines.js";
import { expectedValues, foldSpelling, parseDate, parsePriority, parseUrgency } from "./field-lines.js";

/*
 * Agents steer a ticket with "#command" lines at the top of their mail. The "#" is required,
 * so ordinary text is never taken for a command; only the top counts, so a quoted "#resolve"
 * further down does nothing. Value parsing is field-lines.ts's, so "#priority hoch" and
 * "Priorität: hoch" mean the same.
 */

type CommandBody =
  | { kind: "take" }
  | { kind: "ask" }
  | { kind: "assign"; target: string }
  | { kind: "note" }
  | { kind: "priority"; value: Priority }
  | { kind: "urgency"; value: Urgency }
  | { kind: "due"; value: string /* YYYY-MM-DD */ }
  | { kind: "resolve" }
  | { kind: "reopen" }
  | { kind: "done" }
  | { kind: "files" }
  | { kind: "cc"; action: "add" | "remove"; address: string }
  | { kind: "merge"; target: string /* a ticket tag as written: T-12-k7f2q */ }
  | { kind: "queue" };

/** One command; `source` is the command as written ("#priority hoch"), for confirmations and errors. */
export type Command = CommandBody & { source: string };
export type CommandKind = Command["kind"];

export interface CommandHelp {
  kind: CommandKind;
  /** Spellings, with the "#", as an agent types them. */
  en: string[];
  de: string[];
  /** What follows the command on its line; "" when nothing may. */
  args: string;
  description: string;
}

export interface ParsedCommands {
  commands: Command[];
  /** The message text below the command lines, exactly as written. */
  rest: string;
  /** One sentence per command that was not understood; no command is produced for it. */
  errors: string[];
}

/** The one list of commands: the parser reads its spellings, README and error mails print it. */
export const COMMAND_HELP: ReadonlyArray<CommandHelp> = [
  {
    kind: "take",
    en: ["#take"],
    de: ["#übernehmen", "#uebernehmen"],
    args: "",
    description: "take the ticket: you become the assignee and it is in progress",
  },
  {
    kind: "ask",
    en: ["#ask"],
    de: ["#frage"],
    args: "",
    description: "your text below goes to the requester as a question; the ticket waits for the answer",
  },
  {
    kind: "assign",
    en: ["#assign"],
    de: ["#zuweisen"],
    args: "<colleague's address or name | department>",
    description: "hand the ticket to a colleague or a department",
  },
  {
    kind: "note",
    en: ["#note"],
    de: ["#notiz"],
    args: "",
    description: "your text below is an internal note; the requester never sees it",
  },
  {
    kind: "priority",
    en: ["#priority"],
    de: ["#priorität", "#prioritaet"],
    args: "low | normal | high | critical (niedrig | normal | hoch | kritisch)",
    description: "set the priority",
  },
  {
    kind: "urgency",
    en: ["#urgency"],
    de: ["#dringlichkeit"],
    args: "1–5 | change-request | minor | impaired | blocked | system-down",
    description: "set the urgency, from a small change request (1) to the whole system down (5)",
  },
  {
    kind: "due",
    en: ["#due"],
    de: ["#fällig", "#faellig"],
    args: "<date: 2026-12-03, 03.12.2026, tomorrow, next friday, morgen, in 3 Tagen>",
    description: "set the due date",
  },
  {
    kind: "resolve",
    en: ["#resolve"],
    de: ["#lösen", "#loesen", "#gelöst", "#geloest"],
    args: "",
    description: "resolve the ticket; your text below is the resolution the requester receives",
  },
  {
    kind: "reopen",
    en: ["#reopen"],
    de: ["#wiedereröffnen", "#wiedereroeffnen", "#wieder"],
    args: "",
    description: "reopen a resolved ticket",
  },
  {
    kind: "done",
    en: ["#done"],
    de: ["#erledigt"],
    args: "",
    description:
      "on a new mail: record work already done (created resolved, assigned to you, nobody acknowledged); on a ticket: like #resolve",
  },
  {
    kind: "files",
    en: ["#files"],
    de: ["#dateien"],
    args: "",
    description:
      "mails you the ticket's files, in parts of at most notify.maxAttachmentBytes (status mails list them when they are too large to attach)",
  },
  {
    kind: "cc",
    en: ["#cc"],
    de: ["#kopie"],
    args: "add | remove <address> (hinzufügen | entfernen)",
    description: "put someone in copy of every public mail of the ticket, or take them off",
  },
  {
    kind: "merge",
    en: ["#merge"],
    de: ["#zusammenführen", "#zusammenfuehren"],
    args: "<ticket tag, e.g. T-12-k7f2q>",
    description: "fold this ticket into that one (messages, people, files); this one is closed",
  },
  {
    kind: "queue",
    en: ["#queue"],
    de: ["#warteschlange"],
    args: "",
    description: "sent alone to the support address: answered with your departments' open tickets in work order",
  },
];

const BY_SPELLING = new Map<string, CommandKind>(
  COMMAND_HELP.flatMap((h) => [...h.en, ...h.de].map((s): [string, CommandKind] => [foldSpelling(s.slice(1)), h.kind])),
);

type Reading = { body: CommandBody } | { error: string };
type ArgReader = (arg: string, ref: Date) => Reading;

function noArgument(kind: "take" | "ask" | "note" | "resolve" | "reopen" | "done" | "files" | "queue"): ArgReader {
  // "#resolve fixed the toner" would otherwise lose "fixed the toner": say where the text goes.
  return (arg) =>
    arg === "" ? { body: { kind } } : { error: `#${kind} takes nothing after it on the line; write your text below the command lines` };
}

const ARGUMENTS: Record<CommandKind, ArgReader> = {
  take: noArgument("take"),
  ask: noArgument("ask"),
  note: noArgument("note"),
  resolve: noArgument("resolve"),
  reopen: noArgument("reopen"),
  done: noArgument("done"),
  files: noArgument("files"),
  queue: noArgument("queue"),
  cc: readCc,
  merge: (arg) => {
    // "[#T-12-k7f2q]", "#T-12-k7f2q" and "T-12-k7f2q" all name the ticket; checking the tag is the workflow's.
    const target = arg
      .replace(/^\[?#?/, "")
      .replace(/\]$/, "")
      .trim();
    return /^[A-Za-z]{1,6}-\d{1,9}(?:-[0-9A-Za-z]{1,12})?$/.test(target)
      ? { body: { kind: "merge", target } }
      : {
          error:
            arg === ""
              ? "expected the tag of the ticket to merge into (e.g. T-12-k7f2q)"
              : `"${arg}" is not a ticket tag (e.g. T-12-k7f2q)`,
        };
  },
  assign: (arg) => {
    // Mail clients turn a typed address into "<bob@example.com>" or a mailto: link.
    const target = arg
      .replace(/^<(.*)>$/, "$1")
      .replace(/^mailto:/i, "")
      .trim();
    return target === ""
      ? { error: "expected a colleague's address or name, or a department, after #assign" }
      : { body: { kind: "assign", target } };
  },
  priority: (arg) => {
    const value = parsePriority(arg);
    if (value) return { body: { kind: "priority", value } };
    return {
      error:
        arg === ""
          ? `expected a priority (${expectedValues("priority", "en")})`
          : `"${arg}" is not a priority (${expectedValues("priority", "en")})`,
    };
  },
  urgency: (arg) => {
    const value = parseUrgency(arg);
    if (value) return { body: { kind: "urgency", value } };
    return {
      error:
        arg === ""
          ? `expected an urgency (${expectedValues("urgency", "en")})`
          : `"${arg}" is not an urgency (${expectedValues("urgency", "en")})`,
    };
  },
  due: (arg, ref) => {
    const value = parseDate(arg, ref);
    if (value) return { body: { kind: "due", value } };
    return {
      error: arg === "" ? `expected ${expectedValues("due", "en")}` : `"${arg}" is not a date (expected ${expectedValues("due", "en")})`,
    };
  },
};

const CC_ACTIONS: Record<string, "add" | "remove"> = {
  add: "add",
  "+": "add",
  hinzufuegen: "add",
  remove: "remove",
  "-": "remove",
  entfernen: "remove",
};

/** "#cc add bob@example.com" / "#kopie entfernen <bob@example.com>": a verb, then one address. */
function readCc(arg: string): Reading {
  const usage = "expected add or remove and an address (#cc add bob@example.com; #kopie hinzufügen / entfernen)";
  const m = /^(\S+)\s+(.+)$/.exec(arg);
  const action = m ? CC_ACTIONS[foldSpelling(m[1])] : undefined;
  if (!m || !action) return { error: arg === "" ? usage : `"${arg}": ${usage}` };
  // Mail clients turn a typed address into "<bob@example.com>" or a mailto: link.
  const address = m[2]
    .replace(/^<(.*)>$/, "$1")
    .replace(/^mailto:/i, "")
    .trim()
    .toLowerCase();
  if (!/^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(address)) return { error: `"${m[2]}" is not one mail address` };
  return { body: { kind: "cc", action, address } };
}

// "#" and a letter at the start: "#1 problem" and a Markdown "# Heading" are text.
const COMMAND_LINE = /^\s*#\p{L}/u;
const COMMAND = /^#([^\s:]+):?\s*(.*)$/su;

function readCommand(source: string, ref: Date): { command: Command } | { error: string } {
  const m = COMMAND.exec(source);
  const kind = m ? BY_SPELLING.get(foldSpelling(m[1])) : undefined;
  if (!m || !kind) {
    const known = COMMAND_HELP.map((h) => h.en[0]).join(", ");
    return { error: `${source}: unknown command (known: ${known}; German spellings too)` };
  }
  const reading = ARGUMENTS[kind](m[2].trim().replace(/\s+/g, " "), ref);
  return "error" in reading ? { error: `${source}: ${reading.error}` } : { command: { ...reading.body, source } };
}

/**
 * Reads the command lines at the top of a text until the first line that is neither a command
 * line nor blank. Blank lines between command lines are allowed: a stray empty line must not
 * turn "#note" on the next line into text sent to the requester.
 *
 * A line may hold several commands ("#take #priority high"): a new command starts wherever a
 * "#" and a letter follow whitespace, so an argument runs to the next such "#" or the line end.
 * Commands come back in the order written; applying them in order means a later one of the
 * same kind wins. A command line with an error is still removed from `rest` (it was meant for
 * the gateway, not for the requester); callers treat any error as "change nothing, tell the
 * agent", since half of an agent's commands applied surprises more than none.
 */
export function parseCommands(text: string, ref: Date): ParsedCommands {
  const lines = splitLines(text);
  const commands: Command[] = [];
  const errors: string[] = [];
  let i = 0;
  let sawCommand = false;
  for (; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    if (!COMMAND_LINE.test(line)) break;
    sawCommand = true;
    for (const source of line.split(/\s+(?=#\p{L})/u)) {
      const read = readCommand(source, ref);
      if ("error" in read) errors.push(read.error);
      else commands.push(read.command);
    }
  }
  if (!sawCommand) return { commands, rest: text, errors };
  return { commands, rest: lines.slice(i).join(""), errors };
}
