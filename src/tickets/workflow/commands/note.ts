import type { CommandHandler } from "../types.js";
import { mayWork } from "../rules.js";

/** #note / #notiz: the text stays internal; the assignee or the department reads it, never the requester. */
export const note: CommandHandler<"note"> = (t, _cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (!env.text.trim()) return "#note needs the note as text below the command lines";
  fx.changes.push({ kind: "note" });
  fx.events.push({ action: "note", detail: "internal note added" });
  return null;
};
