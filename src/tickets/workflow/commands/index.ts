import type { Command } from "../../../mail/commands.js";
import type { CommandEnv, CommandHandler, Effects } from "../types.js";
import type { Ticket } from "../../../db/entities.js";
import { ask } from "./ask.js";
import { assign } from "./assign.js";
import { due, priority, urgency } from "./fields.js";
import { files } from "./files.js";
import { note } from "./note.js";
import { done, reopen, resolve } from "./resolve.js";
import { take } from "./take.js";
import { cc } from "./cc.js";
import { merge } from "./merge.js";
import { queue } from "./queue.js";

/** Every mail command, by kind: the one list a new command is added to. */
export const COMMAND_HANDLERS: { [K in Command["kind"]]: CommandHandler<K> } = {
  take,
  ask,
  assign,
  note,
  priority,
  urgency,
  due,
  resolve,
  reopen,
  done,
  files,
  cc,
  merge,
  queue,
};

/** Runs the commands in order on the ticket; stops at the first error (the caller then discards everything). */
export function runCommands(t: Ticket, commands: Command[], env: CommandEnv, fx: Effects): string[] {
  const errors: string[] = [];
  for (const cmd of commands) {
    const handler = COMMAND_HANDLERS[cmd.kind] as CommandHandler<typeof cmd.kind>;
    const err = handler(t, cmd as never, env, fx);
    if (err) errors.push(`${cmd.source}: ${err}`);
  }
  return errors;
}
