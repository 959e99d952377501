/*
 * Word streams for comparing texts that a mail client has re-wrapped, re-quoted or re-indented.
 * Two texts are compared on their words, never on their lines: a client that wraps at 72
 * columns, prefixes "> " at any depth, turns HTML into text (adding "*bold*" or link targets)
 * or collapses blank lines still yields the same words in the same order.
 */

/** A quote prefix: ">" marks at any depth, with the blanks clients put between them. */
export const QUOTE_PREFIX = /^[ \t]*(?:>[ \t]?)+/;

// Link targets come and go with HTML-to-text conversion ("text <https://…>", "[mailto:…]").
const LINK = /(?:https?:\/\/|mailto:|www\.)[^\s<>()[\]]+/giu;
const WORD = /[\p{L}\p{N}\p{M}]+/gu;
// Invisible characters that HTML mail and editors put inside words (soft hyphen, zero-width space and
// joiners, word joiner, BOM): "main&shy;tenance" is still the word "maintenance".
const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff]/g;
// Scripts written without spaces: each character is a word, so a re-wrap inside a run still matches.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/** The words of one piece of text: NFKC, lower case, links dropped, unspaced scripts split per character. */
export function words(text: string): string[] {
  const out: string[] = [];
  const plain = text.normalize("NFKC").replace(INVISIBLE, "").toLowerCase().replace(LINK, " ");
  for (const m of plain.matchAll(WORD)) {
    const w = m[0];
    if (!UNSPACED.test(w)) {
      out.push(w);
      continue;
    }
    let run = "";
    for (const ch of w) {
      if (UNSPACED.test(ch)) {
        if (run) out.push(run);
        run = "";
        out.push(ch);
      } else run += ch;
    }
    if (run) out.push(run);
  }
  return out;
}

/** A text's words with the index of the line each came from (quote prefixes removed first). */
export interface WordStream {
  words: string[];
  /** `lineOf[i]` is the 0-based line of `words[i]`. */
  lineOf: number[];
}

export function wordStream(lines: string[]): WordStream {
  const stream: WordStream = { words: [], lineOf: [] };
  lines.forEach((line, i) => {
    for (const w of words(line.replace(QUOTE_PREFIX, ""))) {
      stream.words.push(w);
      stream.lineOf.push(i);
    }
  });
  return stream;
}

export function splitLines(text: string): string[] {
  return text.replace(/\r\n?/g, "\n").split("\n");
}

/** The set key of the `k` words of `ws` from `at` on. */
export const shingleKey = (ws: string[], at: number, k: number): string => ws.slice(at, at + k).join("\u0001");

/** Every run of `k` consecutive words of `ws` (a "shingle"), as set keys. */
export function shingles(ws: string[], k: number, into: Set<string> = new Set()): Set<string> {
  for (let i = 0; i + k <= ws.length; i++) into.add(shingleKey(ws, i, k));
  return into;
}
