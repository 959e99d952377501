import type { Person } from "../directory.js";
import type { MailFacts } from "../facts.js";
import { step } from "../trail.js";
import type { PlanEnv } from "./env.js";
import { fileOf } from "./files.js";
import { planEvent } from "./notify.js";
import { newWords } from "./people.js";
import { emptyPlan, stateOf, type Plan, type PlanKind } from "./plan.js";
import { workers } from "./rules.js";

/** Stores the mail on the ticket as internal, changing nothing else; a stranger's (or an unverified agent's) mail is shown to the people who work the ticket. */
export function keepInternal(
  env: PlanEnv,
  f: MailFacts,
  verdict: "automatic-reply" | "stranger" | "unverified-agent",
  detail: string,
  stranger: Person | null,
): Plan {
  const t = f.ticket!;
  const text = newWords(f.msg, t);
  const kind: PlanKind = verdict;
  const plan = emptyPlan(kind, "reply_added", [...f.trail, step("apply", verdict, detail)]);
  plan.ticket = { id: t.row.id, state: stateOf(t.row), patch: {} };
  plan.message = { visibility: "internal", text };
  plan.thread = { inReplyTo: f.msg.messageId, references: f.msg.references };
  plan.events.push({ action: verdict, detail: detail.slice(0, 500), actor: f.msg.from?.address ?? null });
  const sent = stranger
    ? planEvent(env, f, plan.ticket.state, {
        event: "stranger-reply",
        to: workers(env.directory, t.row),
        actor: stranger,
        data: { actor: stranger, text },
        files: f.msg.attachments.map(fileOf),
      })
    : { notifications: [], lines: [] };
  plan.notifications = sent.notifications;
  plan.trail.push(
    step("notify", sent.notifications.length ? "queued" : sent.lines.length ? "withheld" : "none", sent.lines.join(", ") || "nothing sent"),
  );
  return plan;
}
