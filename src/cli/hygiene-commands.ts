import { readFile } from "node:fs/promises";
import type { TicketpostConfig } from "../config/schema.js";
import { AddressFlag } from "../db/entities.js";
import { moveFromFailed } from "../mailbox/imap-mailbox.js";
import { TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import { inspectMail, type Inspection } from "../tickets/inspect.js";
export { printInspection } from "../tickets/inspect.js";
import { retryFailedMails } from "../tickets/retry.js";
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

/**
 * `ticketpost failed retry ID|--all`: processes failed mails again (after a fix or a config
 * change) from the bytes stored when they failed, then moves the copy in Failed to Processed.
 */
export async function runFailedRetry(config: TicketpostConfig, logger: Logger, ids: number[] | "all"): Promise<{ lines: string[]; stillFailed: number }> {
  const ctx = await openGateway(config, logger);
  const lines: string[] = [];
  let stillFailed = 0;
  try {
    const retried = await retryFailedMails(ctx, ids);
    if (ids !== "all") for (const id of ids) if (!retried.some((r) => r.receipt.id === id)) lines.push(`#${id}: no failed mail with this id (see ticketpost failed list)`);
    const recovered: string[] = [];
    for (const { receipt: r, result } of retried) {
      if (!result) {
        lines.push(`#${r.id}: its bytes were not kept; cannot retry`);
        stillFailed++;
        continue;
      }
      if (result.outcome === "failed") stillFailed++;
      else if (r.movedTo === config.imap.failedFolder && r.messageIdHeader) recovered.push(r.messageIdHeader);
      lines.push(`#${r.id}: ${result.outcome}${result.ticketId ? ` (ticket ${config.referencePrefix}-${result.ticketId})` : ""}${result.outcome === "failed" ? `: ${result.errorCode} ${result.reason}` : ""} [now #${result.receiptId}]`);
    }
    if (recovered.length) {
      const moved = await moveFromFailed(config.imap, recovered).catch((err) => {
        lines.push(`the copies in ${config.imap.failedFolder} could not be moved: ${(err as Error).message}`);
        return 0;
      });
      if (moved) lines.push(`moved ${moved} mail(s) from ${config.imap.failedFolder} to ${config.imap.processedFolder}`);
    }
    const sender = createSender(config, ctx);
    try {
      await sender.runOnce();
    } finally {
      await sender.stop();
    }
    if (retried.length === 0 && ids === "all") lines.push("no failed mails");
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
