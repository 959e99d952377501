import type { CommandHandler } from "../types.js";
import { requester, setAssignee, setStatus } from "../rules.js";

/** #take / #übernehmen: the agent becomes the assignee; the requester learns who handles it. */
export const take: CommandHandler<"take"> = (t, _cmd, env, fx) => {
  if (t.status === "resolved" && !env.isNew) return "the ticket is resolved; #reopen it first";
  if (!env.dir.isMember(env.actor.address, t.departmentId) && t.assigneeAddress !== env.actor.address) {
    const d = env.dir.department(t.departmentId);
    return `only members of department "${d?.id ?? "?"}" (${d?.members.join(", ") ?? "-"}) can take this ticket; one of them can hand it to you with #assign ${env.actor.address}`;
  }
  setAssignee(t, env.actor, fx);
  setStatus(t, "in_progress", fx, env.now);
  fx.notifications.push({ event: "taken", to: [requester(t)], text: null });
  return null;
};
