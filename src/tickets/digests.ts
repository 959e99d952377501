import type { DataSource } from "typeorm";
import type { GatewayContext } from "./context.js";
import { persist } from "./persist.js";
import { ticketReads } from "./repository.js";
import { digestPeriod, planDigest, type DigestScope } from "./workflow/digest.js";

export interface DigestSummary {
  /** Departments whose digest this run queued. */
  sent: string[];
  /** Departments whose period another run (or instance) had claimed already. */
  skipped: string[];
}

/** Each department with its members; without departments, one digest of all tickets to every agent. */
export function digestScopes(ctx: Pick<GatewayContext, "directory">): DigestScope[] {
  const dir = ctx.directory;
  if (dir.departments.length === 0) return [{ id: "*", members: dir.members(null) }];
  return dir.departments.map((d) => ({ id: d.id, members: dir.members(d.id) })).filter((s) => s.members.length > 0);
}

/**
 * The digest run of one scheduled slot (`scheduled`: the time node-cron fired for). Each
 * department is read, planned and written in its own transaction, which first claims
 * (period, department): with several instances, each department gets one digest per period.
 */
export async function sendDigests(db: DataSource, ctx: GatewayContext, scheduled: Date): Promise<DigestSummary> {
  const period = digestPeriod(scheduled);
  const now = ctx.clock.now();
  const out: DigestSummary = { sent: [], skipped: [] };
  for (const scope of digestScopes(ctx)) {
    const claimed = await db.transaction(async (em) => {
      const reads = ticketReads(em);
      const tickets = await reads.openTickets(scope.id === "*" ? null : [scope.id]);
      const flags = new Map((await reads.addressFlags(scope.members.map((m) => m.address))).map((f) => [f.address, f]));
      return (await persist(em, ctx, planDigest(ctx, scope, tickets, { flags, recentAnswers: new Map() }, now, period), null, null))
        .claimed;
    });
    (claimed ? out.sent : out.skipped).push(scope.id);
  }
  return out;
}
