import chardet from "chardet";
import Encoding from "encoding-japanese";
import iconv from "iconv-lite";

/**
 * Charsets for bytes that do not say theirs: a body part without a charset parameter, raw 8-bit
 * bytes in a header (RFC 6532 allows only UTF-8 there; old mailers write their local charset),
 * and the charsets mailparser refuses to decode (UTF-7, RFC 2152, still sent by old Outlook and
 * Exchange). Detection is chardet's (ICU's statistical detector) with encoding-japanese for
 * ISO-2022-JP, which iconv-lite cannot decode; iconv-lite decodes the rest.
 */

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** What a decoder made of some bytes: the text and the charset it used (IANA name, lower case). */
export interface DecodedText {
  text: string;
  charset: string;
}

/** "utf-7", "UTF7", "unicode-1-1-utf-7", "csUnicode11UTF7": the names of RFC 2152 UTF-7. */
export function isUtf7(charset: string | false | null | undefined): boolean {
  return /^(?:(?:cs)?unicode11)?utf7$/.test(compact(charset));
}

/** No charset, or one that mailparser reads as UTF-8 (us-ascii, utf-8): bytes are not checked then. */
export function isUndeclared(charset: string | false | null | undefined): boolean {
  return ["", "ascii", "usascii", "utf8", "ansix341968", "iso646us", "us"].includes(compact(charset));
}

