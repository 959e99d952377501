/*
 * The last line of defence for "nothing internal reaches a requester": before a mail to a
 * requester or another non-agent participant is queued, the person-written text in it is
 * compared with the ticket's internal texts. Quote stripping can fail on a client nobody has
 * seen; this must not.
 */

export interface InternalTextFinding {
  /** The internal line (normalised) that the public text would have carried. */
  line: string;
  /** Index of the internal text it came from, in the `internal` list given. */
  source: number;
}

/**
 * Which lines of `internal` appear in `publicText` (normalised: quote marks, whitespace and case
 * ignored) and are not already known to the recipient (`known`: what they wrote or were sent).
 * Empty when the public text is safe to send.
 */
export function findInternalText(publicText: string, internal: string[], known: string[] = []): InternalTextFinding[] {
  const norm = (l: string) => l.replace(/^[\s>|]+/, "").replace(/\s+/g, " ").trim().toLowerCase();
  const knownLines = new Set(known.flatMap((t) => t.split(/\r?\n/).map(norm)));
  const pub = new Set(publicText.split(/\r?\n/).map(norm).filter((l) => l.length >= 12));
  const out: InternalTextFinding[] = [];
  internal.forEach((t, source) => {
    for (const l of t.split(/\r?\n/).map(norm)) {
      if (l.length >= 12 && pub.has(l) && !knownLines.has(l)) out.push({ line: l, source });
    }
  });
  return out;
}
