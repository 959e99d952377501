import type { Ticket } from "../../db/entities.js";
import { parseCommands } from "../../mail/commands.js";
import { formatReference } from "../../mail/subject.js";
import type { Person } from "../directory.js";
import type { MailFacts, TicketFacts } from "../facts.js";
import { step, type TrailStep } from "../trail.js";
import { runCommands } from "./commands/index.js";
import type { PlanEnv } from "./env.js";
import { fileOf, ticketFiles } from "./files.js";
import { commandMails, historyOf, merge, planEvent, type NotifyResult } from "./notify.js";
import { planMerge } from "./merge.js";
import { copiedPeople, newWords } from "./people.js";
import { keepInternal } from "./keep-internal.js";
import { emptyPlan, patchOf, stateOf, type Plan } from "./plan.js";
import { requester, workers } from "./rules.js";
import { emptyEffects } from "./types.js";

/**
 * An agent's mail to a ticket: commands on top (run on a copy; any error discards them all),
 * the text below them. Without commands the text is a public answer to the requester, but only
 * when the mail is authenticated: a forged answer in our name stays internal.
 */
export function planAgentReply(env: PlanEnv, f: MailFacts, agent: Person): Plan {
  const t = f.ticket!;
  const { msg, now } = f;
  const ref = formatReference(env.tagFormat, t.row.id);
  const parsed = parseCommands(newWords(msg, t), now);
  const isCommandMail = parsed.commands.length > 0 || parsed.errors.length > 0;
  const auth = f.terminal
    ? { ok: true, reason: "given at the terminal by the operator" }
    : (f.agentAuth ?? { ok: false, reason: "the mail was not checked" });
  const trail: TrailStep[] = [...f.trail];

  let errors = [...parsed.errors];
  if (isCommandMail) {
    trail.push(
      step("commands", auth.ok ? "agent" : "unverified", `${parsed.commands.map((c) => c.source).join(", ") || "-"}; ${auth.reason}`),
    );
    if (!auth.ok) errors = [`commands ignored: ${auth.reason}`];
  } else if (!auth.ok) {
    // A plain answer goes to the customer in our name: a forged one must not.
    return keepInternal(
      env,
      f,
      "unverified-agent",
      `mail in the name of agent ${agent.address} is not authenticated (${auth.reason}): kept internal, not sent to the requester`,
      agent,
    );
  }

  const before = stateOf(t.row);
  const work = { id: t.row.id, ...before } as Ticket;
  const fx = emptyEffects();
  const cmdEnv = {
    dir: env.directory,
    actor: agent,
    now,
    text: parsed.rest,
    isNew: false,
    people: t.participants,
    others: f.others,
    tagFormat: env.tagFormat,
    maxParticipants: env.safety.maxParticipants,
  };
  if (isCommandMail && errors.length === 0) errors = runCommands(work, parsed.commands, cmdEnv, fx);
  if (errors.length > 0)
    return commandErrorPlan(env, f, agent, parsed.rest, errors, [
      ...trail,
      step("apply", "command-error", `nothing changed on ${ref}: ${errors.join("; ")}`),
    ]);

  const kinds = new Set(parsed.commands.map((c) => c.kind));
  const text = parsed.rest.trim();
  let visibility: "public" | "internal" = "internal";
  if (kinds.has("note")) {
    // The assignee reads notes; while nobody has the ticket (or the assignee wrote it), the department does.
    const readers = workers(env.directory, work).filter((p) => p.address !== agent.address);
    fx.notifications.push({ event: "note", to: readers.length ? readers : env.directory.members(work.departmentId), text });
  } else if (kinds.has("ask") || kinds.has("resolve") || kinds.has("done")) {
    visibility = "public";
  } else if (kinds.has("assign") || kinds.has("merge")) {
    // The text below #assign is the handover message for the new assignee (it rides in the
    // "assigned" mail); mailing it to the requester as an answer leaked internal words. Below
    // #merge it is the agent's reason, for the record.
  } else if (text) {
    // A plain answer (no command, or only #take, #reopen and field commands): it goes to the requester.
    visibility = "public";
    fx.changes.push({ kind: "answer", to: work.requesterAddress });
    fx.notifications.push({ event: "agent-reply", to: [requester(work)], text });
  }
  work.updatedAt = now;
  const after = stateOf(work);
  const plan = emptyPlan(isCommandMail ? "commands" : "agent-answer", "reply_added", trail);
  plan.ticket = { id: t.row.id, state: after, patch: patchOf(before, after) };
  plan.message = { visibility, text: parsed.rest };
  plan.thread = { inReplyTo: msg.messageId, references: msg.references };
  plan.events = fx.events.map((e) => ({ ...e, actor: agent.address }));
  plan.changes = fx.changes;
  const people = peopleChanges(t, fx.participants);
  plan.participants = people.inserts;
  plan.participantUpdates = people.updates;
  if (fx.merge) plan.merge = planMerge(env, f, agent, { id: t.row.id, ...after }, fx.merge);
  const history = historyOf(t.messages);
  const own = msg.attachments.map(fileOf);
  const copied = copiedPeople(t.participants, work.requesterAddress, fx.participants);
  const results: NotifyResult[] = fx.notifications.map((n) =>
    commandMails(env, f, after, n, agent, history, own, ticketFiles(t.attachments), copied),
  );
  // #files alone is answered by the files themselves; a confirmation would only repeat it.
  const onlyFiles = parsed.commands.length > 0 && parsed.commands.every((c) => c.kind === "files");
  if (isCommandMail && !f.terminal && !onlyFiles)
    results.push(
      planEvent(env, f, after, { event: "command-confirmation", to: [agent], actor: agent, toActor: true, data: { changes: fx.changes } }),
    );
  const sent = merge(...results);
  plan.notifications = sent.notifications;
  trail.push(
    step(
      "apply",
      isCommandMail ? "commands-applied" : "agent-answer",
      `${ref}: ${fx.events.map((e) => `${e.action} ${e.detail}`).join("; ") || (visibility === "public" ? "public answer" : "stored")}`,
    ),
  );
  if (fx.participants.length)
    trail.push(
      step(
        "people",
        "changed",
        `by ${agent.address}: ${fx.participants.map((c) => `${c.removed ? "taken off" : "in copy"} ${c.address}`).join(", ")}`,
      ),
    );
  if (plan.merge)
    trail.push(
      step(
        "people",
        "merged",
        `${ref} into ${formatReference(env.tagFormat, plan.merge.into)}: its messages and ${plan.merge.participants.length} new participant(s) move; ${plan.merge.notifications.map((n) => `merged→${n.to.address}${n.cc?.length ? ` (cc ${n.cc.map((c) => c.address).join(", ")})` : ""}`).join(", ") || "nobody told"}`,
      ),
    );
  trail.push(step("notify", sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none", sent.lines.join(", ") || "-"));
  return plan;
}

/** #cc changes as rows: someone new is inserted; someone known (taken off before, or being taken off) is updated. */
function peopleChanges(
  t: TicketFacts,
  changes: Array<{ address: string; removed: boolean }>,
): { inserts: Plan["participants"]; updates: Plan["participantUpdates"] } {
  const stored = new Set(t.participants.map((p) => p.address));
  const last = new Map(changes.map((c) => [c.address, c.removed]));
  const inserts = [...last]
    .filter(([a, removed]) => !stored.has(a) && !removed)
    .map(([address]) => ({ who: { address, name: null }, role: "cc" as const }));
  const updates = [...last].filter(([a]) => stored.has(a)).map(([address, removed]) => ({ address, removed }));
  return { inserts, updates };
}

/**
 * The agent's mail changed nothing: it is kept as an internal message, and the agent (only) is
 * told why. At the terminal nothing is stored; the errors are printed.
 */
export function commandErrorPlan(
  env: PlanEnv,
  f: MailFacts,
  agent: Person,
  text: string,
  errors: string[],
  trail: TrailStep[],
  kind: "command-error" | "held-back" = "command-error",
): Plan {
  const t = f.ticket!;
  const plan = emptyPlan(kind, "reply_added", trail);
  plan.commandErrors = errors;
  if (f.terminal) return plan;
  plan.ticket = { id: t.row.id, state: stateOf(t.row), patch: {} };
  plan.message = { visibility: "internal", text };
  plan.thread = { inReplyTo: f.msg.messageId, references: f.msg.references };
  const sent = planEvent(env, f, plan.ticket.state, { event: "command-error", to: [agent], actor: agent, toActor: true, data: { errors } });
  plan.notifications = sent.notifications;
  trail.push(step("notify", sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none", sent.lines.join(", ") || "-"));
  return plan;
}
