import type { CommandHandler } from "../types.js";
import { mayWork } from "../rules.js";

/**
 * #cc add / #cc remove (#kopie hinzufügen / entfernen) <address>: someone is put in copy of every
 * public mail of the ticket, or taken off. Taken off is remembered: a requester copying them in
 * again does not bring them back; only an agent's #cc add does.
 */
export const cc: CommandHandler<"cc"> = (t, cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  if (env.isNew) return `${cmd.source.split(/\s/)[0]} works on a ticket: reply to one of its mails`;
  const a = cmd.address;
  const state = new Map(env.people.map((p) => [p.address, !p.removedAt]));
  for (const c of fx.participants) state.set(c.address, !c.removed);
  if (cmd.action === "remove") {
    if (a === t.requesterAddress) return `${a} is the requester: every public mail goes to them`;
    if (!state.get(a))
      return `${a} is not in copy of this ticket (in copy: ${
        [...state]
          .filter(([p, on]) => on && p !== t.requesterAddress)
          .map(([p]) => p)
          .join(", ") || "nobody"
      })`;
    fx.participants.push({ address: a, removed: true });
    fx.events.push({ action: "participant", detail: `${a} taken off` });
    fx.changes.push({ kind: "cc", action: "remove", to: a });
    return null;
  }
  if (env.dir.isOwn(a)) return `${a} is one of our own addresses`;
  if (env.dir.isAgent(a)) return `${a} is an agent: agents read the ticket's internal mails; hand it over with #assign instead`;
  // Already in copy (or the requester): nothing changes, and the confirmation must not say it did.
  if (a === t.requesterAddress || state.get(a)) return null;
  const active = [...state.values()].filter(Boolean).length;
  if (active >= env.maxParticipants) return `the ticket has ${active} participants already (limits.maxParticipants ${env.maxParticipants})`;
  fx.participants.push({ address: a, removed: false });
  fx.events.push({ action: "participant", detail: `${a} put in copy` });
  fx.changes.push({ kind: "cc", action: "add", to: a });
  return null;
};
