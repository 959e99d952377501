import iconv from "iconv-lite";
import libmime from "libmime";
import { decodeUndeclared, isUndeclared, isUtf7, isValidUtf8, misdeclared } from "./charset.js";

/*
 * Header lines as mailsplit holds them: one JavaScript string per line, one char per byte
 * ("binary"). mailparser reads 8-bit bytes in a header as UTF-8 (RFC 6532) and encoded words by
 * their declared charset, except UTF-7, which it refuses. This module rewrites the lines it has to
 * so that mailparser reads them right: nothing else about a header changes.
 */

export interface HeaderLine {
  key: string;
  line: string;
}

// RFC 2047 §2: =?charset?encoding?encoded-text?=, charset optionally with an RFC 2231 language.
const ENCODED_WORD = /=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=/g;

/**
 * Fixes the encoded words of one line: raw 8-bit bytes inside a Q word (sent by mailers that
 * encode only the spaces) become =XX so they are read in the word's charset, not as UTF-8; a
 * UTF-7 word is decoded and written again as a UTF-8 word. Returns the line and what it did.
 */
export function fixEncodedWords(line: string): { line: string; utf7: boolean; raw8bit: boolean } {
  let utf7 = false;
  let raw8bit = false;
  const fixed = line.replace(ENCODED_WORD, (word, charset: string, encoding: string, payload: string) => {
    let text = payload;
    if (encoding.toUpperCase() === "Q" && /[\x80-\xff]/.test(text)) {
      raw8bit = true;
      text = text.replace(/[\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
    }
    if (isUtf7(charset.split("*")[0])) {
      utf7 = true;
      const bytes = Buffer.from(libmime.decodeWord("latin1", encoding, text), "latin1");
      return libmime.encodeWord(iconv.decode(bytes, "utf7"), "B");
    }
    return text === payload ? word : `=?${charset}?${encoding}?${text}?=`;
  });
  return { line: fixMisdeclaredRuns(fixed), utf7, raw8bit };
}

/**
 * Runs of adjacent encoded words in one charset whose bytes are not in that charset are written
 * again as one UTF-8 word. A run, not a word: a UTF-8 character may be split over two words
 * (RFC 2047 §5 forbids it; mailers do it), and only the joined bytes tell.
 */
function fixMisdeclaredRuns(line: string): string {
  const words = [...line.matchAll(ENCODED_WORD)].map((m) => ({
    start: m.index ?? 0,
    end: (m.index ?? 0) + m[0].length,
    charset: m[1].split("*")[0].toLowerCase(),
    bytes: wordBytes(m[2], m[3]),
  }));
  const runs: Array<typeof words> = [];
  for (const w of words) {
    const last = runs[runs.length - 1]?.at(-1);
    if (last && last.charset === w.charset && /^\s*$/.test(line.slice(last.end, w.start))) runs[runs.length - 1].push(w);
    else runs.push([w]);
  }
  let out = line;
  for (const run of runs.reverse()) {
    const corrected = wordInOtherCharset(Buffer.concat(run.map((w) => w.bytes)), run[0].charset);
    if (corrected !== null) out = out.slice(0, run[0].start) + libmime.encodeWord(corrected, "B") + out.slice(run[run.length - 1].end);
  }
  return out;
}

/** The bytes an encoded word carries (RFC 2047 §4), before any charset. */
function wordBytes(encoding: string, text: string): Buffer {
  if (encoding.toUpperCase() === "B") return Buffer.from(text, "base64");
  const latin1 = text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(latin1, "latin1");
}

/**
 * The text of an encoded word whose bytes are not in the charset it names (latin-1 bytes in a
 * "utf-8" word, windows-1251 in an "iso-8859-1" one; see misdeclared), or null when they are.
 */
function wordInOtherCharset(bytes: Buffer, charset: string): string | null {
  if (isUndeclared(charset)) return isValidUtf8(bytes) ? null : decodeUndeclared(bytes).text;
  return misdeclared(bytes, charset)?.text ?? null;
}

/** The parts of a line outside encoded words that carry 8-bit bytes or ISO-2022 escapes, or null. */
function raw8bitOutsideWords(line: string): string | null {
  const outside = line.replace(ENCODED_WORD, " ");
  return /[\x80-\xff\x1b]/.test(outside) ? outside : null;
}

/** Bytes mailparser would misread: 8-bit but not UTF-8, or ISO-2022 text (RFC 1468) left raw. */
function misread(latin1: string): boolean {
  return /\x1b[$(]/.test(latin1) || !isValidUtf8(Buffer.from(latin1, "latin1"));
}

/** What a header block needed; `charset` is set when undeclared 8-bit bytes were decoded. */
export interface HeaderFix {
  changed: boolean;
  utf7: boolean;
  charset: string | null;
}

/** True when the block has 8-bit bytes outside encoded words that are not valid UTF-8. */
export function needsCharset(lines: HeaderLine[]): boolean {
  return lines.some((l) => {
    const outside = raw8bitOutsideWords(l.line);
    return outside !== null && misread(outside);
  });
}

/**
 * Rewrites the lines of one header block in place. Undeclared 8-bit bytes or ISO-2022-JP (a
 * From name or Subject written raw in the sender's charset) are decoded with one charset for the whole block,
 * detected from all of them together; `hint` is a charset the same mail declares or its body was
 * found in, tried first. They are written back as UTF-8, which is how mailparser reads raw bytes.
 */
export function fixHeaderLines(lines: HeaderLine[], hint: string | null): HeaderFix {
  const fix: HeaderFix = { changed: false, utf7: false, charset: null };
  for (const l of lines) {
    const r = fixEncodedWords(l.line);
    if (r.line !== l.line) {
      l.line = r.line;
      fix.changed = true;
    }
    fix.utf7 ||= r.utf7;
  }
  if (!needsCharset(lines)) return fix;
  const raw = lines.map((l) => raw8bitOutsideWords(l.line)).filter((s): s is string => s !== null);
  const charset = decodeUndeclared(Buffer.from(raw.join("\n"), "latin1"), hint).charset;
  for (const l of lines) {
    if (raw8bitOutsideWords(l.line) === null) continue;
    if (!misread(l.line)) continue;
    const text = decodeUndeclared(Buffer.from(l.line, "latin1"), charset).text;
    l.line = Buffer.from(text, "utf8").toString("latin1");
    fix.changed = true;
  }
  fix.charset = charset;
  return fix;
}
