/**
 * Line endings made uniform before a mail is parsed: RFC 5322 §2.1 wants CRLF, mail in files and
 * pipes has LF, and classic Mac mail servers wrote CR alone (read as-is, a CR-only mail is one
 * endless header line). Returns the bytes with every CR, LF or CRLF as CRLF.
 */
export function normalizeLineEndings(raw: Buffer): Buffer {
  // Fast path: no bare CR, the usual case; mailparser copes with LF and CRLF alike.
  const hasBareCr = (() => {
    for (let i = raw.indexOf(13); i >= 0; i = raw.indexOf(13, i + 1)) if (raw[i + 1] !== 10) return true;
    return false;
  })();
  if (!hasBareCr) return raw;
  return Buffer.from(raw.toString("latin1").replace(/\r\n?|\n/g, "\r\n"), "latin1");
}
