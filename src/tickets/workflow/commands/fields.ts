import type { CommandHandler } from "../types.js";
import { mayWork } from "../rules.js";

/** #priority, #urgency and #due: set one field each. */
export const priority: CommandHandler<"priority"> = (t, cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (t.priority !== cmd.value) {
    fx.events.push({ action: "priority", detail: `${t.priority} → ${cmd.value}` });
    t.priority = cmd.value;
  }
  fx.changes.push({ kind: "priority", to: cmd.value });
  return null;
};

export const urgency: CommandHandler<"urgency"> = (t, cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (t.urgency !== cmd.value) {
    fx.events.push({ action: "urgency", detail: `${t.urgency} → ${cmd.value}` });
    t.urgency = cmd.value;
  }
  fx.changes.push({ kind: "urgency", to: cmd.value });
  return null;
};

export const due: CommandHandler<"due"> = (t, cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (t.dueDate !== cmd.value) {
    fx.events.push({ action: "due", detail: `${t.dueDate ?? "-"} → ${cmd.value}` });
    t.dueDate = cmd.value;
    t.lastOverdueNoticeAt = null;
  }
  fx.changes.push({ kind: "due", to: cmd.value });
  return null;
};
