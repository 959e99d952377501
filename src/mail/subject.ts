import { createHmac, timingSafeEqual } from "node:crypto";

/*
 * Subject lines: our ticket tag, and the reply/forward prefixes mail clients add in many
 * languages. The prefix list follows what clients actually write (Outlook localisations,
 * Thunderbird, Apple Mail, Gmail); threading never relies on a prefix, only on the tag and
 * the Message-ID headers. Titles just should not read "AW: WG: Re: printer".
 */
const PREFIX_WORDS = [
  "re",
  "fw",
  "fwd",
  "aw",
  "wg",
  "sv",
  "vs",
  "vb",
  "antw",
  "antwort",
  "doorst",
  "tr",
  "trans",
  "rif",
  "r",
  "i",
  "enc",
  "res",
  "odp",
  "pd",
  "ynt",
  "ilt",
  "atb",
  "vl",
  "răs",
  "fs",
  "re\\^\\d+",
  "回复",
  "回覆",
  "转发",
  "轉寄",
  "答复",
  "Σχετ",
  "Προωθ",
  "תגובה",
  "הועבר",
  "رد",
  "إعادة توجيه",
  // Outlook's own forms: Spanish RV, Turkish İLT (dotted capital İ does not fold to "i"), Greek ΑΠ/ΠΡΘ,
  // Korean 회신/전달, Hebrew השב/העבר, Hungarian Vá/Továbbítás; Japanese clients' 返信/転送; Russian Отв/Пересл.
  "rv",
  "İlt",
  "ΑΠ",
  "ΠΡΘ",
  "회신",
  "전달",
  "השב",
  "העבר",
  "vá",
  "válasz",
  "továbbítás",
  "返信",
  "転送",
  "отв",
  "пересл",
];
const PREFIX = new RegExp(`^\\s*(?:\\[[^\\]]{0,40}\\]\\s*)*(?:${PREFIX_WORDS.join("|")})\\s*(?:\\[\\d+\\]|\\(\\d+\\))?\\s*[:：]\\s*`, "iu");

/** Removes any number of leading reply/forward prefixes ("AW: WG: Re[2]: x" → "x"). */
export function stripReplyPrefixes(subject: string): string {
  let s = subject;
  for (let i = 0; i < 20; i++) {
    const m = PREFIX.exec(s);
    if (!m || m[0].length === 0) break;
    // A bracketed list name before a prefix ("[list] Re: x") is kept only if no prefix follows.
    s = s.slice(m[0].length);
  }
  return s.trim();
}

export interface TicketTagFormat {
  /** Letters before the number, "T" in [#T-1042]. */
  prefix: string;
  /**
   * Key of the check in the tag ([#T-1042-k7f2q]): without it, anyone who guesses a ticket
   * number could write into that ticket. Unset only in tests of the tag syntax itself.
   */
  secret?: string;
}

const CHECK_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

function tagPattern(format: TicketTagFormat, flags = "i"): RegExp {
  return new RegExp(`\\[#${format.prefix}-(\\d{1,9})(?:-([0-9a-z]{1,12}))?\\]`, flags);
}

/** Five characters of HMAC-SHA256 over the reference (25 bits: one guess in 33 million). */
export function referenceCheck(secret: string, reference: string): string {
  const mac = createHmac("sha256", secret).update(reference.toUpperCase()).digest();
  let bits = mac.readUInt32BE(0);
  let out = "";
  for (let i = 0; i < 5; i++) {
    out += CHECK_ALPHABET[bits & 31];
    bits >>>= 5;
  }
  return out;
}

export function formatReference(format: TicketTagFormat, ticketId: number): string {
  return `${format.prefix}-${ticketId}`;
}

export function formatTag(format: TicketTagFormat, ticketId: number): string {
  const ref = formatReference(format, ticketId);
  return format.secret ? `[#${ref}-${referenceCheck(format.secret, ref)}]` : `[#${ref}]`;
}

export interface FoundTag {
  ticketId: number;
  valid: boolean;
  reason: string;
}

/** Every tag of ours in a subject, with whether its check is right. */
export function inspectTags(subject: string, format: TicketTagFormat): FoundTag[] {
  const out: FoundTag[] = [];
  for (const m of subject.matchAll(tagPattern(format, "gi"))) {
    const ticketId = Number(m[1]);
    const ref = formatReference(format, ticketId);
    if (!format.secret) out.push({ ticketId, valid: true, reason: `tag ${ref}` });
    else if (!m[2]) out.push({ ticketId, valid: false, reason: `tag ${ref} carries no check` });
    else if (
      timingSafeEqual(Buffer.from(m[2].toLowerCase()), Buffer.from(referenceCheck(format.secret, ref)).subarray(0, m[2].length)) &&
      m[2].length === 5
    ) {
      out.push({ ticketId, valid: true, reason: `tag ${ref} with a valid check` });
    } else out.push({ ticketId, valid: false, reason: `tag ${ref} with a wrong check` });
  }
  return out;
}

/** The ticket numbers validly tagged in a subject, anywhere in it, in order of appearance. */
export function findTaggedTickets(subject: string, format: TicketTagFormat): number[] {
  return inspectTags(subject, format)
    .filter((t) => t.valid)
    .map((t) => t.ticketId);
}

/** Title for a ticket: prefixes and our tags removed, whitespace folded, never empty. */
export function titleFromSubject(subject: string, format: TicketTagFormat, fallback = "(no subject)"): string {
  let s = subject.replace(tagPattern(format, "gi"), " ");
  s = stripReplyPrefixes(s.replace(/\s+/g, " "));
  // A tag in the middle may leave a prefix behind it ("Re: [#T-1] Re: x").
  s = stripReplyPrefixes(s).replace(/\s+/g, " ").trim();
  return s === "" ? fallback : s;
}

/** Subject for a mail we send: our tag in front of the ticket title. */
export function subjectWithTag(title: string, format: TicketTagFormat, ticketId: number): string {
  const clean = title.replace(/[\r\n]+/g, " ").trim();
  return `${formatTag(format, ticketId)} ${clean}`;
}
