import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { MailParser, type AddressObject, type HeaderLines, type Headers } from "mailparser";

/**
 * mailparser's MailParser, read the way its simpleParser reads it, except that attachments do not
 * have to be held in memory: each attachment stream goes to a sink (the blob store), so a mail
 * with a 50 MB attachment is parsed in flat memory. Without a sink, attachments are buffered.
 */

export interface ParsedAttachment {
  filename: string | undefined;
  contentType: string;
  inline: boolean;
  size: number;
  sha256: string;
  /** Only without a sink. */
  content?: Buffer;
}

export interface StreamParsed {
  headers: Headers;
  headerLines: HeaderLines;
  text: string | undefined;
  html: string | false | undefined;
  subject?: string;
  from?: AddressObject;
  to?: AddressObject | AddressObject[];
  cc?: AddressObject | AddressObject[];
  replyTo?: AddressObject;
  messageId?: string;
  inReplyTo?: string;
  references?: string | string[];
  date?: Date;
  attachments: ParsedAttachment[];
}

/** Consumes one attachment stream; resolves with its SHA-256 and size. */
export type AttachmentSink = (content: Readable, meta: { filename: string | undefined; contentType: string }) => Promise<{ sha256: string; size: number }>;

async function buffered(content: Readable): Promise<{ sha256: string; size: number; content: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const c of content) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  return { sha256: createHash("sha256").update(buf).digest("hex"), size: buf.length, content: buf };
}

export function parseStream(input: Buffer | Readable, sink?: AttachmentSink, options: Record<string, unknown> = {}): Promise<StreamParsed> {
  return new Promise((resolve, reject) => {
    const parser = new MailParser({ skipTextToHtml: true, skipTextLinks: true, ...options });
    const mail: Partial<StreamParsed> & { attachments: ParsedAttachment[] } = { attachments: [] };
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      parser.destroy();
      reject(err);
    };
    parser.on("error", fail);
    parser.on("headers", (headers: Headers) => {
      mail.headers = headers;
      mail.headerLines = (parser as unknown as { headerLines: HeaderLines }).headerLines;
    });
    let reading = false;
    const reader = (): void => {
      reading = true;
      const data = parser.read();
      if (data === null) {
        reading = false;
        return;
      }
      if (data.type === "text") {
        mail.text = data.text;
        mail.html = data.html;
        reader();
        return;
      }
      // One attachment at a time, as simpleParser does: the parser waits until it is consumed.
      const meta = { filename: data.filename, contentType: data.contentType || "application/octet-stream" };
      const done = sink ? sink(data.content, meta) : buffered(data.content);
      done.then(
        (r) => {
          mail.attachments.push({ ...meta, inline: data.contentDisposition === "inline" || data.related === true, size: r.size, sha256: r.sha256, content: (r as { content?: Buffer }).content });
          data.release?.();
          reader();
        },
        fail,
      );
    };
    parser.on("readable", () => {
      if (!reading) reader();
    });
    parser.on("end", () => {
      if (settled) return;
      settled = true;
      const h = mail.headers ?? new Map();
      const get = <T>(k: string) => h.get(k) as T | undefined;
      resolve({
        headers: h,
        headerLines: mail.headerLines ?? [],
        text: mail.text,
        html: mail.html,
        subject: get<string>("subject"),
        from: get<AddressObject>("from"),
        to: get<AddressObject | AddressObject[]>("to"),
        cc: get<AddressObject | AddressObject[]>("cc"),
        replyTo: get<AddressObject>("reply-to"),
        messageId: get<string>("message-id"),
        inReplyTo: get<string>("in-reply-to"),
        references: get<string | string[]>("references"),
        date: get<Date>("date"),
        attachments: mail.attachments,
      });
    });
    if (Buffer.isBuffer(input)) parser.end(input);
    else input.once("error", fail).pipe(parser);
  });
}
