import type { BounceReport } from "../../mail/bounce.js";
import { formatReference } from "../../mail/subject.js";
import type { MailFacts } from "../facts.js";
import { step } from "../trail.js";
import type { PlanEnv } from "./env.js";
import { emptyPlan, stateOf, type AddressFlagPlan, type Plan } from "./plan.js";

function describe(report: BounceReport): string {
  return (
    report.recipients
      .map(
        (r) =>
          `${r.address}: ${r.status ?? r.replyCode ?? "no status"} ${r.permanent === true ? "permanent" : r.permanent === false ? "temporary" : "unknown"} (${r.reason.slice(0, 200)})`,
      )
      .join("; ") || "no recipients named"
  );
}

/**
 * The address a report names: as written, or (a bare local part, as some servers write it)
 * the one recipient of the reported mail with that local part; otherwise unknown. Never one of
 * our own addresses: a report that seems to name us misread its own headers.
 */
function failedAddress(env: PlanEnv, named: string, ours: string[]): { address: string | null; why: string } {
  const a = named.trim().toLowerCase();
  if (a.includes("@"))
    return env.directory.isOwn(a) ? { address: null, why: `${a} is our own address: not flagged` } : { address: a, why: "" };
  const matches = [...new Set(ours.filter((o) => o.split("@")[0] === a))];
  if (matches.length === 1 && !env.directory.isOwn(matches[0]))
    return { address: matches[0], why: `local part ${a} resolved to ${matches[0]}, a recipient of our mail` };
  return {
    address: null,
    why: `local part "${a}" names ${matches.length ? "more than one recipient" : "no recipient"} of the reported mail: left unknown`,
  };
}

/**
 * A delivery report never becomes a ticket and never gets an answer. It is linked to the ticket
 * whose mail it reports on (through the Message-ID of ours that it quotes), kept there as an
 * internal message, and each failed recipient is flagged: a permanent failure stops all mail to
 * that address until someone clears the flag (`ticketpost addresses clear`).
 */
export function planBounce(env: PlanEnv, f: MailFacts): Plan {
  const report = f.bounce!;
  const ours = f.reportedMail;
  const ticketId = f.ticket?.row.id ?? null;
  const isBounce = f.classification.kind === "bounce";
  const plan = emptyPlan(isBounce ? "bounce" : "report", isBounce ? "bounce" : "report", [...f.trail]);
  plan.reason = f.classification.reasons[0] ?? null;
  plan.trail.push(
    step(
      "apply",
      ticketId ? "bounce-linked" : "bounce-unlinked",
      ticketId
        ? `reports on our message ${report.originalMessageId} of ${formatReference(env.tagFormat, ticketId)}`
        : `quotes ${report.originalMessageId ?? "no Message-ID"}, which is no mail of ours`,
    ),
  );

  const flagged: string[] = [];
  const notes: string[] = [];
  if (report.kind === "failure") {
    for (const r of report.recipients) {
      const { address, why } = failedAddress(env, r.address, ours?.toAddresses ?? []);
      if (why) notes.push(why);
      if (!address || plan.addressFlags.some((x) => x.address === address)) continue;
      const existing = f.flags.get(address) ?? null;
      // Blocked when the address itself is bad (no such mailbox or domain, moved), or when it
      // failed for good a second time; one 5.7.1 spam rejection does not shut a customer out.
      // Once blocked, a later temporary report does not lift the block.
      const repeated = r.permanent === true && existing !== null && /^5/.test(existing.status ?? "");
      const flag: AddressFlagPlan = {
        address,
        permanent: r.hardBounce || repeated || existing?.permanent === true,
        status: r.status ?? r.replyCode,
        reason: r.reason.slice(0, 1000) || "delivery failed",
        ticketId: ticketId ?? existing?.ticketId ?? null,
        bounces: (existing?.bounces ?? 0) + 1,
      };
      plan.addressFlags.push(flag);
      flagged.push(`${address}${r.hardBounce || repeated ? " (blocked)" : ""}`);
    }
  }
  if (ticketId && f.ticket) {
    const text = `Delivery report (${report.kind}, ${report.format}): ${describe(report)}`;
    plan.ticket = { id: ticketId, state: stateOf(f.ticket.row), patch: {} };
    plan.message = { visibility: "internal", text };
    plan.events.push({ action: "bounce", detail: text.slice(0, 1000), actor: f.msg.from?.address ?? null });
  }
  plan.trail.push(
    step(
      "notify",
      "none",
      `delivery reports get no answer; ${flagged.length ? `flagged ${flagged.join(", ")}` : "nothing flagged"}${notes.length ? `; ${notes.join("; ")}` : ""}`,
    ),
  );
  return plan;
}
