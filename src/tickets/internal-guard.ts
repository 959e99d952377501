import { QUOTE_PREFIX, shingleKey, shingles, splitLines, wordStream, words } from "../mail/quotes/words.js";

/*
 * The last line of defence for "nothing internal reaches a requester": before a mail to a
 * requester or another non-agent participant is queued, the person-written text in it is
 * compared with the ticket's internal texts. Quote stripping can fail on a client nobody has
 * seen; this must not.
 *
 * Texts are compared as word streams (quote marks, whitespace, case, punctuation and link targets
 * ignored), in runs of SHINGLE words, so a note that a client re-wrapped, re-quoted at another depth
 * or turned from HTML into text is still found. A finding needs MIN_RUN words in a row of internal
 * text, or a whole internal line of at least MIN_LINE_WORDS words, or a whole internal text of at
 * least MIN_TEXT_WORDS words (a short note, "Customer owes us 5000 euros.", is the whole secret):
 * "Hello,", "Thanks" or "Best regards, Bob" never trigger. Words the recipient already knows
 * (`known`: their own words, what they were sent) do not count.
 */

const SHINGLE = 4;
const MIN_RUN = 8;
const MIN_LINE_WORDS = 6;
const MIN_TEXT_WORDS = 3;

export interface InternalTextFinding {
  /** The internal line (normalised: quote marks and surrounding whitespace removed, blanks collapsed, lower case). */
  line: string;
  /** Index of the internal text it came from, in the `internal` list given. */
  source: number;
  /** How many words of that line the public text would carry. */
  words: number;
}

const normaliseLine = (l: string): string => l.replace(QUOTE_PREFIX, "").replace(/\s+/g, " ").trim().toLowerCase();

function shingleSet(texts: string[]): Set<string> {
  const set = new Set<string>();
  for (const t of texts)
    shingles(
      words(
        splitLines(t)
          .map((l) => l.replace(QUOTE_PREFIX, ""))
          .join("\n"),
      ),
      SHINGLE,
      set,
    );
  return set;
}

/** Which words of `ws` lie in a run of SHINGLE words that the public text has and the recipient does not know. */
function leakedWords(ws: string[], pub: Set<string>, known: Set<string>): boolean[] {
  const leaked = new Array<boolean>(ws.length).fill(false);
  for (let i = 0; i + SHINGLE <= ws.length; i++) {
    const key = shingleKey(ws, i, SHINGLE);
    if (!pub.has(key) || known.has(key)) continue;
    for (let j = i; j < i + SHINGLE; j++) leaked[j] = true;
  }
  return leaked;
}

/** Words that count: in a run of at least MIN_RUN leaked words, or making up a whole leaked line of MIN_LINE_WORDS. */
function countingWords(leaked: boolean[], lineOf: number[]): boolean[] {
  const counts = leaked.map(() => false);
  for (let i = 0; i < leaked.length;) {
    let j = i;
    while (j < leaked.length && leaked[j]) j++;
    if (j - i >= MIN_RUN) for (let k = i; k < j; k++) counts[k] = true;
    i = j === i ? i + 1 : j;
  }
  const perLine = new Map<number, number[]>();
  lineOf.forEach((line, i) => perLine.set(line, [...(perLine.get(line) ?? []), i]));
  for (const idx of perLine.values()) {
    if (idx.length >= MIN_LINE_WORDS && idx.every((i) => leaked[i])) for (const i of idx) counts[i] = true;
  }
  return counts;
}

/** Whether `ws` occurs in `hay` as consecutive words. */
function hasRun(hay: string[], ws: string[]): boolean {
  for (let i = 0; i + ws.length <= hay.length; i++) if (ws.every((w, j) => hay[i + j] === w)) return true;
  return false;
}

const textWords = (texts: string[]): string[][] =>
  texts.map((t) =>
    words(
      splitLines(t)
        .map((l) => l.replace(QUOTE_PREFIX, ""))
        .join("\n"),
    ),
  );

/** A short internal text (fewer words than a run or a line needs) that the public text carries whole, unknown to the recipient. */
function wholeShortText(ws: string[], pub: string[], known: string[][]): boolean {
  return ws.length >= MIN_TEXT_WORDS && ws.length < MIN_RUN && hasRun(pub, ws) && !known.some((k) => hasRun(k, ws));
}

/**
 * Which lines of `internal` the public text would carry (re-wrapped, re-quoted or not) that the
 * recipient does not already know from `known` (what they wrote or were sent). Empty when the public
 * text is safe to send. Pure; one finding per internal line, in the order of `internal`.
 */
export function findInternalText(publicText: string, internal: string[], known: string[] = []): InternalTextFinding[] {
  const pub = shingleSet([publicText]);
  const knownSet = shingleSet(known);
  const [pubWords] = textWords([publicText]);
  const knownWords = textWords(known);
  const out: InternalTextFinding[] = [];
  internal.forEach((text, source) => {
    const lines = splitLines(text);
    const stream = wordStream(lines);
    const whole = wholeShortText(stream.words, pubWords, knownWords);
    const counts = whole ? stream.words.map(() => true) : countingWords(leakedWords(stream.words, pub, knownSet), stream.lineOf);
    const perLine = new Map<number, number>();
    counts.forEach((c, i) => {
      if (c) perLine.set(stream.lineOf[i], (perLine.get(stream.lineOf[i]) ?? 0) + 1);
    });
    for (const [line, n] of [...perLine].sort((a, b) => a[0] - b[0])) out.push({ line: normaliseLine(lines[line]), source, words: n });
  });
  return out;
}
