import type { Ticket } from "../../db/entities.js";
import { formatReference } from "../../mail/subject.js";
import { personOf } from "../directory.js";
import type { MailFacts, TicketFacts } from "../facts.js";
import { step } from "../trail.js";
import { planAgentReply } from "./agent-reply.js";
import type { PlanEnv } from "./env.js";
import { planNewTicket } from "./new-ticket.js";
import { fileOf } from "./files.js";
import { planEvent } from "./notify.js";
import { isParticipant, joiningPeople, newWords } from "./people.js";
import { keepInternal } from "./keep-internal.js";
import { emptyPlan, patchOf, stateOf, type Plan } from "./plan.js";
import { setStatus, workers } from "./rules.js";
import { emptyEffects } from "./types.js";

const DAY_MS = 24 * 3600 * 1000;

/** A mail that threads into a ticket: an automatic answer, an agent's reply (with or without commands), a stranger's or a participant's. */
export function planReply(env: PlanEnv, f: MailFacts): Plan {
  const t = f.ticket!;
  const sender = f.msg.from ? personOf(f.msg.from) : null;
  const ref = formatReference(env.tagFormat, t.row.id);
  // An out-of-office answer to one of our mails: kept for the record; it reopens nothing and tells nobody.
  if (f.classification.automatic)
    return keepInternal(
      env,
      f,
      "automatic-reply",
      "automatic mail (auto-reply) kept as an internal note; it changes nothing and gets no answer",
      null,
    );
  // The configured name, not whatever the From header says: every mail names the agent alike.
  if (sender && env.directory.isAgent(sender.address)) return planAgentReply(env, f, env.directory.asAgent(sender)!);
  if (!isParticipant(t, sender?.address) && !f.terminal) {
    const who = sender?.address ?? "(no sender)";
    if (env.safety.strangerPolicy === "new-ticket") {
      return planNewTicket(env, f, {
        acknowledge: true,
        why: [step("apply", "stranger", `${who} is not a participant of ${ref}: policy new-ticket`)],
      });
    }
    if (env.safety.strangerPolicy === "internal") {
      return keepInternal(
        env,
        f,
        "stranger",
        `${who} is not a participant of ${ref}: kept internal for the assignee, nothing sent to the requester (strangerPolicy internal)`,
        sender,
      );
    }
  }
  return requesterReply(env, f, t);
}

/** A participant's mail to the ticket (automatic mail never gets here). */
function requesterReply(env: PlanEnv, f: MailFacts, t: TicketFacts): Plan {
  const { msg, now } = f;
  const ref = formatReference(env.tagFormat, t.row.id);
  const before = stateOf(t.row);
  if (before.status === "resolved") {
    const since = now.getTime() - (before.resolvedAt ?? before.updatedAt).getTime();
    if (since > env.reopenDays * DAY_MS) {
      const why = step(
        "apply",
        "late-reply",
        `${ref} was resolved ${Math.floor(since / DAY_MS)} days ago (window ${env.reopenDays}): a new ticket refers to it`,
      );
      return planNewTicket(env, f, { acknowledge: true, related: t, why: [why] });
    }
  }
  const work = { id: t.row.id, ...before } as Ticket;
  const fx = emptyEffects();
  let event: "answer-received" | "reopened" = "answer-received";
  if (work.status === "resolved") {
    setStatus(work, work.assigneeAddress ? "in_progress" : "new", fx, now);
    work.resolution = null;
    event = "reopened";
  } else if (work.status === "waiting") {
    setStatus(work, "in_progress", fx, now);
  }
  work.updatedAt = now;
  const after = stateOf(work);
  const text = newWords(msg, t);
  const actor = msg.from ? personOf(msg.from) : null;

  const plan = emptyPlan(event === "reopened" ? "reopen" : "reply", "reply_added", [...f.trail]);
  plan.ticket = { id: t.row.id, state: after, patch: patchOf(before, after) };
  plan.message = { visibility: "public", text };
  plan.thread = { inReplyTo: msg.messageId, references: msg.references };
  plan.events = fx.events.map((e) => ({ ...e, actor: msg.from?.address ?? null }));
  // Whom a participant copies in was invited by them: their answers are a participant's, not a stranger's.
  const invited = isParticipant(t, actor?.address)
    ? [...msg.to.map((a) => ({ who: a, role: "to" as const })), ...msg.cc.map((a) => ({ who: a, role: "cc" as const }))]
    : [];
  const existing = [t.row.requesterAddress, ...t.participants.map((p) => p.address)];
  plan.participants = joiningPeople(env, existing, [...(actor ? [{ who: actor, role: "cc" as const }] : []), ...invited]);
  const sent = planEvent(env, f, after, {
    event,
    to: workers(env.directory, after),
    actor,
    data: { actor, text },
    files: msg.attachments.map(fileOf),
  });
  plan.notifications = sent.notifications;
  plan.trail.push(
    step(
      "apply",
      event === "reopened" ? "reopened" : "reply-added",
      `message from ${msg.from?.address ?? "?"} added to ${ref}${fx.events.length ? `; ${fx.events.map((e) => e.detail).join("; ")}` : ""}`,
    ),
  );
  const joined = plan.participants.filter((p) => p.who.address !== actor?.address);
  if (joined.length)
    plan.trail.push(
      step("people", "added", `${joined.map((p) => p.who.address).join(", ")} copied in by ${actor?.address ?? "?"}: now participants`),
    );
  if (invited.length && existing.length + plan.participants.length >= env.safety.maxParticipants)
    plan.trail.push(step("people", "limit", `at most ${env.safety.maxParticipants} participants (limits.maxParticipants)`));
  plan.trail.push(
    step("notify", sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none", sent.lines.join(", ") || "-"),
  );
  return plan;
}
