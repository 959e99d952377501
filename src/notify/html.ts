import Handlebars from "handlebars";
import { LinkifyIt } from "linkify-it";

/*
 * People's text in the HTML part of a status mail: always escaped (a mail's HTML is never passed
 * on), with web and mail addresses made clickable (linkify-it), line breaks kept. The same text
 * reads the same in the text part, so the two parts say the same. The elements made here carry
 * the inline styles the layout's CSS gives them (HtmlStyles, from inline-css.ts); without a
 * layout they carry none.
 */

/** Inline style (the style attribute's value) of each element made from people's text. */
export interface HtmlStyles {
  p: string;
  a: string;
  quote: string;
  quoteP: string;
  quoteA: string;
  ul: string;
  li: string;
  liA: string;
}

export const NO_STYLES: HtmlStyles = { p: "", a: "", quote: "", quoteP: "", quoteA: "", ul: "", li: "", liA: "" };

const linkify = new LinkifyIt();
/** Only these become links: a "javascript:" or "data:" target never does. */
const SAFE_SCHEMES = /^(https?:|mailto:|ftp:|\/\/)/i;

const escape = (s: string): string => Handlebars.escapeExpression(s);
const styled = (css: string): string => (css ? ` style="${escape(css)}"` : "");

/** One line of text as HTML: escaped, with its links as <a href>. */
export function linkifyLine(line: string, aStyle = ""): string {
  const matches = linkify.match(line) ?? [];
  let out = "";
  let at = 0;
  for (const m of matches) {
    if (!SAFE_SCHEMES.test(m.url)) continue;
    out += escape(line.slice(at, m.index));
    out += `<a href="${escape(m.url)}"${styled(aStyle)}>${escape(m.text)}</a>`;
    at = m.lastIndex;
  }
  return out + escape(line.slice(at));
}

/** Lines of text as HTML: each escaped and linkified, joined by <br>. */
export function linkifyText(text: string, aStyle = ""): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/\n+$/, "")
    .split("\n")
    .map((l) => linkifyLine(l, aStyle))
    .join("<br>\n");
}

/** What a person wrote, set apart as a quote (the HTML form of the text part's indented block). */
export function quoteBlock(text: string, s: HtmlStyles = NO_STYLES): string {
  return `<blockquote class="tp-quote"${styled(s.quote)}>${paragraphs(text, s.quoteP, s.quoteA)}</blockquote>`;
}

/** Text split into paragraphs at blank lines, each a <p>. */
export function paragraphs(text: string, pStyle = "", aStyle = ""): string {
  return text
    .replace(/\r\n?/g, "\n")
    .split(/\n[ \t]*\n+/)
    .filter((p) => p.trim() !== "")
    .map((p) => `<p${styled(pStyle)}>${linkifyText(p, aStyle)}</p>`)
    .join("\n");
}

/**
 * The HTML body of an event that has no HTML template of its own, made from its rendered text
 * part: paragraphs at empty lines; a block whose every line is indented by four spaces (the text
 * templates' way to show a person's words) becomes a quote; a run of "- " lines a list.
 */
export function textToHtml(text: string, s: HtmlStyles = NO_STYLES): string {
  // Only a truly empty line ends a block: the "    " lines inside a quote keep it one quote.
  const blocks = text
    .replace(/\r\n?/g, "\n")
    .split(/\n\n+/)
    .filter((b) => b.trim() !== "");
  return blocks.map((b) => blockToHtml(b, s)).join("\n");
}

function blockToHtml(block: string, s: HtmlStyles): string {
  const lines = block.replace(/\n+$/, "").split("\n");
  if (lines.every((l) => l.startsWith("    ") || l.trim() === "")) return quoteBlock(lines.map((l) => l.slice(4)).join("\n"), s);
  const first = lines.findIndex((l) => l.startsWith("- "));
  if (first >= 0 && lines.slice(first).every((l) => l.startsWith("- "))) {
    const lead = first > 0 ? `<p${styled(s.p)}>${linkifyText(lines.slice(0, first).join("\n"), s.a)}</p>` : "";
    const items = lines.slice(first).map((l) => `<li${styled(s.li)}>${linkifyLine(l.slice(2), s.liA)}</li>`);
    return `${lead}<ul${styled(s.ul)}>${items.join("")}</ul>`;
  }
  return `<p${styled(s.p)}>${linkifyText(block, s.a)}</p>`;
}

/**
 * A byte count for people, in the mail's language: "812 bytes", "48.2 KB", "10.5 MB" in English,
 * "812 Bytes", "48,2 KB", "10,5 MB" in German (1 KB = 1024 bytes; the number as Intl writes it in
 * that language, without grouping; a language tag Intl does not know is written as English).
 */
export function formatSize(bytes: number, language = "en"): string {
  const word = language.toLowerCase().startsWith("de") ? "Bytes" : "bytes";
  if (bytes < 1024) return `${number(bytes, language, 0)} ${word}`;
  const units = ["KB", "MB", "GB"];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${number(v, language, v >= 100 ? 0 : 1)} ${units[u]}`;
}

function number(v: number, language: string, digits: number): string {
  const options = { maximumFractionDigits: digits, useGrouping: false } as const;
  try {
    return new Intl.NumberFormat(language, options).format(v);
  } catch {
    return new Intl.NumberFormat("en", options).format(v);
  }
}

/** Registers the helpers the HTML templates use: {{quote text}}, {{paragraphs text}}, {{linkify text}}. */
export function registerHtmlHelpers(hb: typeof Handlebars, s: HtmlStyles = NO_STYLES): void {
  const str = (v: unknown) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
  hb.registerHelper("quote", (v: unknown) => new hb.SafeString(quoteBlock(str(v), s)));
  hb.registerHelper("paragraphs", (v: unknown) => new hb.SafeString(paragraphs(str(v), s.p, s.a)));
  hb.registerHelper("linkify", (v: unknown) => new hb.SafeString(linkifyText(str(v), s.a)));
}
