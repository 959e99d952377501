import { Readable } from "node:stream";
import libmime from "libmime";
import { htmlToPlainText } from "./html-text.js";
import { rtfBody } from "./rtf.js";
import { signedContent, SmimeError } from "./smime.js";
import { readTnef } from "./tnef.js";

/*
 * Attachments that hold the mail itself, or another mail: TNEF (winmail.dat), an opaque S/MIME
 * signature (smime.p7m) and a forwarded message/rfc822. Opened after mailparser has decoded them,
 * so their bytes are whole; a container that cannot be opened stays an attachment, with a note.
 */

export type ContainerKind = "tnef" | "smime" | "rfc822";

/** What an attachment is, from its type, parameters and name; null for an ordinary file. */
export function containerKind(contentType: string, params: Record<string, string>, filename: string | undefined): ContainerKind | null {
  const type = contentType.toLowerCase();
  const name = (filename ?? "").toLowerCase();
  if (type === "application/ms-tnef" || type === "application/vnd.ms-tnef" || name === "winmail.dat" || name === "win.dat") return "tnef";
  if (
    type === "application/pkcs7-mime" ||
    type === "application/x-pkcs7-mime" ||
    (type === "application/octet-stream" && name.endsWith(".p7m"))
  ) {
    const smimeType = (params["smime-type"] ?? "").toLowerCase();
    return smimeType === "" || smimeType === "signed-data" ? "smime" : null;
  }
  if (type === "message/rfc822") return "rfc822";
  return null;
}

/** One file found inside a container, ready for the sink. */
export interface InnerFile {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** What a container gave: body text, files, and whether the container itself stays an attachment. */
export interface Opened {
  texts: string[];
  files: InnerFile[];
  /** A parsed inner mail (S/MIME): its attachments were already given to the sink. */
  inner?: InnerMail;
  keep: boolean;
  notes: string[];
}

/** The part of a parsed mail a container needs; given by the caller to avoid a circular import. */
export interface InnerMail {
  text: string;
  subject?: string;
  from?: string;
  to?: string;
  date?: Date;
  attachments: unknown[];
  notes: string[];
}

export type ParseInner = (raw: Buffer, keepAttachments: boolean) => Promise<InnerMail>;

/** TNEF: the body (text, else HTML, else RTF) and the attached files. */
async function openTnef(bytes: Buffer): Promise<Opened> {
  const tnef = readTnef(bytes);
  let text = tnef.text?.trim() ? tnef.text : null;
  if (!text && tnef.html) text = htmlToPlainText(tnef.html);
  if (!text && tnef.compressedRtf) {
    const body = await rtfBody(tnef.compressedRtf);
    text = body.mode === "html" ? htmlToPlainText(body.text) : body.text;
  }
  const files = tnef.attachments.map((a) => ({
    filename: a.filename,
    contentType: a.contentType || libmime.detectMimeType(a.filename) || "application/octet-stream",
    content: a.content,
  }));
  return {
    texts: text?.trim() ? [text.replace(/\r\n?/g, "\n").trim()] : [],
    files,
    keep: false,
    notes: [`TNEF (winmail.dat) unpacked: ${files.length} file(s)`],
  };
}

/** The "forwarded message" block a forwarded mail's text appears under in the body. */
export function forwardedBlock(inner: InnerMail): string {
  const lines = ["---------- Forwarded message ----------"];
  if (inner.from) lines.push(`From: ${inner.from}`);
  if (inner.date && !Number.isNaN(inner.date.getTime())) lines.push(`Date: ${inner.date.toUTCString()}`);
  if (inner.subject) lines.push(`Subject: ${inner.subject}`);
  if (inner.to) lines.push(`To: ${inner.to}`);
  if (lines.length === 1 && inner.text.trim() === "") return "";
  return `${lines.join("\n")}\n\n${inner.text}`.trim();
}

/**
 * Opens a container's bytes. Never throws for bad content: a container that cannot be read is
 * kept as an attachment and a note says why. `parseInner` parses an inner mail (S/MIME content,
 * a forwarded message) the way the outer one is parsed.
 */
export async function openContainer(kind: ContainerKind, bytes: Buffer, parseInner: ParseInner): Promise<Opened> {
  try {
    if (kind === "tnef") return await openTnef(bytes);
    if (kind === "smime") {
      const inner = await parseInner(signedContent(bytes), true);
      return {
        texts: inner.text ? [inner.text] : [],
        files: [],
        inner,
        keep: false,
        notes: ["S/MIME signature present, not verified", ...inner.notes],
      };
    }
    const inner = await parseInner(bytes, false);
    const block = forwardedBlock(inner);
    return { texts: block ? [block] : [], files: [], keep: true, notes: block ? ["forwarded message shown in the text"] : [] };
  } catch (err) {
    const what = kind === "tnef" ? "TNEF (winmail.dat)" : kind === "smime" ? "S/MIME part" : "forwarded message";
    const why = err instanceof SmimeError ? err.message : (err as Error).message;
    return { texts: [], files: [], keep: true, notes: [`${what} could not be opened (${why}); kept as an attachment`] };
  }
}

/** A Buffer as a stream for an attachment sink. */
export const streamOf = (content: Buffer): Readable => Readable.from([content]);
