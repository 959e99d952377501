import type { CommandHandler } from "../types.js";
import { mayWork, requester, setAssignee, setDepartment, setStatus } from "../rules.js";

/** #resolve / #lösen: resolved with the text below as the resolution, which the requester receives. */
export const resolve: CommandHandler<"resolve"> = (t, _cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (t.status === "resolved") return "the ticket is already resolved";
  if (!t.assigneeAddress) setAssignee(t, env.actor, fx);
  setStatus(t, "resolved", fx, env.now);
  t.resolution = env.text.trim() || null;
  fx.changes.push({ kind: "resolution" });
  if (t.requesterAddress !== env.actor.address) fx.notifications.push({ event: "resolved", to: [requester(t)], text: t.resolution });
  return null;
};

/**
 * #done / #erledigt: on a new mail, records work already done: the ticket is created resolved and
 * assigned to the sender, with no acknowledgement. On an existing ticket it resolves, like #resolve.
 */
export const done: CommandHandler<"done"> = (t, cmd, env, fx) => {
  if (!env.isNew) return resolve(t, { kind: "resolve", source: cmd.source }, env, fx);
  if (!env.dir.isMember(env.actor.address, t.departmentId)) {
    const theirs = env.dir.departmentsOf(env.actor.address)[0];
    if (theirs) setDepartment(t, theirs.id, fx);
  }
  setAssignee(t, env.actor, fx);
  setStatus(t, "resolved", fx, env.now);
  t.resolution = env.text.trim() || null;
  fx.changes.push({ kind: "resolution" });
  return null;
};

/** #reopen / #wiedereröffnen: back to work (in progress when assigned, else new). */
export const reopen: CommandHandler<"reopen"> = (t, _cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (t.status !== "resolved") return "the ticket is not resolved";
  setStatus(t, t.assigneeAddress ? "in_progress" : "new", fx, env.now);
  t.resolution = null;
  return null;
};
