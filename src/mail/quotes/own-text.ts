import { attributionEndingAt } from "./attribution.js";
import { RULE_LINE, bannerKind, withBannerAbove } from "./header-block.js";
import { type Line, joinParts } from "./lines.js";
import { QUOTE_PREFIX, shingleKey, shingles, splitLines, wordStream, words } from "./words.js";

/*
 * Cutting at our own text. A reply to one of our mails quotes it: wherever the words of a stored
 * outbound text appear in the reply, in order, that is quoted history, whatever the client, the
 * language of its attribution, its quote marks or its line width. Words are compared in runs of
 * SHINGLE, so a customer who repeats a short phrase of ours ("your ticket T-1") is not cut; a
 * passage counts only from MIN_WORDS matched words on, and only when it looks quoted: ">" marks,
 * an attribution or header block above it, most of our mail, the start or the end of the reply,
 * or a quote of ours above it (answers written between our paragraphs, as Outlook users do).
 */

const SHINGLE = 5;
const MIN_WORDS = 10;
const MAX_GAP_WORDS = 3;

interface Passage {
  start: number;
  /** Index after the passage's last line. */
  end: number;
  matched: number;
  source: number;
}

export interface OwnTextCut {
  /** The reply without our quoted text and the attributions above it; each cut leaves one blank line. */
  lines: Line[];
  /** Line where the first cut begins (its attribution or header block included). */
  start: number;
  /** Index in `ownTexts` of the text found first. */
  source: number;
}

