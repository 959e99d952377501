/*
 * Subject lines: our ticket tag, and the reply/forward prefixes mail clients add in many
 * languages. The prefix list follows what clients actually write (Outlook localisations,
 * Thunderbird, Apple Mail, Gmail); threading never relies on a prefix, only on the tag and
 * the Message-ID headers. Titles just should not read "AW: WG: Re: printer".
 */
const PREFIX_WORDS = [
  "re", "fw", "fwd", "aw", "wg", "sv", "vs", "vb", "antw", "antwort", "doorst", "tr", "trans", "rif", "r", "i",
  "enc", "res", "odp", "pd", "ynt", "ilt", "atb", "vl", "răs", "fs", "re\\^\\d+",
  "回复", "回覆", "转发", "轉寄", "答复", "Σχετ", "Προωθ", "תגובה", "הועבר", "رد", "إعادة توجيه",
];
const PREFIX = new RegExp(
  `^\\s*(?:\\[[^\\]]{0,40}\\]\\s*)*(?:${PREFIX_WORDS.join("|")})\\s*(?:\\[\\d+\\]|\\(\\d+\\))?\\s*[:：]\\s*`,
  "iu",
);

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
}

function tagPattern(format: TicketTagFormat, flags = "i"): RegExp {
  return new RegExp(`\\[#${format.prefix}-(\\d{1,9})\\]`, flags);
}

export function formatReference(format: TicketTagFormat, ticketId: number): string {
  return `${format.prefix}-${ticketId}`;
}

export function formatTag(format: TicketTagFormat, ticketId: number): string {
  return `[#${formatReference(format, ticketId)}]`;
}

/** The ticket numbers tagged in a subject, anywhere in it, in order of appearance. */
export function findTaggedTickets(subject: string, format: TicketTagFormat): number[] {
  const out: number[] = [];
  for (const m of subject.matchAll(tagPattern(format, "gi"))) out.push(Number(m[1]));
  return out;
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
