import EmailReplyParser from "email-reply-parser";
import { type Line } from "./lines.js";
import { WRITING_VERBS, WRITING_VERBS_UNSPACED, fold } from "./vocabulary.js";

/*
 * Attribution lines: the one to three lines a client writes above the text it quotes
 * ("On Mon, 2 Mar 2026 at 10:01, X <x@y> wrote:", "Le lun. 2 mars 2026 à 10:01, X a écrit :",
 * "2026年3月2日(月) 10:01 X <x@y>:", "* X <x@y> [2026-03-02 10:01]:"). Gmail and others wrap
 * them anywhere, even inside the address, so a candidate is a short paragraph, read from its
 * last line (the one ending in a colon) upwards.
 */

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
// Verbs as whole words; \b knows only ASCII letters, so the word edges are spelled out.
const VERB = new RegExp(`(?<![\\p{L}\\p{M}])(?:${WRITING_VERBS.map(escape).join("|")})(?![\\p{L}\\p{M}])`, "u");
const COLON_END = /[:：][ \t*-]*$/u;
const DATE_OR_ADDRESS = /\d|@/;
const SENTENCE_END = /[.!?。！？…]["')\]]?$/u;
const MAX_CHARS = 320;

export interface Attribution {
  start: number;
  /** Index after the attribution's last line. */
  end: number;
  /**
   * true when the wording says so (a verb of writing, or email-reply-parser's list, with a date or
   * address); false when only its shape does (a colon-ended line with a date or address), which
   * counts only when quoted lines follow it.
   */
  known: boolean;
}

const hasVerb = (text: string): boolean => {
  const t = fold(text);
  return VERB.test(t) || WRITING_VERBS_UNSPACED.some((v) => t.includes(v));
};

/**
 * email-reply-parser's own list of reply headers (it knows several languages' forms), asked as a
 * black box: it takes a line for a header when it hides the line above a quoted line but shows the
 * same line on its own.
 */
function libraryKnowsHeader(text: string): boolean {
  const parser = new EmailReplyParser();
  if (parser.read(text).getVisibleText().trim() === "") return false;
  return parser.read(`${text}\n> .`).getVisibleText().trim() === "";
}

/** A line that may be part of an attribution wrapped over several lines. */
const attributionish = (body: string): boolean =>
  !SENTENCE_END.test(body.trim()) && (DATE_OR_ADDRESS.test(body) || /[<,]$/.test(body.trim()) || hasVerb(body));

/**
 * The attribution whose last line is `j` (a line ending in a colon), or null. Lines above are taken
 * while they look like part of it (not a finished sentence; a date, an address or a verb), up to three.
 */
export function attributionEndingAt(lines: Line[], j: number): Attribution | null {
  const last = lines[j];
  if (last.blank || !COLON_END.test(last.body)) return null;
  let start = j;
  while (start > 0 && j - start < 2) {
    const above = lines[start - 1];
    if (above.blank || above.depth !== last.depth || !attributionish(above.body)) break;
    start--;
  }
  const text = lines
    .slice(start, j + 1)
    .map((l) => l.body.trim())
    .join(" ")
    .replace(/\*/g, "");
  if (text.length > MAX_CHARS || !DATE_OR_ADDRESS.test(text)) return null;
  const known = hasVerb(text) || libraryKnowsHeader(text);
  if (!known && text.split(/\s+/).length > 40) return null;
  return { start, end: j + 1, known };
}
