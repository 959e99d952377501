import { In } from "typeorm";
import { MailReceipt } from "../db/entities.js";
import type { GatewayContext } from "./context.js";
import type { ProcessResult } from "./failure.js";
import { processMail } from "./pipeline.js";

export interface RetryOutcome {
  /** The failed receipt that was retried. */
  receipt: MailReceipt;
  /** What processing the kept bytes gave now; null when the bytes were not kept. */
  result: ProcessResult | null;
}

/**
 * Processes failed mails again from the bytes kept when they failed (after a fix or a
 * configuration change). Each try is a new receipt at position "(retry)" / failed receipt id /
 * attempt; the failed receipt is marked "retried" and names it. `ids` "all" takes every one.
 */
export async function retryFailedMails(ctx: GatewayContext, ids: number[] | "all"): Promise<RetryOutcome[]> {
  const repo = ctx.db.getRepository(MailReceipt);
  const receipts = await repo.find({
    where: ids === "all" ? { outcome: "failed" } : { id: In(ids), outcome: "failed" },
    order: { id: "ASC" },
  });
  const out: RetryOutcome[] = [];
  for (const r of receipts) {
    if (!r.rawSha256 || !(await ctx.blobs.has(r.rawSha256))) {
      out.push({ receipt: r, result: null });
      continue;
    }
    const raw = await ctx.blobs.get(r.rawSha256);
    const attempt = (await repo.count({ where: { mailbox: "(retry)", uidValidity: r.id } })) + 1;
    const result = await processMail(ctx, { mailbox: "(retry)", uidValidity: r.id, uid: attempt }, raw);
    await repo.update(
      { id: r.id },
      { outcome: "retried", reason: `${r.reason ?? ""} → retried as #${result.receiptId}: ${result.outcome}`.slice(0, 2000) },
    );
    out.push({ receipt: r, result });
  }
  return out;
}
