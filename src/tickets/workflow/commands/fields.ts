import type { Ticket } from "../../../db/entities.js";
import type { CommandEnv, CommandHandler, Effects } from "../types.js";
import { mayWork } from "../rules.js";

type FieldKind = "priority" | "urgency" | "due";
const COLUMN: Record<FieldKind, "priority" | "urgency" | "dueDate"> = { priority: "priority", urgency: "urgency", due: "dueDate" };

/** #priority, #urgency and #due each set one field; a new due date also restarts overdue notices. */
function setField(kind: FieldKind, t: Ticket, value: string, env: CommandEnv, fx: Effects): string | null {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  const column = COLUMN[kind];
  // Setting a field to the value it has changes nothing, and the confirmation must not say it did.
  if (t[column] === value) return null;
  fx.events.push({ action: kind, detail: `${t[column] ?? "-"} → ${value}` });
  t[column] = value;
  if (kind === "due") t.lastOverdueNoticeAt = null;
  fx.changes.push({ kind, to: value });
  return null;
}

export const priority: CommandHandler<"priority"> = (t, cmd, env, fx) => setField("priority", t, cmd.value, env, fx);
export const urgency: CommandHandler<"urgency"> = (t, cmd, env, fx) => setField("urgency", t, cmd.value, env, fx);
export const due: CommandHandler<"due"> = (t, cmd, env, fx) => setField("due", t, cmd.value, env, fx);
