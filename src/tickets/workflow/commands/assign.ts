import type { CommandHandler } from "../types.js";
import { mayWork, setAssignee, setDepartment, setStatus } from "../rules.js";

/**
 * #assign / #zuweisen <colleague or department>: hands the ticket over. To a colleague: they
 * become the assignee (and the ticket moves to their department if they are not in its one).
 * To a department: it becomes unassigned there, and the department's members are told.
 */
export const assign: CommandHandler<"assign"> = (t, cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (t.status === "resolved") return "the ticket is resolved; #reopen it first";
  const agent = env.dir.findAgent(cmd.target);
  if (agent) {
    if (!env.dir.isMember(agent.address, t.departmentId)) {
      const theirs = env.dir.departmentsOf(agent.address)[0];
      if (theirs) setDepartment(t, theirs.id, fx);
    }
    setAssignee(t, agent, fx);
    if (t.status === "new") setStatus(t, "in_progress", fx, env.now);
    if (agent.address !== env.actor.address)
      fx.notifications.push({ event: "assigned", to: [agent], text: env.text || null, withHistory: true });
    return null;
  }
  const dept = env.dir.department(cmd.target);
  if (dept) {
    setDepartment(t, dept.id, fx);
    setAssignee(t, null, fx);
    if (t.status !== "waiting") setStatus(t, "new", fx, env.now);
    fx.notifications.push({
      event: "assigned",
      to: env.dir.members(dept.id).filter((m) => m.address !== env.actor.address),
      text: env.text || null,
      withHistory: true,
    });
    return null;
  }
  const known = env.dir.departments.map((d) => d.id).join(", ");
  return `"${cmd.target}" is neither a colleague (an agent's address or name) nor a department (${known || "none configured"})`;
};
