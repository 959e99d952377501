import { attributionEndingAt } from "./attribution.js";
import { bannerKind, headerBlockAt, withBannerAbove } from "./header-block.js";
import { type Line, joinParts, nextNonBlank } from "./lines.js";

/*
 * Quoted history found by its shape, after our own text is gone. Each line is marked, as talon
 * and its port planer do: e (blank), t (text), m (quoted with ">"), s (attribution, header
 * block, banner), f (forward banner), h (history below a header block, which has no quote marks).
 * Then the marks decide: history above the first text (bottom-posting), below the last text
 * (top-posting), between texts (an interleaved answer, kept: "Yes." means nothing without the
 * question), or a forward (kept whole: the forwarded mail is the request).
 */

type Mark = "e" | "t" | "m" | "s" | "f" | "h";

export interface HistoryOptions {
  /** The mail is a forward (its subject says so): a header block below the text starts the forwarded mail. */
  forwarded?: boolean;
}

/** How the history was recognised, for the trail. */
export type HistoryKind = "none" | "quote" | "attribution" | "header-block" | "forward" | "interleaved";

export interface HistoryCut {
  lines: Line[];
  kind: HistoryKind;
}

const LIST_FOOTER = /mailing list|listinfo|unsubscribe|abmelden|désinscri|désabonn|darse de baja|cancelar suscripción|afmelden|wypisz/i;
const MIN_BARE_QUOTE = 3;
// GroupWise quotes with one line, ">>> Sender 03/02/26 10:00 AM >>>", and the mail below it as is.
const GROUPWISE_HEADER = /^[ \t]*>>>[ \t]*\S.*\d.*\S[ \t]*>>>[ \t]*$/;

function markLines(lines: Line[], opts: HistoryOptions): { marks: Mark[]; toEnd: number } {
  const marks: Mark[] = lines.map((l) => (l.blank ? "e" : l.depth > 0 ? "m" : "t"));
  let toEnd = -1;
  const setToEnd = (at: number) => {
    if (toEnd < 0) toEnd = at;
  };
  for (let i = 0; i < lines.length && toEnd < 0; i++) {
    if (GROUPWISE_HEADER.test(lines[i].raw)) {
      marks[i] = "s";
      setToEnd(i);
      continue;
    }
    if (marks[i] !== "t") continue;
    const banner = bannerKind(lines[i].body);
    if (banner === "forward") {
      marks[i] = "f";
      continue;
    }
    if (banner === "end-forward") {
      marks[i] = "m";
      continue;
    }
    const block = headerBlockAt(lines, i);
    if (banner === "original" || block) {
      const start = block ? withBannerAbove(lines, i) : i;
      if (opts.forwarded && block) {
        marks[start] = "f";
        continue;
      }
      for (let k = start; k < (block?.end ?? i + 1); k++) marks[k] = "s";
      setToEnd(start);
      continue;
    }
    const attribution = attributionEndingAt(lines, i);
    if (!attribution) continue;
    const next = nextNonBlank(lines, i + 1);
    const quoted = next >= 0 && next - i <= 2 && lines[next].depth > lines[i].depth;
    if (!quoted && !attribution.known) continue;
    for (let k = attribution.start; k <= i; k++) marks[k] = "s";
    if (!quoted) setToEnd(withBannerAbove(lines, attribution.start));
  }
  return { marks, toEnd };
}

/** An unquoted line that lost its ">" when a client re-wrapped a quote: it sits between quoted lines. */
function joinLostQuoteMarks(lines: Line[], marks: Mark[]): void {
  for (let i = 1; i < lines.length - 1; i++) {
    if (marks[i] === "t" && marks[i - 1] === "m" && marks[i + 1] === "m" && lines[i - 1].body.length >= 40) marks[i] = "m";
  }
}