// "Label: value" in any language: a short run of letters before a colon.
const LABEL_LINE = /^[ \t]*\*{0,2}[\p{L}][\p{L}\p{M} .'’-]{0,30}?\*{0,2}[ \t]?[:：]/u;

/** Where a quote of ours begins, with what a client wrote above it, in any language. */
export function attributionStart(lines: Line[], s: number): number {
  let k = s - 1;
  let gap = 0;
  while (k >= 0 && (lines[k].blank || lines[k].body.trim() === "") && gap < 3) {
    k--;
    gap++;
  }
  if (k < 0 || lines[k].blank || lines[k].body.trim() === "") return s;
  let h = k;
  while (h >= 0 && !lines[h].blank && LABEL_LINE.test(lines[h].body)) h--;
  if (k - h >= 2) return withBannerAbove(lines, h + 1);
  const attribution = attributionEndingAt(lines, k);
  if (attribution) return withBannerAbove(lines, attribution.start);
  const body = lines[k].body;
  if (RULE_LINE.test(body) || bannerKind(body) !== null || /^[ \t]*[-_=*~]{3,}.*[-_=*~]{3,}[ \t]*$/.test(body)) return k;
  // An invented client's attribution without a colon: a line naming an address and a date.
  if (/@/.test(body) && /\d/.test(body) && body.length <= 200) return k;
  return s;
}

/** Shingles of our texts, each with the index of the first text it occurs in; texts too short to match are left out. */
function ownShingles(ownTexts: string[]): { index: Map<string, number>; lengths: number[] } {
  const index = new Map<string, number>();
  const lengths = ownTexts.map((t, source) => {
    const ws = words(
      splitLines(t)
        .map((l) => l.replace(QUOTE_PREFIX, ""))
        .join("\n"),
    );
    if (ws.length >= SHINGLE) for (const sh of shingles(ws, SHINGLE)) if (!index.has(sh)) index.set(sh, source);
    return ws.length;
  });
  return { index, lengths };
}

interface LineCoverage {
  /** Words per line. */
  total: number[];
  /** Words per line inside a shingle of ours. */
  hit: number[];
  /** Per line, the own text its first matched word came from, or -1. */
  source: number[];
}

function lineCoverage(lines: Line[], index: Map<string, number>): LineCoverage {
  const stream = wordStream(lines.map((l) => l.raw));
  const from = new Array<number>(stream.words.length).fill(-1);
  for (let i = 0; i + SHINGLE <= stream.words.length; i++) {
    const s = index.get(shingleKey(stream.words, i, SHINGLE));
    if (s === undefined) continue;
    for (let j = i; j < i + SHINGLE; j++) if (from[j] < 0) from[j] = s;
  }
  const cov: LineCoverage = { total: lines.map(() => 0), hit: lines.map(() => 0), source: lines.map(() => -1) };
  stream.lineOf.forEach((line, i) => {
    cov.total[line]++;
    if (from[i] < 0) return;
    cov.hit[line]++;
    if (cov.source[line] < 0) cov.source[line] = from[i];
  });
  return cov;
}

/** Maximal runs of lines made of our words (blank lines and a few unmatched words inside them allowed). */
function passages(lines: Line[], cov: LineCoverage): Passage[] {
  const own = (i: number) => cov.total[i] > 0 && cov.hit[i] * 2 >= cov.total[i];
  const found: Passage[] = [];
  let current: Passage | null = null;
  let gap = 0;
  for (let i = 0; i < lines.length; i++) {
    if (own(i)) {
      current ??= { start: i, end: i + 1, matched: 0, source: cov.source[i] };
      current.matched += cov.hit[i];
      current.end = i + 1;
      gap = 0;
    } else if (current !== null && (gap += cov.total[i] - cov.hit[i]) > MAX_GAP_WORDS) {
      found.push(current);
      current = null;
      gap = 0;
    }
  }
  if (current !== null) found.push(current);
  // A quote is one block: the rest of the ">" lines right below our words (a signature line of ours
  // that matched too little, an older mail quoted deeper) goes with them.
  for (const p of found) {
    if (lines[p.end - 1].depth === 0) continue;
    while (p.end < lines.length && lines[p.end].depth > 0) p.end++;
  }
  return found;
}

/**
 * The last line of the reply when it is the last line of one of our texts ("Example Support"): too
 * short to match as words in a row, it is ours when an inline answer separates it from our quote.
 */
function ourSignatureAtEnd(lines: Line[], ownTexts: string[], after: number): Passage | null {
  let last = lines.length - 1;
  while (last >= after && lines[last].body.trim() === "") last--;
  if (last < after) return null;
  const tail = words(lines[last].body).join(" ");
  const source = ownTexts.findIndex((t) => {
    const own = splitLines(t).filter((l) => l.trim() !== "");
    return own.length > 0 && words(own[own.length - 1]).join(" ") === tail;
  });
  return tail !== "" && source >= 0 ? { start: last, end: last + 1, matched: 0, source } : null;
}

/** Our words in the reply, cut with their attributions; null when the reply does not quote us. */
export function cutOwnText(lines: Line[], ownTexts: string[]): OwnTextCut | null {
  const { index, lengths } = ownShingles(ownTexts);
  if (index.size === 0) return null;
  const cov = lineCoverage(lines, index);
  const minWords = Math.min(MIN_WORDS, ...lengths.filter((n) => n >= SHINGLE));
  const wordsAfter = (i: number) => cov.total.slice(i).reduce((a, b) => a + b, 0);
  let inQuote = false;
  const accepted = passages(lines, cov).filter((p) => {
    if (p.matched < minWords) return false;
    // Below a quote of ours, more of our words are the same quote, answered inline (Outlook marks nothing).
    if (inQuote) return true;
    const span = lines.slice(p.start, p.end).filter((l) => !l.blank && l.body.trim() !== "");
    inQuote =
      span.filter((l) => l.depth > 0).length * 2 >= span.length ||
      attributionStart(lines, p.start) < p.start ||
      p.matched >= 0.6 * lengths[p.source] ||
      wordsAfter(p.end) <= 6 ||
      wordsAfter(0) === wordsAfter(p.start);
    return inQuote;
  });
  if (accepted.length === 0) return null;
  const signed = ourSignatureAtEnd(lines, ownTexts, accepted[accepted.length - 1].end);
  if (signed) accepted.push(signed);
  let kept: Line[] = [];
  let from = 0;
  for (const p of accepted) {
    kept = joinParts(kept, lines.slice(from, Math.max(from, attributionStart(lines, p.start))));
    from = Math.max(from, p.end);
  }
  kept = joinParts(kept, lines.slice(from));
  return { lines: kept, start: attributionStart(lines, accepted[0].start), source: accepted[0].source };
}
