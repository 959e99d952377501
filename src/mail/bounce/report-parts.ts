import type { Transform } from "node:stream";
import { Splitter, type ContentStream } from "@zone-eu/mailsplit";
import { simpleParser, type Attachment, type ParsedMail } from "mailparser";
import { addressesIn, normalizeAddress } from "../addresses.js";
import { squash } from "./wording.js";

/* ------------------------------------------------------------------------------------------------
 * The MIME parts a report is made of
 * --------------------------------------------------------------------------------------------- */

export interface ReportParts {
  /** Top-level content type and its report-type parameter, lower-case. */
  contentType: string;
  reportType: string | null;
  deliveryStatus: string[];
  feedbackReport: string[];
  /** The returned message or its headers (message/rfc822, text/rfc822-headers, ...). */
  returned: Buffer[];
  /** The media type of each of `returned`, lower-case, in the same order. */
  returnedTypes: string[];
}

const RETURNED_TYPES = new Set([
  "message/rfc822",
  "message/global",
  "text/rfc822-headers",
  "message/rfc822-headers",
  "message/global-headers",
  "message/partial",
]);

/**
 * The returned messages mailparser shows inline: a message/rfc822 part without
 * "Content-Disposition: attachment" becomes a few lines of the text (Hotmail's complaints send
 * theirs so). Read with ignoreEmbedded by mailsplit, the splitter mailparser itself is built on,
 * so that the part is a leaf with its bytes; decoded from its transfer encoding.
 */
function embeddedParts(raw: Buffer): Promise<Array<{ type: string; content: Buffer }>> {
  return new Promise((resolve) => {
    const found: Array<{ type: string; content: Promise<Buffer> }> = [];
    let decoder: ContentStream | null = null;
    const splitter = new Splitter({ ignoreEmbedded: true });
    // mailsplit's typings declare only its "data" event; it is a Transform like any other.
    const stream = splitter as unknown as Transform;
    const finish = () => {
      decoder?.end();
      decoder = null;
    };
    splitter.on("data", (data) => {
      if (data.type === "node") {
        finish();
        const type = typeof data.contentType === "string" ? data.contentType.toLowerCase() : "";
        if (data.root || !RETURNED_TYPES.has(type)) return;
        const d = data.getDecoder();
        const chunks: Buffer[] = [];
        d.on("data", (c: Buffer) => chunks.push(c));
        found.push({ type, content: new Promise((done) => d.on("end", () => done(Buffer.concat(chunks)))) });
        decoder = d;
      } else if (data.type === "body" && decoder) {
        decoder.write(data.value);
      }
    });
    stream.on("end", () => {
      finish();
      void Promise.all(found.map(async (f) => ({ type: f.type, content: await f.content }))).then(resolve);
    });
    stream.on("error", () => resolve([]));
    splitter.end(raw);
    splitter.resume();
  });
}

export async function readParts(raw: Buffer): Promise<ReportParts> {
  let parsed: ParsedMail;
  try {
    // keepDeliveryStatus: otherwise mailparser folds message/delivery-status into the text body.
    parsed = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  } catch {
    return { contentType: "", reportType: null, deliveryStatus: [], feedbackReport: [], returned: [], returnedTypes: [] };
  }
  const ct = parsed.headers.get("content-type") as { value?: string; params?: Record<string, string> } | undefined;
  const parts: ReportParts = {
    contentType: (ct?.value ?? "").toLowerCase(),
    reportType: ct?.params?.["report-type"]?.toLowerCase() ?? null,
    deliveryStatus: [],
    feedbackReport: [],
    returned: [],
    returnedTypes: [],
  };
  for (const a of parsed.attachments as Attachment[]) {
    const type = (a.contentType ?? "").toLowerCase();
    if (type === "message/delivery-status" || type === "message/global-delivery-status")
      parts.deliveryStatus.push(a.content.toString("utf8"));
    else if (type === "message/feedback-report") parts.feedbackReport.push(a.content.toString("utf8"));
    else if (RETURNED_TYPES.has(type)) {
      parts.returned.push(a.content);
      parts.returnedTypes.push(type);
    }
  }
  if (parts.returned.length === 0) {
    for (const p of await embeddedParts(raw)) {
      parts.returned.push(p.content);
      parts.returnedTypes.push(p.type);
    }
  }
  return parts;
}

/* ------------------------------------------------------------------------------------------------
 * RFC 822-style field blocks (RFC 3464 §2.1, RFC 5965 §3.1)
 * --------------------------------------------------------------------------------------------- */

export type Fields = Map<string, string[]>;

/** Blocks separated by blank lines; folded lines joined; field names lower-case. */
export function fieldBlocks(text: string): Fields[] {
  const blocks: Fields[] = [];
  for (const chunk of text.replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/)) {
    const fields: Fields = new Map();
    for (const line of chunk.replace(/\n[ \t]+/g, " ").split("\n")) {
      const m = /^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/.exec(line);
      if (!m) continue;
      const key = m[1].toLowerCase();
      fields.set(key, [...(fields.get(key) ?? []), m[2].trim()]);
    }
    if (fields.size > 0) blocks.push(fields);
  }
  return blocks;
}

export const field = (f: Fields, name: string): string | null => f.get(name)?.[0] ?? null;

/** "rfc822; <a@b>" → "a@b" (RFC 3464 §2.3.2: address-type ";" generic-address). */
export function typedAddress(value: string | null): string | null {
  if (!value) return null;
  const rest = value.includes(";") ? value.slice(value.indexOf(";") + 1) : value;
  const address = addressesIn(rest)[0] ?? normalizeAddress(rest);
  return address === "" ? null : address;
}

/** "smtp; 550 5.1.1 ..." → "550 5.1.1 ..." (RFC 3464 §2.3.6: diagnostic-type ";" *text). */
export function typedText(value: string | null): { type: string | null; text: string } {
  if (!value) return { type: null, text: "" };
  const m = /^([A-Za-z][\w-]*)\s*;\s*([\s\S]*)$/.exec(value);
  return m ? { type: m[1].toLowerCase(), text: squash(m[2]) } : { type: null, text: squash(value) };
}
