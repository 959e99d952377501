import EmailReplyParser from "email-reply-parser";

/*
 * The new part of a reply, without the history mail clients quote below (or above) it.
 * email-reply-parser does the work; around it, three small fixes for shapes it gets wrong
 * in the mail we see (checked against email-reply-parser 2.3.7):
 *
 * 1. Gmail in German wraps its header inside the address ("Am Do., 26. Nov. 2026 um 10:00 Uhr
 *    schrieb Carla <\ncarla@example.com>:"); the library only knows the header on one line
 *    (or wrapped before "wrote:"), and left it in the text. We unwrap such a header when quoted
 *    lines follow it, and the library then removes it.
 * 2. Outlook's header block ("From:/Von:", "Sent:/Gesendet:", "To:/An:", "Subject:/Betreff:")
 *    is found by the library only when the sender has an <address>; Outlook writes just the
 *    name for colleagues in the address book. We cut at any such block.
 * 3. The library takes any line of 2-4 "-", "_", "=" or "+" for a signature separator and
 *    drops everything below it, so a Markdown rule ("---") between two steps lost the second.
 *    Only "-- " (RFC 3676) and "--" (as clients that strip trailing blanks send it) start a
 *    signature here; the others are hidden from the library and stay text.
 *
 * The library also hides English closings ("Regards," "Cheers,") with what follows them; it
 * leaves German ones ("Mit freundlichen Grüßen"). We keep that as it is: a closing is not news.
 */

// Invisible and not whitespace, so the library's separator patterns no longer match the line.
const KEEP_MARK = "\u2063";
const NOT_A_SIGNATURE = /^[ \t]*(?:-{3,4}|_{2,4}|\+{2,4}|={2,4})[ \t]*$/;

const OUTLOOK_FROM = /^[ \t]*\*?(?:From|Von)[ \t]*:/i;
const OUTLOOK_SENT = /^[ \t]*\*?(?:Sent|Gesendet|Date|Datum)[ \t]*:/i;
const OUTLOOK_SUBJECT = /^[ \t]*\*?(?:Subject|Betreff)[ \t]*:/i;
// What Outlook puts above its header block; it goes with the block.
const OUTLOOK_RULE = /^[ \t]*(?:_{10,}|-{3,}[ \t]*(?:Original Message|Ursprüngliche Nachricht)[ \t]*-{3,})[ \t]*$/i;

const WRAPPED_HEADER = [/^On\s.+\swrote:$/, /^Am\s.+\sschrieb\s.+:$/];

/** Index of the first line of an Outlook header block (From, then Sent and Subject within a few lines). */
function outlookBlockStart(lines: string[]): number {
  for (let i = 0; i < lines.length; i++) {
    if (!OUTLOOK_FROM.test(lines[i])) continue;
    const next = lines.slice(i + 1, i + 8);
    if (next.some((l) => OUTLOOK_SENT.test(l)) && next.some((l) => OUTLOOK_SUBJECT.test(l))) {
      return i > 0 && OUTLOOK_RULE.test(lines[i - 1]) ? i - 1 : i;
    }
  }
  return -1;
}

function quoteFollows(lines: string[], from: number): boolean {
  for (let i = from; i < lines.length; i++) {
    if (lines[i].trim() !== "") return lines[i].trimStart().startsWith(">");
  }
  return false;
}

/** Joins a reply header that a client wrapped over two or three lines, when quoted lines follow it. */
function unwrapHeaders(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let joined: string | null = null;
    for (let n = 2; n <= 3 && joined === null; n++) {
      const span = lines.slice(i, i + n);
      if (span.length < n || span.some((l) => l.trim() === "" || l.trimStart().startsWith(">"))) break;
      const text = span.map((l) => l.trim()).join(" ");
      if (WRAPPED_HEADER.some((re) => re.test(text)) && !WRAPPED_HEADER.some((re) => re.test(span[0].trim())) && quoteFollows(lines, i + n)) {
        joined = text;
        i += n - 1;
      }
    }
    out.push(joined ?? lines[i]);
  }
  return out;
}

function prepare(text: string): string[] {
  let lines = text.replace(/\r\n?/g, "\n").split("\n");
  const outlook = outlookBlockStart(lines);
  if (outlook >= 0) lines = lines.slice(0, outlook);
  return unwrapHeaders(lines).map((l) => (NOT_A_SIGNATURE.test(l) ? KEEP_MARK + l : l));
}

const squash = (s: string): string => s.replace(/\s+/g, " ").trim();

/**
 * Where `want` (a fragment's lines) starts at `at` in `lines`, returning the index after it,
 * or -1. The library joins lines it takes for a wrapped "On ...\nwrote:" header even when it
 * then keeps them as text, so one wanted line may stand for two or three written ones.
 */
function matchAt(lines: string[], at: number, want: string[]): number {
  let k = at;
  for (const w of want) {
    let n = 1;
    while (n <= 3 && k + n <= lines.length && squash(lines.slice(k, k + n).join(" ")) !== squash(w)) n++;
    if (n > 3 || k + n > lines.length) return -1;
    k += n;
  }
  return k;
}

/** Where each visible fragment is in `lines`, searching forward; null if one is not found. */
function locate(lines: string[], fragments: string[]): Array<[number, number]> | null {
  const spans: Array<[number, number]> = [];
  let from = 0;
  for (const fragment of fragments) {
    const want = fragment.split("\n");
    let span: [number, number] | null = null;
    for (let i = from; i < lines.length && span === null; i++) {
      const end = matchAt(lines, i, want);
      if (end >= 0) span = [i, end];
    }
    if (span === null) return null;
    spans.push(span);
    from = span[1];
  }
  return spans;
}

/**
 * The text from the first to the last visible fragment, as written: history quoted above
 * (bottom-posting) or below (top-posting) goes, quotes between the answers of an interleaved
 * reply stay, since "Yes." and "Tomorrow." mean nothing without the questions they answer.
 */
function visibleText(lines: string[]): string {
  const email = new EmailReplyParser().read(lines.join("\n"));
  const visible = email.getFragments().filter((f) => !f.isHidden()).map((f) => f.getContent());
  if (visible.length === 0) return "";
  const spans = locate(lines, visible);
  // Not found only if the library rewrote the new text in a way matchAt does not know: take its join.
  if (spans === null) return email.getVisibleText();
  return lines.slice(spans[0][0], spans[spans.length - 1][1]).join("\n");
}

/**
 * The new text of a reply: quoted history ("On ... wrote:", "Am ... schrieb ...:" with the
 * ">" lines, Outlook's header block and what follows it) and a signature after "-- " removed,
 * trailing whitespace trimmed. When nothing would be left (a mail that is only a quote, or
 * new text the library mistakes for history), the original text, trimmed: better a ticket
 * with too much text than with none.
 */
export interface StripOptions {
  /**
   * The texts of our own mails this reply may quote (the mail it answers, or every outbound mail of
   * the ticket). Quote stripping cuts first where one of them begins in the reply, with or without
   * ">" prefixes and re-wrapped, together with the attribution or header block just above it.
   */
  ownTexts?: string[];
}

export function stripQuotedHistory(text: string, _opts: StripOptions = {}): string {
  const stripped = visibleText(prepare(text))
    .split("\n")
    .map((l) => (l.startsWith(KEEP_MARK) ? l.slice(KEEP_MARK.length) : l).trimEnd())
    .join("\n")
    .replace(/^\n+/, "")
    .trimEnd();
  return stripped === "" ? text.trim() : stripped;
}
