import { detectAutoReply, envelopeSender } from "../../mail/auto-reply.js";
import type { InboundMessage } from "../../mail/types.js";
import type { MailFacts, OutboundFacts } from "../facts.js";
import { step, type TrailStep } from "../trail.js";
import { planBounce } from "./bounce.js";
import type { PlanEnv } from "./env.js";
import { guardPlan } from "./guard.js";
import { planNewTicket } from "./new-ticket.js";
import { planEvent } from "./notify.js";
import { emptyPlan, failurePlan, type Plan } from "./plan.js";
import { planReply } from "./reply.js";
import { isQueueRequest, planQueue } from "./queue.js";
import { parseCommands } from "../../mail/commands.js";
import { personOf } from "../directory.js";

/**
 * What becomes of a parsed mail, decided from its facts alone (pure: no database, no network,
 * no clock). Every mail ends as exactly one of: our own mail coming back, a duplicate of a
 * stored mail, a report, a new ticket, a reply on a ticket, or Failed with its reason. The
 * guard then checks that no mail to a requester carries internal text.
 */
export function planMail(env: PlanEnv, f: MailFacts): Plan {
  return guardPlan(env, f, choosePlan(env, f));
}

function choosePlan(env: PlanEnv, f: MailFacts): Plan {
  const { classification: c } = f;
  if (c.kind === "loop") {
    const plan = emptyPlan("loop", "ignored", [...f.trail, step("apply", "ignored", "our own mail came back: dropped without an answer")]);
    return { ...plan, reason: c.reasons.join("; ") };
  }
  if (f.twin) {
    const plan = emptyPlan("duplicate", "duplicate", [...f.trail]);
    return { ...plan, duplicateOf: { messageRowId: f.twin.id, ticketId: f.twin.ticketId } };
  }
  if ((c.kind === "bounce" || c.kind === "report") && f.bounce) return planBounce(env, f);
  if (isQueueRequest(f) && f.msg.from) {
    const commands = parseCommands(f.msg.text, f.now).commands;
    if (commands.length === 1) return planQueue(env, f, env.directory.asAgent(personOf(f.msg.from))!);
  }
  if (!f.ticket) return planNewTicket(env, f, { acknowledge: !c.automatic });
  return planReply(env, f);
}

/** A mail that could not be parsed: Failed, with the reason. */
export function planUnreadable(code: "EPARSE", message: string, trail: TrailStep[]): Plan {
  return failurePlan(code, message, [...trail, step("apply", "failed", `${code}: ${message}`)]);
}

/**
 * A mail over maxMessageBytes: Failed, and one polite notice to its sender, never to a machine
 * or to ourselves, within the per-address limit. Only its header section was read.
 */
export function planOversize(
  env: PlanEnv,
  head: InboundMessage | null,
  size: number,
  maxBytes: number,
  facts: OutboundFacts,
  trail: TrailStep[],
): Plan {
  const reason = `mail is ${size} bytes; the limit is ${maxBytes}`;
  const plan = failurePlan("EOVERSIZE", reason, [...trail, step("apply", "failed", `EOVERSIZE: ${reason}`)]);
  const to = head ? (head.replyTo[0] ?? head.from) : null;
  if (!head || !to || detectAutoReply(head, envelopeSender(head)).automatic || env.directory.isOwn(to.address)) {
    plan.trail.push(step("notify", "none", "no notice: automatic or unknown sender"));
    return plan;
  }
  const why = `the message is ${Math.round(size / 1048576)} MB, more than the ${Math.round(maxBytes / 1048576)} MB we accept`;
  const sent = planEvent(env, facts, null, {
    event: "rejected",
    to: [to],
    actor: null,
    data: { text: head.subject || null, errors: [why] },
  });
  plan.ticketless = sent.notifications;
  plan.thread = { inReplyTo: head.messageId, references: head.references };
  plan.trail.push(
    step("notify", sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none", sent.lines.join(", ") || "-"),
  );
  return plan;
}
