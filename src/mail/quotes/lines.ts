import { QUOTE_PREFIX } from "./words.js";

/** One line of a reply: as written, its quote depth (number of ">") and the text after the prefix. */
export interface Line {
  raw: string;
  depth: number;
  /** The text without quote prefix and without trailing blanks. */
  body: string;
  blank: boolean;
}

/**
 * Directional marks and isolates (U+200E/200F, U+061C, U+202A-202E, U+2066-2069): invisible, but
 * Outlook in Hebrew and Arabic writes them around every header label ("\u200fמאת:\u200f"), so
 * they are left out of what the recognisers read (the stored text keeps them).
 */
export const BIDI_MARKS = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;

export function toLine(raw: string): Line {
  const bare = raw.replace(BIDI_MARKS, "");
  const prefix = QUOTE_PREFIX.exec(bare)?.[0] ?? "";
  const body = bare.slice(prefix.length).trimEnd();
  return { raw, depth: (prefix.match(/>/g) ?? []).length, body, blank: body.trim() === "" && prefix === "" };
}

export function toLines(text: string): Line[] {
  return text.replace(/\r\n?/g, "\n").split("\n").map(toLine);
}

/** Index of the next non-blank line at or after `from` (quoted empty lines count as non-blank), or -1. */
export function nextNonBlank(lines: Line[], from: number): number {
  for (let i = from; i < lines.length; i++) if (!lines[i].blank) return i;
  return -1;
}

/** Index of the previous non-blank line at or before `from`, or -1. */
export function prevNonBlank(lines: Line[], from: number): number {
  for (let i = from; i >= 0; i--) if (!lines[i].blank) return i;
  return -1;
}

/** The lines as text, each with trailing blanks removed, without leading or trailing blank lines. */
export function joinLines(lines: Line[]): string {
  return lines
    .map((l) => l.raw.trimEnd())
    .join("\n")
    .replace(/^\n+/, "")
    .trimEnd();
}

const BLANK: Line = { raw: "", depth: 0, body: "", blank: true };

/** Two runs of lines with exactly one blank line between them (none when either is empty). */
export function joinParts(a: Line[], b: Line[]): Line[] {
  let end = a.length;
  while (end > 0 && a[end - 1].blank) end--;
  let start = 0;
  while (start < b.length && b[start].blank) start++;
  if (end === 0) return b.slice(start);
  if (start === b.length) return a.slice(0, end);
  return [...a.slice(0, end), BLANK, ...b.slice(start)];
}
