import juice from "juice";
import { TicketpostError } from "../shared/errors.js";
import type { HtmlStyles } from "./html.js";

/*
 * Mail clients ignore most <style> blocks, so the layout's CSS goes into style attributes (juice).
 * It is done once, when the templates are loaded, on the template sources themselves: the
 * handlebars expressions are set aside as plain tokens while juice works, then put back. A mail
 * is then only a handlebars render: inlining every mail took 4–11 ms each, more than the rest of
 * its ingest. The markup that helpers make from people's text (paragraphs, quotes, links, lists)
 * takes the styles juice gives such elements in the layout's body (`styles`).
 *
 * So a selector sees every branch of an {{#if}} at once, and a handlebars expression may not
 * stand between a tag's attributes (`<a {{#if x}}class="y"{{/if}}>`): loading says so.
 */

/** Handlebars comments say nothing to a mail: gone before anything else (they may quote {{body}}). */
const COMMENT = /\{\{!--[\s\S]*?--\}\}|\{\{![\s\S]*?\}\}/g;
const MUSTACHE = /\{\{\{?[\s\S]*?\}?\}\}/g;
const BODY = /\{\{\s*body\s*\}\}/g;
const START = "<!--tp:fragment-->";
const END = "<!--tp:/fragment-->";
// The <style> block goes once inlined (media queries, which cannot be inlined, stay): smaller mails.
const OPTIONS = { removeStyleTags: true, preserveMediaQueries: true, applyWidthAttributes: true } as const;

export class CssInliner {
  /** Styles of the elements the helpers make, as juice gives them inside the layout's body. */
  readonly styles: HtmlStyles;

  private readonly layout: string;

  constructor(layout: string) {
    this.layout = layout.replace(COMMENT, "");
    if ((this.layout.match(BODY) ?? []).length !== 1)
      throw new TicketpostError("ETEMPLATE", "template layout.html.hbs: must contain {{body}} exactly once");
    this.styles = this.probe();
  }

  /** The layout, CSS inlined, with `body` (a template source) in place of {{body}}; null keeps {{body}}. */
  page(name: string, body: string | null): string {
    return this.inline(name, body === null ? this.layout : this.layout.replace(BODY, () => body));
  }

  /** A piece of a body (a partial), CSS inlined as it would be inside the layout's body. */
  fragment(name: string, src: string): string {
    const page = this.page(name, `${START}${src}${END}`);
    return page.slice(page.indexOf(START) + START.length, page.indexOf(END));
  }

  private inline(name: string, src: string): string {
    const tokens: string[] = [];
    const guarded = src.replace(COMMENT, "").replace(MUSTACHE, (m) => `tpmustache${tokens.push(m) - 1}x`);
    let out: string;
    try {
      out = juice(guarded, OPTIONS);
    } catch (err) {
      throw new TicketpostError("ETEMPLATE", `template ${name}: CSS could not be inlined: ${(err as Error).message}`);
    }
    const seen = new Set<number>();
    out = out.replace(/tpmustache(\d+)x/g, (_m, i: string) => {
      seen.add(Number(i));
      return tokens[Number(i)];
    });
    if (seen.size !== tokens.length || /tpmustache\d+x/i.test(out)) {
      throw new TicketpostError(
        "ETEMPLATE",
        `template ${name}: a {{…}} expression stands where HTML cannot keep it (between a tag's attributes?)`,
      );
    }
    return out;
  }

  private probe(): HtmlStyles {
    const styleOf = (html: string, tag: string, nth = 0): string =>
      [...html.matchAll(new RegExp(`<${tag}\\b[^>]*?style="([^"]*)"`, "g"))][nth]?.[1] ?? "";
    const para = this.fragment("layout.html.hbs", '<p>x<a href="#">x</a></p>');
    const quote = this.fragment("layout.html.hbs", '<blockquote class="tp-quote"><p>x<a href="#">x</a></p></blockquote>');
    const list = this.fragment("layout.html.hbs", '<ul><li>x<a href="#">x</a></li></ul>');
    return {
      p: styleOf(para, "p"),
      a: styleOf(para, "a"),
      quote: styleOf(quote, "blockquote"),
      quoteP: styleOf(quote, "p"),
      quoteA: styleOf(quote, "a"),
      ul: styleOf(list, "ul"),
      li: styleOf(list, "li"),
      liA: styleOf(list, "a"),
    };
  }
}
