import { type Line } from "./lines.js";
import { END_OF_FORWARD, FORWARDED_MESSAGE, ORIGINAL_MESSAGE, fold, headerField, type HeaderField } from "./vocabulary.js";

/*
 * Header blocks ("From:/Sent:/To:/Subject:" and their translations, in any order, bold or not)
 * and banner lines ("-----Original Message-----", "---------- Forwarded message ---------",
 * "Begin forwarded message:") that clients put above the mail they quote or forward.
 */

// "Label: value", "Label : value" (French spacing), "*Label:* value" (HTML bold turned into text),
// "Label：value" (full-width colon), "Label:\tvalue" (HCL Notes).
const HEADER_LINE = /^[ \t]*\*{0,2}([^\s:：*][^:：*\n]{0,30}?)[ \t]*\*{0,2}[ \t]*[:：][ \t]*\*{0,2}[ \t]*(.*)$/u;

/** The field a "Label: value" line names, or null when it is not a known header label. */
export function headerLineField(body: string): HeaderField | null {
  const m = HEADER_LINE.exec(body);
  return m ? headerField(m[1]) : null;
}

/** A line of only "_", "-" or "=" that Outlook and others draw above the quoted header block. */
export const RULE_LINE = /^[ \t]*(?:_{8,}|-{8,}|={8,}|\*{8,})[ \t]*$/;

export type BannerKind = "original" | "forward" | "end-forward";

// A banner is its words between runs of "-", "_", "=" or "*" ("-----Original Message-----",
// "----- Forwarded message from X -----"), or, for Apple Mail's forward, ending in a colon.
const DASHED = /^[ \t]*[-_=*~]{2,}[ \t]*(.+?)[ \t]*[-_=*~]{2,}[ \t]*$/u;
const LEADING_DASHES = /^[ \t]*[-_=*~]{3,}[ \t]*(.+?)[ \t]*$/u;
const COLON_ENDED = /^[ \t]*(.+?)[ \t]*[:：][ \t]*$/u;

/** What kind of banner the line is, or null. */
export function bannerKind(body: string): BannerKind | null {
  const dashed = DASHED.exec(body)?.[1] ?? LEADING_DASHES.exec(body)?.[1];
  if (dashed !== undefined) {
    const inner = fold(dashed.replace(/[:：]$/, ""));
    if (ORIGINAL_MESSAGE.includes(inner)) return "original";
    if (FORWARDED_MESSAGE.includes(inner) || inner.startsWith("forwarded message from")) return "forward";
    if (END_OF_FORWARD.includes(inner)) return "end-forward";
    return null;
  }
  const colon = COLON_ENDED.exec(body)?.[1];
  if (colon !== undefined && FORWARDED_MESSAGE.includes(fold(colon))) return "forward";
  return null;
}

export interface HeaderBlock {
  start: number;
  /** Index after the last line of the block. */
  end: number;
  fields: Set<HeaderField>;
}

/**
 * A block is a quoted mail's header when it names the sender and the subject, or the sender's
 * address with a date or recipient, or sits under a rule or banner line. Without that it could be
 * the customer's own list ("From: Berlin / To: Munich / Date: 3 March", "Subject: budget").
 */
function isMailHeader(fields: Set<HeaderField>, fromHasAddress: boolean, underBanner: boolean): boolean {
  if (fields.has("from") && fields.has("subject")) return true;
  if (fields.has("from") && fromHasAddress && (fields.has("date") || fields.has("to"))) return true;
  return underBanner && (fields.has("from") || fields.size >= 3);
}

/**
 * The header block starting at line `i` (same quote depth throughout), or null. Outlook wraps long
 * To/Cc lists onto following lines without a label: up to two such lines are taken as part of the block.
 */
export function headerBlockAt(lines: Line[], i: number): HeaderBlock | null {
  const depth = lines[i].depth;
  if (headerLineField(lines[i].body) === null) return null;
  const fields = new Set<HeaderField>();
  let fromHasAddress = false;
  let end = i;
  let loose = 0;
  for (let k = i; k < lines.length && k < i + 14; k++) {
    const l = lines[k];
    if (l.blank || l.depth !== depth || l.body.trim() === "") break;
    const field = headerLineField(l.body);
    if (field === null) {
      if (++loose > 2) break;
      continue;
    }
    if (field === "from" && /@|\[mailto:/.test(l.body)) fromHasAddress = true;
    fields.add(field);
    end = k + 1;
    loose = 0;
  }
  return isMailHeader(fields, fromHasAddress, withBannerAbove(lines, i) < i) ? { start: i, end, fields } : null;
}

// A few words between runs of dashes ("----- Mail original -----", "-------- 원본 이메일 --------").
const SHORT_DASHED = /^[ \t]*[-_=*~]{3,}[ \t]*[^-_=*~\s][^-_=*~]{0,40}?[ \t]*[-_=*~]{3,}[ \t]*$/u;

/**
 * Where the history a header block belongs to begins: the block, with a rule or banner just above.
 * A dashed banner right above a header block or attribution is part of it in any wording
 * (Zimbra's "----- Mail original -----" is no translation of "Original Message"), unless it is a
 * forward banner: what follows a forward is the request.
 */
export function withBannerAbove(lines: Line[], start: number): number {
  for (let k = start - 1; k >= 0 && k >= start - 2; k--) {
    const l = lines[k];
    if (l.blank) continue;
    const kind = bannerKind(l.body);
    if (RULE_LINE.test(l.body) || kind === "original" || (kind === null && SHORT_DASHED.test(l.body))) return k;
    break;
  }
  return start;
}
