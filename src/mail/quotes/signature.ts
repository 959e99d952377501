import { type Line } from "./lines.js";
import { CLOSINGS, SENT_FROM, SENT_FROM_THING, fold } from "./vocabulary.js";

/*
 * What goes at the end of the new text: a signature after "-- " (RFC 3676 section 4.3), a
 * "Sent from my iPhone" line, a closing ("Regards,", "Mit freundlichen Grüßen", "Mvh Dorte").
 * A phone line or closing goes only when nothing but a signature follows it: a P.S. after
 * "Regards," stays, and so does a paragraph that merely starts with "Sent from the same laptop".
 */

const SIG_SEPARATOR = /^--[ \t]?$/;
const POSTSCRIPT = /^\s*(?:p\.?\s?p?\.?\s?s\b|n\.?\s?b\.?\s)/iu;
const MAX_SIGNATURE_LINES = 6;

const CLOSING_FORMS = [...CLOSINGS].sort((a, b) => b.length - a.length);

/** A closing alone, or followed by a comma and a name, or by a capitalised name ("Mvh Dorte"). */
export function isClosing(body: string): boolean {
  const t = body.normalize("NFKC").trim();
  const lower = t.toLowerCase();
  const form = CLOSING_FORMS.find((c) => lower.startsWith(c) && !/^[\p{L}\p{M}]/u.test(lower.slice(c.length)));
  if (form === undefined) return false;
  const after = t.slice(form.length);
  const rest = after.replace(/^[\s,.!！。:：]+/u, "");
  if (rest === "") return true;
  const names = rest.split(/\s+/);
  if (/^\s*,/.test(after)) return names.length <= 3;
  return names.length <= 2 && names.every((n) => /^\p{Lu}/u.test(n));
}

/** A short "Sent from my iPhone"-like line naming a device or mail app. */
export function isSentFrom(body: string): boolean {
  const t = fold(body);
  if (t.length > 70 || t.split(" ").length > 10) return false;
  return SENT_FROM.some((re) => re.test(t)) && (SENT_FROM_THING.test(t) || /[\p{Script=Han}\p{Script=Hangul}\p{Script=Katakana}]/u.test(t));
}

/** Lines a signature is made of: a name, a title, a company, a phone number; no sentence, no P.S. */
function isSignatureTail(lines: Line[]): boolean {
  const filled = lines.filter((l) => !l.blank);
  if (filled.length > MAX_SIGNATURE_LINES) return false;
  return filled.every((l) => {
    const t = l.body.trim();
    if (l.depth > 0 || t.length > 72 || POSTSCRIPT.test(t) || /[?？]$/.test(t)) return false;
    const words = t.split(/\s+/).length;
    return words <= 8 && !(words > 4 && /[.!。]$/.test(t));
  });
}

function trimBlankEnd(lines: Line[]): Line[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1].blank) end--;
  return lines.slice(0, end);
}

/** The lines without a trailing signature, phone line or closing; unchanged when nothing would be left. */
export function stripSignature(input: Line[]): Line[] {
  let lines = trimBlankEnd(input);
  let sep = lines.length - 1;
  while (sep >= 0 && !(lines[sep].depth === 0 && SIG_SEPARATOR.test(lines[sep].raw))) sep--;
  if (sep > 0 && lines.slice(0, sep).some((l) => !l.blank)) lines = trimBlankEnd(lines.slice(0, sep));
  // The topmost closing or phone line in the last few lines that only a signature follows.
  const window = Math.max(0, lines.length - MAX_SIGNATURE_LINES - 4);
  for (let c = window; c < lines.length; c++) {
    const l = lines[c];
    if (l.blank || l.depth > 0 || !(isClosing(l.body) || isSentFrom(l.body))) continue;
    if (!isSignatureTail(lines.slice(c + 1))) continue;
    const kept = trimBlankEnd(lines.slice(0, c));
    if (kept.some((k) => !k.blank)) return kept;
  }
  return lines;
}
