import { cutHistory, type HistoryKind } from "./quotes/history.js";
import { joinLines, toLines, type Line } from "./quotes/lines.js";
import { cutOwnText } from "./quotes/own-text.js";
import { stripSignature } from "./quotes/signature.js";

/*
 * The new part of a reply, without the history mail clients quote below (or above) it.
 *
 * 1. Our own text first (quotes/own-text.ts): a reply to one of our mails quotes it, so where the
 *    words of one of our stored outbound texts appear, quoted or re-wrapped, is history, with the
 *    attribution or header block above it in whatever language. This does not depend on wording.
 * 2. Then history by its shape (quotes/history.ts): ">" quotes with their attribution lines,
 *    header blocks ("Fra:/Sendt:/Til:/Emne:", "De :/Envoyé :/À :/Objet :", "差出人:/送信日時:",
 *    any order), "-----Original Message-----" in many languages; email-reply-parser's list of
 *    reply headers is asked as one more recogniser (quotes/attribution.ts).
 * 3. Then a trailing signature, phone line or closing, only when nothing but a signature follows.
 *
 * Never lose the new text: a forward keeps what it forwards (it is the request), and a step that
 * would leave nothing is not taken.
 */

export interface StripOptions {
  /**
   * The stored texts of our own mails this reply may quote: the mail it answers (In-Reply-To) first,
   * then the other outbound mails of the ticket, newest first. Quote stripping cuts first where one of
   * them begins in the reply, with or without ">" prefixes and re-wrapped, together with the
   * attribution or header block just above it.
   */
  ownTexts?: string[];
  /**
   * The mail's subject, when known: a forward prefix ("Fwd:", "WG:", "TR:", "RV:", "I:") makes a header
   * block below the text the start of a forwarded mail (kept), not history (cut).
   */
  subject?: string;
}

/** What stripping found, for the trail. */
export interface StrippedReply {
  /** The new text, trailing whitespace trimmed; the whole text (trimmed) when nothing new could be told apart. */
  text: string;
  /** Index in `ownTexts` of our text that was found quoted, or -1. */
  ownText: number;
  /** How the rest of the history was recognised ("none" when there was none). */
  history: HistoryKind;
  /** A signature, phone line or closing was removed at the end. */
  signature: boolean;
}

// Forward prefixes clients put before the subject (English, German, French, Spanish/Portuguese, Italian, Dutch, Polish, Finnish).
const FORWARD_SUBJECT = /^\s*(?:\[[^\]]{1,30}\]\s*)*(?:fwd?|wg|tr|rv|enc|i|doorst|pd|vl|fw)\s*:/i;

const hasText = (lines: Line[]): boolean => lines.some((l) => !l.blank && l.body.trim() !== "");

/**
 * The new text of a reply and what was cut. Pure; the caller stores the full original.
 * Shapes: see StripOptions and StrippedReply.
 */
export function analyseReply(text: string, opts: StripOptions = {}): StrippedReply {
  const all = toLines(text);
  const own = opts.ownTexts?.length ? cutOwnText(all, opts.ownTexts) : null;
  let lines = own && hasText(own.lines) ? own.lines : all;
  const ownText = own && lines === own.lines ? own.source : -1;
  const forwarded = ownText < 0 && opts.subject !== undefined && FORWARD_SUBJECT.test(opts.subject);
  const history = cutHistory(lines, { forwarded });
  if (hasText(history.lines)) lines = history.lines;
  const signed = stripSignature(lines);
  const signature = joinLines(signed) !== joinLines(lines);
  const out = joinLines(signed);
  if (out === "" || isOnlyBanner(signed)) return { text: text.trim(), ownText: -1, history: "none", signature: false };
  return { text: out, ownText, history: history.kind, signature };
}

function isOnlyBanner(lines: Line[]): boolean {
  const filled = lines.filter((l) => !l.blank && l.body.trim() !== "");
  return filled.length === 1 && /^[ \t]*[-_=*~]{2,}.*[-_=*~]{2,}[ \t]*$/.test(filled[0].body);
}

/**
 * The new text of a reply: our own quoted mail, quoted history, and a trailing signature removed,
 * trailing whitespace trimmed. When nothing would be left (a mail that is only a quote, or a
 * forward without a word of its own), the original text, trimmed: better a ticket with too much
 * text than with none.
 */
export function stripQuotedHistory(text: string, opts: StripOptions = {}): string {
  return analyseReply(text, opts).text;
}
