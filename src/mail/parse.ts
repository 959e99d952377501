import { createHash } from "node:crypto";
import { convert as htmlToText } from "html-to-text";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import { TicketpostError } from "../shared/errors.js";
import { safeFilename } from "./filename.js";
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

function headerStrings(parsed: ParsedMail): Record<string, string[]> {
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

function bodyText(parsed: ParsedMail): string {
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
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true });
  } catch (err) {
    throw new TicketpostError("EPARSE", `mail could not be parsed: ${(err as Error).message}`, { cause: err });
  }
  const headers = headerStrings(parsed);
  if (Object.keys(headers).length === 0) {
    throw new TicketpostError("EPARSE", "mail has no header section");
  }
  const rawSha256 = sha256(raw);
  const messageId = bareMessageId(parsed.messageId);
  const from = addresses(parsed.from)[0] ?? null;
  const attachments: InboundAttachment[] = parsed.attachments.map((a) => ({
    filename: safeFilename(a.filename),
    contentType: a.contentType || "application/octet-stream",
    size: a.content.length,
    sha256: sha256(a.content),
    inline: a.contentDisposition === "inline" || a.related === true,
    content: a.content,
  }));
  return {
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
    rawSize: raw.length,
    rawSha256,
  };
}

/** The person a ticket answers to: Reply-To when given (RFC 5322 §3.6.2), else From. */
export function requesterOf(msg: InboundMessage): MailAddress | null {
  return msg.replyTo[0] ?? msg.from;
}
