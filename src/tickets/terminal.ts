import type { InboundMessage } from "../mail/types.js";
import type { GatewayContext } from "./context.js";
import { gatherFacts } from "./facts.js";
import { persist } from "./persist.js";
import { readMail } from "./pipeline.js";
import { ticketReads } from "./repository.js";
import { step } from "./trail.js";
import { planMail } from "./workflow/decide.js";
import type { Change } from "./workflow/types.js";

export interface TerminalOutcome {
  /** What changed (empty when nothing did). */
  changes: Change[];
  /** Why nothing changed; nothing was written. */
  commandErrors: string[];
  /** "event→address" of every mail queued. */
  notified: string[];
}

/**
 * An agent's action given at the terminal (`ticketpost tickets take T-42 --as …`), written as the
 * mail the agent would have sent: it takes the very planning an agent's mail takes (commands,
 * guard, notifications), trusted as the agent, for the ticket named. Only the confirmation
 * differs: the caller prints it. Refused actions write nothing.
 */
export async function runTerminalAction(ctx: GatewayContext, ticketId: number, raw: Buffer): Promise<TerminalOutcome> {
  const read = await readMail(
    ctx,
    { sha256: "", size: raw.length, buffer: raw, file: null, trail: [step("receive", "read", "given at the terminal")] },
    { store: true },
  );
  if (read.kind !== "mail") throw new Error(`terminal action: the written mail could not be read (${read.kind})`);
  await ctx.blobs.put(raw, read.msg.rawSha256);
  const msg: InboundMessage = read.msg;
  return ctx.db.transaction(async (em) => {
    const facts = await gatherFacts(
      ticketReads(em),
      ctx,
      { ...read, classification: { kind: "request", automatic: false, reasons: ["given at the terminal"] } },
      { ok: true, reason: "given at the terminal by the operator" },
      { now: ctx.clock.now(), ticketId },
    );
    const plan = planMail(ctx, facts);
    if (plan.commandErrors.length) return { changes: [], commandErrors: plan.commandErrors, notified: [] };
    await persist(em, ctx, plan, msg, null);
    return { changes: plan.changes, commandErrors: [], notified: plan.notifications.map((n) => `${n.event}→${n.to.address}`) };
  });
}
