import type { CommandHandler } from "../types.js";
import { mayWork, requester, setStatus } from "../rules.js";

/** #ask / #frage: the text below goes to the requester as a question; the ticket waits for them. */
export const ask: CommandHandler<"ask"> = (t, _cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (t.status === "resolved") return "the ticket is resolved; #reopen it first";
  if (!env.text.trim()) return "#ask needs the question as text below the command lines";
  setStatus(t, "waiting", fx, env.now);
  fx.changes.push({ kind: "question", to: t.requesterAddress });
  fx.notifications.push({ event: "question", to: [requester(t)], text: env.text });
  return null;
};
