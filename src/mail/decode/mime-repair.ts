import { Transform, type TransformCallback } from "node:stream";
import libmime from "libmime";
import type { MimeNode } from "@zone-eu/mailsplit";
import { decodeAs, decodeUndeclared, isUndeclared, isUtf7, misdeclared, misreadAsUtf8 } from "./charset.js";
import { fixHeaderLines, needsCharset, type HeaderLine } from "./header-bytes.js";
import { htmlToPlainText } from "./html-text.js";

/*
 * A mailsplit object stream (Splitter → MimeRepair → Joiner → mailparser) that rewrites only what
 * mailparser would misread, and leaves every other byte as it was:
 * - a text part without a usable charset (none, us-ascii or utf-8 that the bytes are not, a
 *   name nobody knows, or UTF-7, which mailparser refuses) is decoded here and written again as
 *   UTF-8 in base64;
 * - 8-bit header bytes and broken encoded words (see header-bytes.ts); the root header waits for
 *   the first text part, so that a short Subject is detected together with the body's bytes;
 * - an HTML part that is body text but not an alternative to a text part is turned into text
 *   here, with our conversion, so that no HTML ever goes through mailparser's own;
 * - a text part with a file name is an attachment, whatever its disposition says.
 */

type Chunk = MimeNode | { type: "body" | "data"; value: Buffer; node?: MimeNode };

interface Pending {
  node: MimeNode;
  body: Buffer[];
}

const TEXT_TYPES = new Set(["text/plain", "text/html"]);

function underAlternative(node: MimeNode): boolean {
  for (let p = node.parentNode; p; p = (p as MimeNode).parentNode) if ((p as MimeNode).multipart === "alternative") return true;
  return false;
}

function transferDecode(node: MimeNode, body: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const decoder = node.getDecoder();
    const out: Buffer[] = [];
    decoder.on("data", (c: Buffer) => out.push(c));
    decoder.on("end", () => resolve(Buffer.concat(out)));
    decoder.on("error", reject);
    for (const c of body) decoder.write(c);
    decoder.end();
  });
}

/** The charset an HTML document names itself (<meta charset> or http-equiv), if any. */
function metaCharset(html: Buffer): string | null {
  const head = html.subarray(0, 4096).toString("latin1");
  return /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1] ?? null;
}

function base64Lines(text: string): Buffer {
  const b64 = Buffer.from(text, "utf8").toString("base64");
  return Buffer.from(b64.replace(/.{1,76}/g, "$&\r\n").replace(/\r\n$/, ""), "latin1");
}

export class MimeRepair extends Transform {
  /** What was done, for InboundMessage.notes. */
  readonly notes = new Set<string>();
  private current: Pending | null = null;
  private rootWaiting: MimeNode | null = null;
  private queue: Chunk[] = [];

  constructor() {
    super({ readableObjectMode: true, writableObjectMode: true });
  }

  override _transform(chunk: Chunk, _encoding: BufferEncoding, done: TransformCallback): void {
    // Most chunks are bytes of parts nobody rewrites: passed on without a promise each.
    if (chunk.type !== "node" && !this.current) {
      this.out(chunk);
      return done();
    }
    this.handle(chunk).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    this.finishPart()
      .then(() => this.releaseRoot(null))
      .then(() => done(), done);
  }

  private out(chunk: Chunk): void {
    if (this.rootWaiting) this.queue.push(chunk);
    else this.push(chunk);
  }

  private async handle(chunk: Chunk): Promise<void> {
    if (chunk.type === "body" && this.current && chunk.node === this.current.node) {
      this.current.body.push(chunk.value);
      return;
    }
    await this.finishPart();
    if (chunk.type !== "node") return this.out(chunk);
    const node = chunk;
    const lines = (node.headers ? node.headers.getList() : []) as HeaderLine[];
    const leaf = !node.multipart && !(node.rfc822 && node.messageNode);
    const isText = leaf && TEXT_TYPES.has(node.contentType || "text/plain");
    const bodyText = isText && !node.filename && node.disposition !== "attachment";
    if (node.root && needsCharset(lines) && (bodyText || node.multipart)) {
      // Fixed once the first text part is known; until then everything waits in the queue.
      this.rootWaiting = node;
    } else {
      // A file before any body text: the header is decided without the body's help.
      if (leaf && !bodyText) this.releaseRoot(null);
      this.fixHeaders(node, isUndeclared(node.charset) ? null : (node.charset as string));
    }
    if (isText && node.filename && node.disposition !== "attachment") this.makeAttachment(node);
    if (bodyText) this.current = { node, body: [] };
    else this.out(node);
  }

