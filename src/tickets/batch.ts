import type { GatewayContext } from "./context.js";
import { processMail, type MailPosition, type ProcessResult, type RawMail } from "./pipeline.js";

export interface BatchMail {
  position: MailPosition;
  raw: RawMail;
}

/** Processes a batch of mails; one result per mail, in order. */
export async function processMails(ctx: GatewayContext, mails: BatchMail[]): Promise<ProcessResult[]> {
  const out: ProcessResult[] = [];
  for (const m of mails) out.push(await processMail(ctx, m.position, m.raw));
  return out;
}
