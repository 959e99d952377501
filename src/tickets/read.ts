import { open } from "node:fs/promises";
import { detectBounce, type BounceReport } from "../mail/bounce/index.js";
import { classifyMail } from "../mail/classify.js";
import { parseMail, parseMailStream } from "../mail/parse.js";
import { normalizeLineEndings } from "../mail/raw.js";
import type { InboundMessage } from "../mail/types.js";
import { asTicketpostError } from "../shared/errors.js";
import type { GatewayContext } from "./context.js";
import type { ReadMail } from "./facts.js";
import type { MailPosition } from "./persist.js";
import { step, type TrailStep, type TrailVerdict } from "./trail.js";

/*
 * Stages 1 to 3 of the pipeline (pipeline.ts): the bytes stored, parsed and classified. They
 * need no database, so they also run in the reading thread (read-thread.ts), and this module
 * loads nothing of TypeORM.
 */

/** What reading a mail needs of the gateway. */
export type ReadEnv = Pick<GatewayContext, "blobs" | "maxMessageBytes" | "messageIdDomain" | "directory">;

/**
 * A mail as bytes, or (a big one) as a file it was streamed into: then it is parsed as a stream
 * and its attachments go straight to the blob store, so memory stays flat whatever its size.
 * The file is taken over by the blob store.
 */
export type RawMail = Buffer | { file: string; size: number };

/** A mail's bytes once stored: their hash and size, the bytes themselves unless spooled to a file. */
export interface Received {
  sha256: string;
  size: number;
  buffer: Buffer | null;
  /** Where the bytes are, for a spooled mail (the blob store's file). */
  file: string | null;
  trail: TrailStep[];
}

/** 1. The bytes are stored before anything else happens to them. */
export async function receiveMail(ctx: ReadEnv, pos: MailPosition, input: RawMail): Promise<Received> {
  const size = Buffer.isBuffer(input) ? input.length : input.size;
  const trail = [step("receive", "fetched", `${pos.mailbox} uidvalidity ${pos.uidValidity} uid ${pos.uid}, ${size} bytes`)];
  if (Buffer.isBuffer(input)) return { sha256: await ctx.blobs.put(input), size, buffer: input, file: null, trail };
  const sha256 = (await ctx.blobs.putFile(input.file)).sha256;
  return { sha256, size, buffer: null, file: ctx.blobs.pathFor(sha256), trail };
}

/**
 * 2 and 3. Parse and classify. `store` keeps the attachments in the blob store (processing);
 * inspect reads without storing.
 */
export async function readMail(ctx: ReadEnv, r: Received, opts: { store: boolean }): Promise<ReadMail> {
  const trail = [...r.trail];
  if (r.size > ctx.maxMessageBytes) {
    const head = await parseHeaderOnly(r.buffer ?? (await readHead(r.file!)));
    return { kind: "oversize", head, size: r.size, trail };
  }
  let msg: InboundMessage;
  try {
    if (r.buffer) {
      msg = await parseMail(r.buffer);
      if (opts.store) for (const a of msg.attachments) if (a.content) await ctx.blobs.put(a.content, a.sha256);
    } else {
      // Only big mails come as files, and bounce reports are small: a spooled mail is not read
      // whole again just to be examined as a bounce.
      msg = await parseMailStream(ctx.blobs.open(r.sha256), r.sha256, r.size, (stream) => ctx.blobs.putStream(stream));
    }
  } catch (err) {
    const e = asTicketpostError(err, "EPARSE");
    // The data directory failing to take the mail's files says nothing about the mail: retried.
    if (e.code === "ESTORE") throw e;
    return { kind: "unreadable", code: "EPARSE", message: e.message, trail };
  }
  trail.push(
    step(
      "parse",
      "ok",
      `Message-ID ${msg.messageId ?? "(none)"}, from ${msg.from?.address ?? "(none)"}, ${msg.attachments.length} attachment(s)`,
    ),
  );
  for (const note of msg.notes) trail.push(step("parse", "note", note));

  let bounce: BounceReport | null = null;
  try {
    bounce = r.buffer
      ? await detectBounce(normalizeLineEndings(r.buffer), msg, {
          messageIdDomain: ctx.messageIdDomain,
          isOwn: (a) => ctx.directory.isOwn(a),
        })
      : null;
  } catch (err) {
    trail.push(step("classify", "bounce-check-failed", (err as Error).message));
  }
  const classification = classifyMail(msg, { messageIdDomain: ctx.messageIdDomain, isOwn: (a) => ctx.directory.isOwn(a) }, { bounce });
  const verdict = `${classification.kind}${classification.automatic ? "/automatic" : ""}` as TrailVerdict<"classify">;
  trail.push(step("classify", verdict, classification.reasons.join("; ")));
  return { kind: "mail", msg, classification, bounce, trail };
}

async function readHead(file: string): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(256 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Headers only (a mail over the size limit is not parsed whole), enough to answer its sender. */
async function parseHeaderOnly(raw: Buffer): Promise<InboundMessage | null> {
  const end = raw.subarray(0, 256 * 1024).indexOf("\r\n\r\n");
  const endLf = raw.subarray(0, 256 * 1024).indexOf("\n\n");
  const cut = end >= 0 ? end + 4 : endLf >= 0 ? endLf + 2 : -1;
  if (cut < 0) return null;
  try {
    return await parseMail(raw.subarray(0, cut));
  } catch {
    return null;
  }
}