function compact(charset: string | false | null | undefined): string {
  return (charset || "").toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** True when every byte is below 0x80 and there is no ESC (an ISO-2022 text is 7-bit too). */
export function isPlainAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80 || b === 0x1b) return false;
  return true;
}

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// ESC $ B / ESC $ @ / ESC $ ( D open JIS X 0208/0212; ESC ( B / ESC ( J close (RFC 1468).
const ISO_2022_JP = /\x1b\$[@B]|\x1b\$\(D/;

/**
 * True when bytes read as UTF-8 (what mailparser does without a charset) would come out wrong:
 * 8-bit bytes that are not UTF-8, or 7-bit ISO-2022-JP whose escape sequences would stay raw.
 */
export function misreadAsUtf8(bytes: Uint8Array): boolean {
  if (isPlainAscii(bytes)) return false;
  return !isValidUtf8(bytes) || ISO_2022_JP.test(Buffer.from(bytes).toString("latin1"));
}

/** Decodes bytes in a named charset; null when the charset is unknown here. UTF-7 and ISO-2022-JP included. */
export function decodeAs(bytes: Uint8Array, charset: string): string | null {
  const name = compact(charset);
  if (isUtf7(charset)) return iconv.decode(Buffer.from(bytes), "utf7");
  if (name === "iso2022jp" || name === "csiso2022jp" || name === "jis") {
    return Encoding.convert(bytes, { to: "UNICODE", from: "JIS", type: "string" });
  }
  // Names as mail writes them that iconv-lite spells differently.
  const alias: Record<string, string> = { ksc56011987: "cp949", iso88598i: "iso88598", xsjis: "shiftjis" };
  const resolved = alias[name] ?? charset;
  if (!iconv.encodingExists(resolved)) return null;
  return iconv.decode(Buffer.from(bytes), resolved);
}

function utf8Length(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * UTF-8 text with a few stray bytes of another charset (a footer or a pasted line in
 * windows-1252): decoded as UTF-8, each stray byte as windows-1252. Null unless the valid UTF-8
 * sequences outnumber the stray bytes, so that a latin-1 text is never read this way.
 */
function mostlyUtf8(bytes: Uint8Array): string | null {
  let valid = 0;
  let stray = 0;
  let out = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    if (b < 0x80) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    const n = utf8Length(b);
    const seq = n > 0 ? bytes.subarray(i, i + n) : null;
    if (seq && seq.length === n && isValidUtf8(seq)) {
      out += Buffer.from(seq).toString("utf8");
      valid++;
      i += n;
    } else {
      out += iconv.decode(Buffer.from([b]), "windows-1252");
      stray++;
      i++;
    }
  }
  return valid > stray ? out : null;
}

/** Text that a wrong guess gives away: U+FFFD from undefined bytes, or C1 controls no person types. */
function implausible(text: string): boolean {
  return /[\ufffd\u0080-\u009f]/.test(text);
}

// ISO-8859-1 and -9 as detected are in practice their Windows supersets: the bytes 0x80–0x9F are
// “ ” – € in mail from Windows, never C1 control characters.
const SUPERSET: Record<string, string> = { "iso-8859-1": "windows-1252", "iso-8859-9": "windows-1254" };

/**
 * The text of bytes whose charset is not declared. In order: plain ASCII; ISO-2022-JP (by its
 * escape sequences); valid UTF-8; the `hint` (a charset the same mail declares elsewhere) when it
 * decodes cleanly; then chardet's candidates, best first, the first that decodes without
 * replacement or control characters. windows-1252 is the last resort: it decodes every byte.
 */
export function decodeUndeclared(bytes: Uint8Array, hint?: string | null): DecodedText {
  if (isPlainAscii(bytes)) return { text: Buffer.from(bytes).toString("latin1"), charset: "us-ascii" };
  const has8bit = bytes.some((b) => b >= 0x80);
  if (!has8bit && ISO_2022_JP.test(Buffer.from(bytes).toString("latin1"))) {
    return { text: decodeAs(bytes, "iso-2022-jp") ?? "", charset: "iso-2022-jp" };
  }
  if (isValidUtf8(bytes)) return { text: Buffer.from(bytes).toString("utf8"), charset: "utf-8" };
  const mixed = mostlyUtf8(bytes);
  if (mixed !== null) return { text: mixed, charset: "utf-8" };
  const tried = new Set<string>();
  const attempt = (charset: string): DecodedText | null => {
    const name = (SUPERSET[charset.toLowerCase()] ?? charset).toLowerCase();
    if (tried.has(name) || isUndeclared(name)) return null;
    tried.add(name);
    const text = decodeAs(bytes, name);
    return text !== null && !implausible(text) ? { text, charset: name } : null;
  };
  if (hint) {
    const viaHint = attempt(hint);
    if (viaHint) return viaHint;
  }
  for (const candidate of detectCandidates(bytes)) {
    const decoded = attempt(candidate);
    if (decoded) return cyrillicCase(bytes, decoded);
  }
  return { text: decodeAs(bytes, "windows-1252") ?? Buffer.from(bytes).toString("latin1"), charset: "windows-1252" };
}

/**
 * KOI8-R read as windows-1251 (and the other way round) swaps the case of every Cyrillic letter,
 * which chardet cannot tell on a short subject: running text is mostly lower case.
 */
function cyrillicCase(bytes: Uint8Array, decoded: DecodedText): DecodedText {
  const other = decoded.charset === "windows-1251" ? "koi8-r" : decoded.charset === "koi8-r" ? "windows-1251" : null;
  if (!other) return decoded;
  const lowerShare = (text: string) => {
    const letters = text.match(/[\u0400-\u04ff]/g) ?? [];
    return letters.filter((c) => c !== c.toUpperCase()).length / Math.max(1, letters.length);
  };
  const alternative = decodeAs(bytes, other);
  const chosen =
    alternative !== null && lowerShare(alternative) > lowerShare(decoded.text) ? { text: alternative, charset: other } : decoded;
  return chosen.charset === "koi8-r" ? ukrainian(bytes, chosen) : chosen;
}

/**
 * KOI8-U (RFC 2319) is KOI8-R with the Ukrainian letters є і ї ґ where KOI8-R has box-drawing
 * characters; chardet knows only KOI8-R. Box drawing in a mail's Cyrillic text means KOI8-U.
 */
function ukrainian(bytes: Uint8Array, decoded: DecodedText): DecodedText {
  if (!/[\u2500-\u257f]/.test(decoded.text)) return decoded;
  const text = decodeAs(bytes, "koi8-u");
  return text !== null && !/[\u2500-\u257f]/.test(text) ? { text, charset: "koi8-u" } : decoded;
}

const MULTIBYTE = /^(?:shift_jis|euc-jp|euc-kr|big5|gb18030|iso-2022-(?:jp|kr|cn))$/i;
const KANA = /[\u3040-\u30ff]/;

/**
 * chardet's candidates, best first. A short sample gives chardet little to go on: every
 * multibyte recogniser scores a floor of 10 for "Grüße", so such scores are dropped. Japanese in
 * Shift_JIS or EUC-JP that encoding-japanese recognises, and that reads as kana, goes first:
 * chardet mistakes a short Shift_JIS subject for windows-1250.
 */
function detectCandidates(bytes: Uint8Array): string[] {
  const names = chardet
    .analyse(bytes)
    .filter((c) => c.confidence > (MULTIBYTE.test(c.name) ? 10 : 0))
    .map((c) => c.name);
  const japanese = Encoding.detect(bytes, ["SJIS", "EUCJP"]);
  if (japanese) {
    const name = japanese === "SJIS" ? "Shift_JIS" : "EUC-JP";
    if (KANA.test(decodeAs(bytes, name) ?? "")) return [name, ...names.filter((n) => n !== name)];
  }
  return names;
}

/*
 * Declared charsets that are wrong. Three shapes are common in mail:
 * - UTF-8 under a single-byte label (valid multibyte UTF-8 is next to never anything else);
 * - an ISO-8859 charset declared over the bytes of its Windows superset: 0x80–0x9F are then C1
 *   control characters in the declared charset, and “ ” „ – € Š ž in the Windows one (Outlook and
 *   PHP scripts label windows-1250 text iso-8859-2, windows-1252 text iso-8859-1);
 * - a Western charset (iso-8859-1/15, windows-1252) declared over text in another script
 *   (windows-1251, koi8-r, iso-8859-7, ...): web scripts that always send "iso-8859-1". The text
 *   then reads as letters with accents only ("Íå ðàáîòàåò"), which no Western language writes:
 *   German or French text has a few accented letters among many plain ones.
 */
const WINDOWS_SUPERSET: Record<string, string> = {
  iso88591: "windows-1252",
  latin1: "windows-1252",
  iso885915: "windows-1252",
  iso88592: "windows-1250",
  latin2: "windows-1250",
  iso88594: "windows-1257",
  iso885913: "windows-1257",
  iso88595: "windows-1251",
  iso88597: "windows-1253",
  iso88598: "windows-1255",
  iso88599: "windows-1254",
  latin5: "windows-1254",
};
const SINGLE_BYTE = /^(?:iso8859\d+|windows125\d|cp125\d|latin\d|l\d|koi8[ru]?|ibm\d+|cp\d{3,4})$/;
const WESTERN = new Set(["iso88591", "latin1", "iso885915", "windows1252", "cp1252"]);

/**
 * Share of the letters that are accented Latin-1 letters (U+00C0–U+00FF); 0 when there are fewer
 * than four letters, too few to tell ("Ö" alone in an encoded word is German).
 */
function accentedShare(text: string): number {
  const letters = text.match(/\p{L}/gu) ?? [];
  const accented = letters.filter((c) => c >= "\u00c0" && c <= "\u00ff").length;
  return letters.length < 4 ? 0 : accented / letters.length;
}

/**
 * The text of bytes whose declared charset misreads them, or null when the declared charset is
 * right (or unknown here: mailparser then does what it can). See the shapes above; `hint` is a
 * charset found elsewhere in the same mail, tried first for the second shape.
 */
export function misdeclared(bytes: Uint8Array, declared: string, hint?: string | null): DecodedText | null {
  const name = compact(declared);
  if (isPlainAscii(bytes) || isUndeclared(declared) || isUtf7(declared)) return null;
  const asDeclared = decodeAs(bytes, declared);
  if (asDeclared === null) return null;
  // Valid multibyte UTF-8 is next to never text of a single-byte charset ("Ã¼" pairs): PHP
  // applications that store UTF-8 but still label their mail iso-8859-1 write it.
  if (SINGLE_BYTE.test(name) && isValidUtf8(bytes)) return { text: Buffer.from(bytes).toString("utf8"), charset: "utf-8" };
  const superset = WINDOWS_SUPERSET[name];
  let best: DecodedText = { text: asDeclared, charset: declared.toLowerCase() };
  if (superset && implausible(asDeclared)) {
    const text = decodeAs(bytes, superset);
    if (text !== null && !implausible(text)) best = { text, charset: superset };
  }
  if (WESTERN.has(name) && accentedShare(best.text) > 0.5) {
    const other = decodeUndeclared(bytes, hint && !WESTERN.has(compact(hint)) ? hint : null);
    if (!WESTERN.has(compact(other.charset)) && accentedShare(other.text) < 0.5 && !implausible(other.text)) best = other;
  }
  return best.text === asDeclared ? null : best;
}
