import { Transform, type TransformCallback } from "node:stream";

/*
 * Line endings made uniform before a mail is parsed: RFC 5322 §2.1 wants CRLF, mail in files and
 * pipes has LF, and classic Mac mail servers wrote CR alone (read as-is, a CR-only mail is one
 * endless header line). mailparser copes with LF and CRLF, also mixed; a bare CR is what it cannot
 * read. A run of CRs before an LF ("\r\r\n", what a CRLF→CRLF conversion done twice leaves) is one
 * line end, not an empty line that would end the header section early.
 */

const BARE_CR_RUN = /\r+(?!\r|\n)|\r{2,}\n/g;

function hasBareCr(raw: Buffer): boolean {
  for (let i = raw.indexOf(13); i >= 0; i = raw.indexOf(13, i + 1)) if (raw[i + 1] !== 10) return true;
  return false;
}

function fixBareCr(latin1: string, onFix?: () => void): string {
  return latin1.replace(BARE_CR_RUN, (run) => {
    onFix?.();
    return run.endsWith("\n") ? "\r\n" : "\r\n".repeat(run.length);
  });
}

/**
 * A whole mail with every line end as CRLF when it has a bare CR (CR not followed by LF);
 * otherwise the same Buffer, untouched (LF and CRLF mail is read as it is). Bytes other than line
 * ends are never changed.
 */
export function normalizeLineEndings(raw: Buffer): Buffer {
  if (!hasBareCr(raw)) return raw;
  return Buffer.from(fixBareCr(raw.toString("latin1")).replace(/(?<!\r)\n/g, "\r\n"), "latin1");
}

/**
 * The streamed form, for mails read from a file: each bare CR (or run of CRs) becomes CRLF, a CR
 * run before an LF becomes one CRLF; LF and CRLF pass unchanged. A CR at the end of a chunk waits
 * for the next byte. `changed` says afterwards whether anything was rewritten.
 */
export class LineEndingNormalizer extends Transform {
  changed = false;
  private pendingCr = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let text = "\r".repeat(this.pendingCr) + chunk.toString("latin1");
    let end = text.length;
    while (end > 0 && text.charCodeAt(end - 1) === 13) end--;
    this.pendingCr = text.length - end;
    text = text.slice(0, end);
    done(
      null,
      Buffer.from(
        fixBareCr(text, () => (this.changed = true)),
        "latin1",
      ),
    );
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingCr > 0) this.changed = true;
    done(null, this.pendingCr > 0 ? Buffer.from("\r\n".repeat(this.pendingCr), "latin1") : undefined);
  }
}
