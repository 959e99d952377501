import { createHash } from "node:crypto";
import { convert as htmlToText } from "html-to-text";
import type { Readable } from "node:stream";
import type { AddressObject } from "mailparser";
import { parseStream, type AttachmentSink, type StreamParsed } from "./stream-parser.js";
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
  const out: Record<string, string[]> = {};
  for (const line of parsed.headerLines) {
    const key = line.key.toLowerCase();
    const colon = line.line.indexOf(":");
    const value = (colon >= 0 ? line.line.slice(colon + 1) : "").replace(/\r?\n[ \t]+/g, " ").trim();
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

function bodyText(parsed: Pick<StreamParsed, "text" | "html">): string {
  if (parsed.text && parsed.text.trim() !== "") return parsed.text.replace(/\r\n/g, "\n").trim();
  if (typeof parsed.html === "string" && parsed.html.trim() !== "") {
    // mailparser leaves this to us for multipart/related and for HTML it refused (too deep); without
    // a depth limit, deeply nested HTML overflows the stack with a RangeError.
    try {
      return htmlToText(parsed.html, { wordwrap: false, limits: { maxDepth: 1000 }, selectors: [{ selector: "img", format: "skip" }] }).trim();
    } catch (err) {
      throw new TicketpostError("EPARSE", `HTML body could not be converted to text: ${(err as Error).message}`, { cause: err });
    }
  }
  return "";
}

/** Bytes in, an InboundMessage out. MIME, charsets and addresses are mailparser's job. */
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
    notes: [],
  };
  return { ...inbound, fingerprint: contentFingerprint(inbound) };
}

/** The person a ticket answers to: Reply-To when given (RFC 5322 §3.6.2), else From. */
export function requesterOf(msg: InboundMessage): MailAddress | null {
  return msg.replyTo[0] ?? msg.from;
}
