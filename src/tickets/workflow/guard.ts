import { formatReference } from "../../mail/subject.js";
import { personOf } from "../directory.js";
import type { MailFacts } from "../facts.js";
import { findInternalText } from "../internal-guard.js";
import { step } from "../trail.js";
import { commandErrorPlan } from "./agent-reply.js";
import { internalFiles } from "./files.js";
import type { PlanEnv } from "./env.js";
import type { Plan, PlannedNotification } from "./plan.js";

/*
 * "Nothing internal reaches a requester": the last check on every plan. Quote stripping can fail
 * on a client nobody has seen; this must not. Before a mail to anyone who is not an agent is
 * queued, the words a person wrote into it are compared with the ticket's internal text: notes,
 * mails kept internal (strangers, unauthenticated agents, auto-replies, reports) and what our
 * internal notifications said beyond what the requester already knows. The same holds for files:
 * one that came only in internal mail is never attached to (or listed in) their mail.
 */

function personText(n: PlannedNotification): string | null {
  return "text" in n.data ? n.data.text : null;
}

/** The ticket's internal texts, and what its requester already knows (their own words, what we sent them). */
function ticketTexts(f: MailFacts): { internal: string[]; known: string[] } {
  const t = f.ticket!;
  return {
    internal: t.messages.filter((m) => m.visibility === "internal").map((m) => m.text),
    known: [t.row.title, t.row.description, ...t.messages.filter((m) => m.visibility === "public").map((m) => m.text)],
  };
}

/** Files a mail to a non-agent would carry (attached or listed) that came only in internal mail. */
function internalFilesIn(n: PlannedNotification, secret: Set<string>): string[] {
  return [...(n.files?.attach ?? []), ...(n.files?.list ?? [])]
    .filter((file) => secret.has(file.sha256))
    .map((file) => `file ${file.filename}`);
}

/** The plan as it may go out: unchanged when it carries no internal text, and no internal mail's file, to a non-agent. */
export function guardPlan(env: PlanEnv, f: MailFacts, plan: Plan): Plan {
  if (!f.ticket || plan.notifications.length === 0) return plan;
  const { internal, known } = ticketTexts(f);
  const secret = internalFiles(f.ticket.attachments);
  if (internal.length === 0 && secret.size === 0) return plan;
  const leaks: Array<{ n: PlannedNotification; to: string; line: string }> = [];
  for (const n of plan.notifications) {
    // A participant in copy reads the mail exactly as the requester does.
    const outsiders = [n.to, ...(n.cc ?? [])].filter((p) => !env.directory.isAgent(p.address));
    if (outsiders.length === 0) continue;
    for (const line of internalFilesIn(n, secret)) for (const p of outsiders) leaks.push({ n, to: p.address, line });
    const text = personText(n);
    if (!text || internal.length === 0) continue;
    for (const hit of findInternalText(text, internal, known)) for (const p of outsiders) leaks.push({ n, to: p.address, line: hit.line });
  }
  if (leaks.length === 0) return plan;

  const ref = formatReference(env.tagFormat, f.ticket.row.id);
  const quoted = [...new Set(leaks.map((l) => l.line))]
    .slice(0, 3)
    .map((l) => `"${l.length > 90 ? `${l.slice(0, 87)}...` : l}"`)
    .join(", ");
  const to = [...new Set(leaks.map((l) => l.to))].join(", ");
  const detail = `the mail to ${to} would have carried internal text or files of ${ref} (${quoted}): nothing was sent, nothing changed, the mail is kept as an internal note`;
  const sender = f.msg.from ? personOf(f.msg.from) : null;
  const agent = sender ? env.directory.asAgent(sender) : null;
  const trail = [...f.trail, step("guard", "held-back", detail)];
  if (agent) {
    const files = leaks.some((l) => l.line.startsWith("file "))
      ? " Attach no file that came in an internal mail (a note, a stranger's or an unverified mail)."
      : "";
    const advice = `${detail}. Send your answer again without the quoted internal mail: reply to the requester's mail instead, or delete the quote below your text.${files}`;
    const held = commandErrorPlan(
      env,
      f,
      agent,
      plan.message?.text ?? "",
      [advice],
      [...trail, step("apply", "command-error", `held back on ${ref}`)],
      "held-back",
    );
    held.events = f.terminal ? [] : [{ action: "held-back", detail: detail.slice(0, 1000), actor: agent.address }];
    return held;
  }
  // No agent wrote it (nothing else puts a person's words into a public mail today): the mails are dropped, the rest stands.
  const kept = plan.notifications.filter((n) => !leaks.some((l) => l.n === n));
  return {
    ...plan,
    notifications: kept,
    message: plan.message ? { ...plan.message, visibility: "internal" } : null,
    trail: [...plan.trail, step("guard", "held-back", detail)],
  };
}
