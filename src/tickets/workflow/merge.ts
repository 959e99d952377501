import { formatReference } from "../../mail/subject.js";
import type { Person } from "../directory.js";
import type { MailFacts, TicketFacts } from "../facts.js";
import type { PlanEnv } from "./env.js";
import { merge as mergeResults, planEvent } from "./notify.js";
import { copiedPeople, joiningPeople } from "./people.js";
import { patchOf, stateOf, type MergePlan, type TicketState } from "./plan.js";
import { requester } from "./rules.js";

/**
 * What #merge does to the ticket it folds into: the merged ticket's requester and participants
 * join it (unless there already, or taken off there), and both requesters are told once, each
 * with their own ticket's people in copy: whoever the first mail reaches is left out of the second.
 */
export function planMerge(env: PlanEnv, f: MailFacts, agent: Person, from: TicketState & { id: number }, into: TicketFacts): MergePlan {
  const before = stateOf(into.row);
  const after = { ...before, updatedAt: f.now };
  const fromRef = formatReference(env.tagFormat, from.id);
  const fromFacts = f.ticket!;
  const existing = [into.row.requesterAddress, ...into.participants.map((p) => p.address)];
  const moving = [
    { who: requester(from), role: "cc" as const },
    ...copiedPeople(fromFacts.participants, from.requesterAddress).map((who) => ({ who, role: "cc" as const })),
  ];
  const participants = joiningPeople(env, existing, moving);
  const data = { mergedReference: fromRef, mergedTitle: from.title };

  const first = planEvent(env, f, after, {
    event: "merged",
    to: [requester(after)],
    cc: copiedPeople(into.participants, after.requesterAddress),
    actor: agent,
    data,
  });
  const told = new Set(first.notifications.flatMap((n) => [n.to.address, ...(n.cc ?? []).map((c) => c.address)]));
  const fromCopies = copiedPeople(fromFacts.participants, from.requesterAddress).filter((p) => !told.has(p.address));
  const second = told.has(from.requesterAddress.toLowerCase())
    ? planEvent(env, f, from, { event: "merged", to: fromCopies.slice(0, 1), cc: fromCopies.slice(1), actor: agent, data })
    : planEvent(env, f, from, { event: "merged", to: [requester(from)], cc: fromCopies, actor: agent, data });
  const sent = mergeResults(first, second);
  return {
    from: from.id,
    into: into.row.id,
    intoState: after,
    intoPatch: patchOf(before, after),
    participants,
    events: [{ action: "merged", detail: `${fromRef} merged in (${fromFacts.messages.length} message(s))`, actor: agent.address }],
    notifications: sent.notifications,
  };
}
