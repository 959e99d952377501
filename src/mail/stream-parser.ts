import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { Joiner, Splitter } from "@zone-eu/mailsplit";
import { MailParser, type AddressObject, type HeaderLines, type Headers } from "mailparser";
import { containerKind, openContainer, streamOf, type ContainerKind, type InnerMail } from "./decode/containers.js";
import { htmlToPlainText } from "./decode/html-text.js";
import { MimeRepair } from "./decode/mime-repair.js";
import { LineEndingNormalizer } from "./raw.js";

/**
 * mailparser's MailParser, read the way its simpleParser reads it, except that attachments do not
 * have to be held in memory: each attachment stream goes to a sink (the blob store), so a mail
 * with a 50 MB attachment is parsed in flat memory. Without a sink, attachments are buffered.
 *
 * Before mailparser reads the bytes, bare CR line ends are made CRLF (raw.ts) and mailsplit's
 * object stream passes through MimeRepair (charsets, 8-bit headers, named text parts, HTML parts).
 * Container attachments (TNEF, opaque S/MIME, forwarded mails) are opened as they come.
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
  /** Text found in containers (TNEF body, S/MIME content, forwarded mails), in mail order. */
  containerTexts: string[];
  /** What had to be done to read the mail (see InboundMessage.notes). */
  notes: string[];
}

/** Consumes one attachment stream; resolves with its SHA-256 and size. */
export type AttachmentSink = (
  content: Readable,
  meta: { filename: string | undefined; contentType: string },
) => Promise<{ sha256: string; size: number }>;

/** Containers inside containers are opened this deep; deeper ones stay attachments. */
const MAX_CONTAINER_DEPTH = 3;

async function buffered(content: Readable): Promise<{ sha256: string; size: number; content: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const c of content) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  return { sha256: createHash("sha256").update(buf).digest("hex"), size: buf.length, content: buf };
}

/** Hashes and drops: for the attachments of a forwarded mail, which stays one attachment itself. */
const discard: AttachmentSink = async (content) => {
  const { sha256, size } = await buffered(content);
  return { sha256, size };
};

/** The body as text: the text parts, else the HTML converted (mail whose only body is HTML). */
export function bodyTextOf(parsed: Pick<StreamParsed, "text" | "html">): string {
  if (parsed.text && parsed.text.trim() !== "") return parsed.text.replace(/\r\n/g, "\n").trim();
  if (typeof parsed.html === "string" && parsed.html.trim() !== "") return htmlToPlainText(parsed.html);
  return "";
}

function innerMail(parsed: StreamParsed, keepAttachments: boolean): InnerMail {
  const addresses = (a: AddressObject | AddressObject[] | undefined) => {
    const list = a ? [a].flat().flatMap((x) => x.value) : [];
    return list.length ? list.map((v) => (v.name ? `${v.name} <${v.address ?? ""}>` : (v.address ?? ""))).join(", ") : undefined;
  };
  return {
    text: [bodyTextOf(parsed), ...parsed.containerTexts].filter((t) => t !== "").join("\n\n"),
    subject: parsed.subject,
    from: addresses(parsed.from),
    to: addresses(parsed.to),
    date: parsed.date,
    attachments: keepAttachments ? parsed.attachments : [],
    notes: parsed.notes,
  };
}

type Meta = { filename: string | undefined; contentType: string };
type Collected = Partial<StreamParsed> & { attachments: ParsedAttachment[]; containerTexts: string[]; notes: string[] };
/** The attachment object mailparser hands out (the subset read here). */
interface AttachmentData {
  content: Readable;
  filename?: string;
  contentType?: string;
  contentDisposition?: string;
  related?: boolean;
  headers?: Map<string, unknown>;
  release?: (() => void) | null;
}

/**
 * Stores each attachment through the sink (or buffers it), opening containers on the way:
 * their texts and notes go into `mail`, the files inside them to the sink.
 */
