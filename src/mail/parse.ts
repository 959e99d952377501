import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { AddressObject } from "mailparser";
import { bodyTextOf, parseStream, type AttachmentSink, type StreamParsed } from "./stream-parser.js";
import { isValidUtf8 } from "./decode/charset.js";
import { TicketpostError } from "../shared/errors.js";
import { safeFilename } from "./filename.js";
import { contentFingerprint } from "./fingerprint.js";
import type { InboundAttachment, InboundMessage, MailAddress } from "./types.js";

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** "<a@b>" → "a@b"; mailparser keeps the brackets. */
export function bareMessageId(id: string | undefined | null): string | null {
  if (!id) return null;
  const m = /<([^<>\s]+)>/.exec(id);
  const bare = (m ? m[1] : id.trim()).trim();
  return bare === "" ? null : bare;
}

function addresses(obj: AddressObject | AddressObject[] | undefined): MailAddress[] {
  if (!obj) return [];
  const out: MailAddress[] = [];
  const visit = (list: AddressObject["value"]) => {
    for (const a of list) {
      if (a.group) visit(a.group);
      else if (a.address && a.address.includes("@")) out.push({ address: a.address.toLowerCase(), name: a.name?.trim() || null });
    }
  };
  for (const o of Array.isArray(obj) ? obj : [obj]) visit(o.value);
  return out;
}

function headerStrings(parsed: Pick<StreamParsed, "headerLines">): Record<string, string[]> {
  // Field names are the sender's: "__proto__" or "constructor" must be a field like any other.
  const out = Object.create(null) as Record<string, string[]>;
  for (const line of parsed.headerLines) {
    const key = line.key.toLowerCase();
    const colon = line.line.indexOf(":");
    // mailsplit holds header lines one char per byte; MimeRepair made every 8-bit byte UTF-8.
    const bytes = Buffer.from(colon >= 0 ? line.line.slice(colon + 1) : "", "latin1");
    const value = (isValidUtf8(bytes) ? bytes.toString("utf8") : bytes.toString("latin1")).replace(/\r?\n[ \t]+/g, " ").trim();
    (out[key] ??= []).push(value);
  }
  return out;
}

function referenceList(value: string | string[] | undefined): string[] {
  if (!value) return [];
  const all = Array.isArray(value) ? value.join(" ") : value;
  const ids = [...all.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]);
  return ids.length > 0 ? ids : all.split(/\s+/).filter((s) => s.includes("@"));
}

function deliveredTo(headers: Record<string, string[]>): string[] {
  const out = new Set<string>();
  for (const key of ["delivered-to", "x-original-to"]) {
    for (const v of headers[key] ?? []) {
      const m = /<?([^\s<>]+@[^\s<>]+)>?/.exec(v);
      if (m) out.add(m[1].toLowerCase());
    }
  }
  return [...out];
}

/** The text parts (or the HTML as text), then what containers held: TNEF, S/MIME, forwarded mails. */
function bodyText(parsed: StreamParsed): string {
  return [bodyTextOf(parsed), ...parsed.containerTexts].filter((t) => t !== "").join("\n\n");
}

/**
 * Bytes in, an InboundMessage out. MIME, charsets and addresses are mailparser's job; what it
 * would misread is repaired first (see stream-parser.ts), and `notes` says what was done.
 * Throws TicketpostError EPARSE when the bytes are not a mail.
 */
export async function parseMail(raw: Buffer): Promise<InboundMessage> {
  return toInbound(await runParser(raw), sha256(raw), raw.length);
}

/**
 * A mail stored in a file (a big one, streamed from IMAP to disk): parsed as a stream, its
 * attachments handed to the sink (the blob store) as they are decoded, never held whole.
 */
export async function parseMailStream(input: Readable, rawSha256: string, rawSize: number, sink: AttachmentSink): Promise<InboundMessage> {
  return toInbound(await runParser(input, sink), rawSha256, rawSize);
}

async function runParser(input: Buffer | Readable, sink?: AttachmentSink): Promise<StreamParsed> {
  try {
    return await parseStream(input, sink);
  } catch (err) {
    if (err instanceof TicketpostError) throw err;
    throw new TicketpostError("EPARSE", `mail could not be parsed: ${(err as Error).message}`, { cause: err });
  }
}

function toInbound(parsed: StreamParsed, rawSha256: string, rawSize: number): InboundMessage {
  const headers = headerStrings(parsed);
  if (Object.keys(headers).length === 0) {
    throw new TicketpostError("EPARSE", "mail has no header section");
  }
  const messageId = bareMessageId(parsed.messageId);
  const from = addresses(parsed.from)[0] ?? null;
  const attachments: InboundAttachment[] = parsed.attachments.map((a) => ({
    filename: safeFilename(a.filename),
    contentType: a.contentType || "application/octet-stream",
    size: a.size,
    sha256: a.sha256,
    inline: a.inline,
    content: a.content,
  }));
  const inbound: Omit<InboundMessage, "fingerprint"> = {
    messageId,
    dedupKey: messageId ?? `sha256-${rawSha256}@ticketpost.invalid`,
    inReplyTo: bareMessageId(parsed.inReplyTo),
    references: referenceList(parsed.references),
    subject: (parsed.subject ?? "").replace(/[\r\n]+/g, " ").trim(),
    from,
    replyTo: addresses(parsed.replyTo),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    deliveredTo: deliveredTo(headers),
    date: parsed.date ?? null,
    text: bodyText(parsed),
    attachments,
    headers,
    rawSize,
    rawSha256,
    notes: [...parsed.notes],
  };
  if (!parsed.text?.trim() && typeof parsed.html === "string" && parsed.html.trim() !== "")
    inbound.notes.push("HTML body converted to text");
  if (inbound.text === "" && attachments.length > 0) inbound.notes.push(`no text body; ${attachments.length} attachment(s)`);
  const clean = withoutNul(inbound);
  if (clean !== inbound) clean.notes.push("NUL characters removed from the mail's text (the raw mail keeps them)");
  return { ...clean, fingerprint: contentFingerprint(clean) };
}

/**
 * The message with every U+0000 taken out of its strings (PostgreSQL text cannot hold it, and no
 * person writes it); the same object when there is none. Buffers and dates are left as they are.
 */
function withoutNul<T>(value: T): T {
  const strip = (v: unknown): unknown => {
    if (typeof v === "string") return v.includes("\u0000") ? v.replace(/\u0000/g, "") : v;
    if (Array.isArray(v)) {
      const out = v.map(strip);
      return out.some((x, i) => x !== v[i]) ? out : v;
    }
    if (v && typeof v === "object" && !Buffer.isBuffer(v) && !(v instanceof Date)) {
      let changed = false;
      const out: Record<string, unknown> = Object.create(Object.getPrototypeOf(v) as object | null) as Record<string, unknown>;
      for (const [k, x] of Object.entries(v)) {
        const y = strip(x);
        if (y !== x) changed = true;
        out[k.replace(/\u0000/g, "")] = y;
      }
      return changed ? out : v;
    }
    return v;
  };
  return strip(value) as T;
}

/** The person a ticket answers to: Reply-To when given (RFC 5322 §3.6.2), else From. */
export function requesterOf(msg: InboundMessage): MailAddress | null {
  return msg.replyTo[0] ?? msg.from;
}