  private fixHeaders(node: MimeNode, charset: string | null): void {
    if (!node.headers) return;
    const result = fixHeaderLines(node.headers.getList() as HeaderLine[], charset);
    if (result.changed) node.headers.changed = true;
    if (result.utf7) this.notes.add("UTF-7 decoded");
    if (result.charset) this.notes.add(`header charset detected as ${result.charset}`);
  }

  /** Fixes the waiting root header with the charset the first text part declared or was found in. */
  private releaseRoot(charset: string | null): void {
    const root = this.rootWaiting;
    if (!root) return;
    this.rootWaiting = null;
    this.fixHeaders(root, charset);
    for (const c of this.queue) this.push(c);
    this.queue = [];
  }

  private makeAttachment(node: MimeNode): void {
    const headers = node.headers;
    if (!headers) return;
    const current = headers.getFirst("Content-Disposition");
    const value = current ? current.replace(/^\s*[^;]*/, "attachment") : "attachment";
    headers.update("Content-Disposition", value);
    this.notes.add(`text part with a file name kept as an attachment (${node.filename})`);
  }

  /** Decides on the buffered text part: passes it on as it was, or decoded and written as UTF-8. */
  private async finishPart(): Promise<void> {
    const part = this.current;
    if (!part) return;
    this.current = null;
    const { node } = part;
    if (part.body.every((c) => c.length === 0)) {
      // Nothing to decode; a header block that never ended (malformed mail) must not be rebuilt.
      this.releaseRoot(isUndeclared(node.charset) ? null : (node.charset as string));
      this.out(node);
      for (const value of part.body) this.out({ type: "body", value, node });
      return;
    }
    const bytes = await transferDecode(node, part.body);
    const html = node.contentType === "text/html";
    const convert = html && !underAlternative(node);
    const text = await this.readText(node, bytes, convert);
    this.releaseRoot(text?.charset ?? (isUndeclared(node.charset) ? null : (node.charset as string)));
    if (text === null) {
      this.out(node);
      for (const value of part.body) this.out({ type: "body", value, node });
      return;
    }
    let content = text.text;
    if (convert) {
      content = htmlToPlainText(content);
      node.setContentType("text/plain");
      this.notes.add("HTML body converted to text");
    }
    node.setCharset("utf-8");
    if (node.headers) node.headers.update("Content-Transfer-Encoding", "base64");
    this.out(node);
    if (content !== "") this.out({ type: "body", value: base64Lines(content), node });
  }

  /** The text of a part when mailparser would misread it (or it must be converted); else null. */
  private async readText(node: MimeNode, bytes: Buffer, mustDecode: boolean): Promise<{ text: string; charset: string } | null> {
    const declared = node.charset || "";
    if (isUtf7(declared)) {
      this.notes.add("UTF-7 decoded");
      return { text: decodeAs(bytes, "utf-7") ?? "", charset: "utf-7" };
    }
    if (isUndeclared(declared) || !libmime.createDecodeStream(declared).supported) {
      if (!mustDecode && !misreadAsUtf8(bytes)) return null;
      const hint = node.contentType === "text/html" ? metaCharset(bytes) : null;
      const found = decodeUndeclared(bytes, hint);
      if (found.charset !== "us-ascii" && found.charset !== "utf-8") {
        this.notes.add(
          declared && !isUndeclared(declared)
            ? `charset ${declared} unknown; detected as ${found.charset}`
            : `charset detected as ${found.charset}`,
        );
      }
      return found;
    }
    const corrected = misdeclared(bytes, declared);
    if (corrected) {
      this.notes.add(`charset ${declared} declared, but the text is ${corrected.charset}`);
      return corrected;
    }
    if (!mustDecode) return null;
    return { text: decodeAs(bytes, declared) ?? (await decodeWithLibmime(bytes, declared)), charset: declared };
  }
}

function decodeWithLibmime(bytes: Buffer, charset: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = libmime.createDecodeStream(charset);
    const out: Buffer[] = [];
    stream.on("data", (c: Buffer) => out.push(c));
    stream.on("end", () => resolve(Buffer.concat(out).toString("utf8")));
    stream.on("error", reject);
    stream.end(bytes);
  });
}