function attachmentReader(mail: Collected, sink: AttachmentSink | undefined, options: Record<string, unknown>, depth: number) {
  const store = async (content: Readable, meta: Meta, inline: boolean): Promise<ParsedAttachment> => {
    const r = sink ? await sink(content, meta) : await buffered(content);
    return { ...meta, inline, size: r.size, sha256: r.sha256, content: (r as { content?: Buffer }).content };
  };
  const parseInner = async (raw: Buffer, keepAttachments: boolean) =>
    innerMail(await parseStream(raw, keepAttachments ? sink : discard, options, depth + 1), keepAttachments);
  const open = async (kind: ContainerKind, content: Readable, meta: Meta, inline: boolean): Promise<ParsedAttachment[]> => {
    const bytes = (await buffered(content)).content;
    const opened = await openContainer(kind, bytes, parseInner);
    mail.containerTexts.push(...opened.texts);
    mail.notes.push(...opened.notes);
    const out: ParsedAttachment[] = [];
    if (opened.keep) out.push(await store(streamOf(bytes), meta, inline));
    for (const f of opened.files) out.push(await store(streamOf(f.content), { filename: f.filename, contentType: f.contentType }, false));
    out.push(...((opened.inner?.attachments ?? []) as ParsedAttachment[]));
    return out;
  };
  return (data: AttachmentData): Promise<ParsedAttachment[]> => {
    const meta = { filename: data.filename, contentType: data.contentType || "application/octet-stream" };
    const inline = data.contentDisposition === "inline" || data.related === true;
    const params = (data.headers?.get("content-type") as { params?: Record<string, string> } | undefined)?.params ?? {};
    let kind = depth < MAX_CONTAINER_DEPTH ? containerKind(meta.contentType, params, data.filename) : null;
    // The message a delivery report returns (RFC 6522) is evidence for the bounce reader, not a forward.
    if (kind === "rfc822" && (mail.headers?.get("content-type") as { value?: string } | undefined)?.value === "multipart/report")
      kind = null;
    return kind ? open(kind, data.content, meta, inline) : store(data.content, meta, inline).then((a) => [a]);
  };
}

/**
 * The Date header's time. mailparser gives the time of parsing for a Date header it cannot read;
 * such a mail (or a forwarded mail inside it) has none here, or its first readable Date header,
 * so that the same mail read twice has one text and one fingerprint (and a second delivery of it
 * is known as the duplicate it is).
 */
function readableDate(parsed: Date | undefined, headerLines: HeaderLines): Date | undefined {
  const readable = headerLines
    .filter((h) => h.key.toLowerCase() === "date")
    .map(
      (h) =>
        new Date(
          h.line
            .slice(h.line.indexOf(":") + 1)
            .replace(/\r?\n[ \t]+/g, " ")
            .trim(),
        ),
    )
    .filter((d) => !Number.isNaN(d.getTime()));
  if (parsed && readable.some((d) => d.getTime() === parsed.getTime())) return parsed;
  return readable[0];
}

function resultOf(mail: Collected, notes: string[]): StreamParsed {
  const h = mail.headers ?? new Map();
  const get = <T>(k: string) => h.get(k) as T | undefined;
  return {
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
    date: readableDate(get<Date>("date"), mail.headerLines ?? []),
    attachments: mail.attachments,
    containerTexts: mail.containerTexts,
    notes: [...new Set([...notes, ...mail.notes])],
  };
}

/**
 * Parses one mail (bytes or a stream of them). Attachments go to `sink` when given, else they are
 * buffered. `depth` counts containers opened around this mail. Rejects with the error of whichever
 * stage failed (the caller wraps it as EPARSE).
 */
export function parseStream(
  input: Buffer | Readable,
  sink?: AttachmentSink,
  options: Record<string, unknown> = {},
  depth = 0,
): Promise<StreamParsed> {
  return new Promise((resolve, reject) => {
    const normalizer = new LineEndingNormalizer();
    const repair = new MimeRepair();
    // Our own HTML conversion (decode/html-text.ts) is the only one: mailparser's is switched off.
    const parser = new MailParser({ skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, ...options });
    const stages = [normalizer, new Splitter(), repair, new Joiner(), parser] as unknown as NodeJS.ReadWriteStream[];
    const mail: Collected = { attachments: [], containerTexts: [], notes: [] };
    const readAttachment = attachmentReader(mail, sink, options, depth);
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      parser.destroy();
      reject(err);
    };
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
      } else if (data.type === "text") {
        mail.text = data.text;
        mail.html = data.html;
        reader();
      } else {
        // One attachment at a time, as simpleParser does: the parser waits until it is consumed.
        readAttachment(data).then((list) => {
          mail.attachments.push(...list);
          data.release?.();
          reader();
        }, fail);
      }
    };
    parser.on("readable", () => {
      if (!reading) reader();
    });
    parser.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(resultOf(mail, [...(normalizer.changed ? ["bare CR line endings normalised to CRLF"] : []), ...repair.notes]));
    });
    const source = Buffer.isBuffer(input) ? Readable.from([input]) : input;
    for (const stream of [source, ...stages]) stream.on("error", fail);
    stages.reduce((from, to) => from.pipe(to), source as NodeJS.ReadableStream);
  });
}
