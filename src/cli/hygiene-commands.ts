import { readFile } from "node:fs/promises";
import { In } from "typeorm";
import type { MailboxConfig, TicketpostConfig } from "../config/schema.js";
import { AddressFlag, MailReceipt } from "../db/entities.js";
import { moveFromFailed } from "../mailbox/imap-mailbox.js";
import { TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { inspectMail, type Inspection } from "../tickets/inspect.js";
import { processMail } from "../tickets/pipeline.js";
import { closeDb, createSender, openGateway } from "./gateway.js";

async function readInput(file: string): Promise<Buffer> {
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (err) {
    throw new TicketpostError("EREAD", `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** `ticketpost inspect FILE|-`: what the gateway would do with a mail, changing nothing. */
export async function runInspect(config: TicketpostConfig, logger: Logger, file: string): Promise<Inspection> {
  const raw = await readInput(file);
  const ctx = await openGateway(config, logger);
  try {
    // Read-only: everything runs in a transaction that is rolled back, so nothing can stick.
    const qr = ctx.db.createQueryRunner();
    await qr.startTransaction();
    try {
      return await inspectMail(ctx, raw, qr.manager);
    } finally {
      await qr.rollbackTransaction();
      await qr.release();
    }
  } finally {
    await closeDb(ctx.db);
  }
}

export function printInspection(i: Inspection): string {
  const out = [`verdict: ${i.verdict}${i.ticket ? ` (${i.ticket})` : ""}`];
  if (i.parsed) {
    const p = i.parsed as Record<string, unknown>;
    out.push(`title: ${p.title}`, `requester: ${p.requester ?? "-"}   department: ${p.department ?? "-"}   priority: ${p.priority}   urgency: ${p.urgency}   due: ${p.dueDate ?? "-"}`);
    if ((p.commands as string[]).length) out.push(`commands: ${(p.commands as string[]).join(", ")}`);
    for (const a of p.attachments as Array<{ filename: string; contentType: string; size: number }>) out.push(`attachment: ${a.filename} (${a.contentType}, ${a.size} bytes)`);
  }
  if (i.bounce) {
    out.push(`bounce: ${i.bounce.kind} (${i.bounce.format}), original Message-ID ${i.bounce.originalMessageId ?? "-"}`);
    for (const r of i.bounce.recipients) out.push(`  ${r.address}: ${r.status ?? "-"} ${r.replyCode ?? ""} ${r.permanent === true ? "permanent" : r.permanent === false ? "temporary" : "unknown"}: ${r.reason}`);
  }
  out.push("trail:");
  for (const t of i.trail) out.push(`  ${t.stage.padEnd(9)} ${t.verdict.padEnd(20)} ${t.detail}`);
  return out.join("\n") + "\n";
}

/**
 * `ticketpost failed retry ID|--all`: processes failed mails again (after a fix or a config
 * change) from the bytes stored when they failed, then moves the copy in Failed to Processed.
 */
export async function runFailedRetry(config: TicketpostConfig, logger: Logger, ids: number[] | "all"): Promise<{ lines: string[]; stillFailed: number }> {
  const ctx = await openGateway(config, logger);
  const lines: string[] = [];
  let stillFailed = 0;
  try {
    const repo = ctx.db.getRepository(MailReceipt);
    const receipts = await repo.find({ where: ids === "all" ? { outcome: "failed" } : { id: In(ids), outcome: "failed" }, order: { id: "ASC" } });
    if (ids !== "all") for (const id of ids) if (!receipts.some((r) => r.id === id)) lines.push(`#${id}: no failed mail with this id (see ticketpost failed list)`);
    // Per mailbox: each has its own Failed folder and login (the stored OAuth2 grant among them).
    const recovered = new Map<MailboxConfig, string[]>();
    for (const r of receipts) {
      if (!r.rawSha256) {
        lines.push(`#${r.id}: its bytes were not kept; cannot retry`);
        stillFailed++;
        continue;
      }
      const raw = await ctx.blobs.get(r.rawSha256);
      const attempt = (await repo.count({ where: { mailbox: "(retry)", uidValidity: r.id } })) + 1;
      const result = await processMail(ctx, { mailbox: "(retry)", uidValidity: r.id, uid: attempt }, raw);
      await repo.update({ id: r.id }, { outcome: "retried", reason: `${r.reason ?? ""} → retried as #${result.receiptId}: ${result.outcome}`.slice(0, 2000) });
      if (result.outcome === "failed") stillFailed++;
      else {
        const m = config.mailboxes.find((x) => x.id === r.mailbox) ?? config.imap;
        if (r.movedTo === m.failedFolder && r.messageIdHeader) recovered.set(m, [...(recovered.get(m) ?? []), r.messageIdHeader]);
      }
      lines.push(`#${r.id}: ${result.outcome}${result.ticketId ? ` (ticket ${config.referencePrefix}-${result.ticketId})` : ""}${result.outcome === "failed" ? `: ${result.errorCode} ${result.reason}` : ""} [now #${result.receiptId}]`);
    }
    for (const [m, messageIds] of recovered) {
      const moved = await moveFromFailed(m, messageIds, ctx.logins).catch((err) => {
        lines.push(`the copies in ${m.failedFolder} could not be moved: ${(err as Error).message}`);
        return 0;
      });
      if (moved) lines.push(`moved ${moved} mail(s) from ${m.failedFolder} to ${m.processedFolder}`);
    }
    const sender = createSender(config, ctx);
    try {
      await sender.runOnce();
    } finally {
      await sender.stop();
    }
    if (receipts.length === 0 && ids === "all") lines.push("no failed mails");
    return { lines, stillFailed };
  } finally {
    await closeDb(ctx.db);
  }
}

/** `ticketpost addresses list|clear`: the addresses that bounced, and lifting a block. */
export async function runAddresses(config: TicketpostConfig, logger: Logger, sub: string | undefined, address: string | undefined, json: boolean): Promise<number> {
  const ctx = await openGateway(config, logger);
  try {
    const repo = ctx.db.getRepository(AddressFlag);
    if (sub === "list") {
      const rows = await repo.find({ order: { flaggedAt: "DESC" } });
      if (json) process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      else process.stdout.write(rows.length ? rows.map((r) => `${r.address.padEnd(32)} ${r.permanent ? "BLOCKED" : "temporary"} ${r.status ?? "-"} bounces: ${r.bounces} ${r.flaggedAt.toISOString()} ${r.reason.slice(0, 80)}`).join("\n") + "\n" : "no flagged addresses\n");
      return 0;
    }
    if (sub === "clear") {
      if (!address) throw new TicketpostError("EUSAGE", "ticketpost addresses clear needs an ADDRESS");
      const res = await repo.delete({ address: address.toLowerCase() });
      if (!res.affected) throw new TicketpostError("ENOTFOUND", `${address} is not flagged`);
      process.stdout.write(`${address} cleared: mail to it is sent again\n`);
      return 0;
    }
    throw new TicketpostError("EUSAGE", `ticketpost addresses: expected "list" or "clear ADDRESS"`);
  } finally {
    await closeDb(ctx.db);
  }
}