/** A ">" block that the text introduces ("Here is the log:") is part of the text, not history. */
function keepIntroducedQuotes(lines: Line[], marks: Mark[]): void {
  for (let i = 0; i < lines.length; i++) {
    if (marks[i] !== "m" || (i > 0 && marks[i - 1] === "m")) continue;
    let k = i - 1;
    if (k >= 0 && marks[k] === "e") k--;
    if (k < 0 || marks[k] !== "t" || !/[:：]$/.test(lines[k].body.trim())) continue;
    for (let j = i; j < lines.length && marks[j] === "m"; j++) marks[j] = "t";
  }
}

/** A list footer below the quote: a rule or list wording, with an address or link, at most eight lines. */
function isListFooter(lines: Line[]): boolean {
  const filled = lines.filter((l) => !l.blank);
  if (filled.length === 0 || filled.length > 8) return false;
  const text = filled.map((l) => l.body).join("\n");
  return LIST_FOOTER.test(text) && /@|https?:\/\//.test(text);
}

/** Lines after a quote that do not make it an interleaved answer: a name, a short line, a list footer. */
function isMinor(lines: Line[]): boolean {
  const filled = lines.filter((l) => !l.blank);
  return isListFooter(lines) || (filled.length <= 3 && filled.every((l) => l.body.trim().length <= 60));
}

/** `inline`: the mail began with a quote, so short lines between quotes are answers, not a signature. */
function decide(lines: Line[], marks: Mark[], inline = false): HistoryCut {
  const first = marks.findIndex((m) => m !== "e" && m !== "t");
  if (first < 0) return { lines, kind: "none" };
  if (marks[first] === "f") return { lines, kind: "forward" };
  let u = first;
  while (u < lines.length && marks[u] !== "t" && marks[u] !== "f") u++;
  const kind: HistoryKind = marks[first] === "s" ? "attribution" : marks[first] === "h" ? "header-block" : "quote";
  const before = marks.slice(0, first).includes("t");
  const lastText = Math.max(marks.lastIndexOf("t"), marks.lastIndexOf("f"));
  if (lastText < u) return before ? { lines: lines.slice(0, first), kind } : { lines, kind: "none" };
  if (!before) {
    const rest = decide(lines.slice(u), marks.slice(u), true);
    return { lines: rest.lines, kind: rest.kind === "none" ? kind : rest.kind };
  }
  const laterQuote = marks.slice(u, lastText).some((m) => m === "m" || m === "s" || m === "h");
  const trailing = lines.slice(u);
  const greeting = lines.slice(0, first).filter((l) => !l.blank);
  // "Hi Carla," above a quote and the answer below it: a bottom-posted answer with a greeting.
  const greetingOnly = !inline && greeting.length === 1 && greeting[0].body.trim().length <= 40 && /[,!:]$/.test(greeting[0].body.trim());
  // A ">" block with no attribution above it, with text below, may be the sender's own quoting: kept.
  const bare = kind === "quote";
  if (!laterQuote && ((!inline && !bare && isMinor(trailing)) || greetingOnly || isListFooter(trailing))) {
    return { lines: joinParts(lines.slice(0, first), isListFooter(trailing) ? [] : trailing), kind };
  }
  return { lines: lines.slice(0, lastText + 1), kind: "interleaved" };
}

/**
 * The lines without quoted history recognised by its shape. Returns the lines unchanged (kind
 * "none") when there is none, or when cutting it would leave no text.
 */
export function cutHistory(lines: Line[], opts: HistoryOptions = {}): HistoryCut {
  const { marks, toEnd } = markLines(lines, opts);
  if (toEnd >= 0) for (let k = toEnd; k < lines.length; k++) marks[k] = "h";
  joinLostQuoteMarks(lines, marks);
  keepIntroducedQuotes(lines, marks);
  // A few ">" lines with no attribution anywhere are text quoting a log or a sentence, not history.
  if (!marks.includes("s") && !marks.includes("h") && marks.filter((m) => m === "m").length < MIN_BARE_QUOTE) {
    for (let k = 0; k < marks.length; k++) if (marks[k] === "m") marks[k] = "t";
  }
  return decide(lines, marks);
}
