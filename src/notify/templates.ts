import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import { TicketpostError } from "../shared/errors.js";
import { formatSize, NO_STYLES, registerHtmlHelpers, textToHtml, type HtmlStyles } from "./html.js";
import { CssInliner } from "./inline-css.js";

/*
 * Templates live in templates/<event>.<lang>.hbs: a "Subject:" line, a blank line, then the
 * text body. The HTML part is the shared layout (templates/layout.html.hbs) around the body of
 * templates/<event>.<lang>.html.hbs; an event without one gets its rendered text as HTML
 * (escaped, links clickable, paragraphs), so every status mail has both parts. The layout's CSS
 * is inlined into the templates once, when they are loaded (inline-css.ts). Partials are in
 * templates/partials/: <name>.hbs for the text parts, <name>.html.hbs for the HTML parts.
 * The text parts are rendered without HTML escaping (it would garble a plain-text mail); the
 * HTML parts escape everything a person wrote.
 */

export interface RenderedMail {
  subject: string;
  text: string;
  html: string | null;
}

interface CompiledTemplate {
  subject: Handlebars.TemplateDelegate;
  text: Handlebars.TemplateDelegate;
  /** The whole HTML page (layout and body), or without a layout the bare HTML body; null: made from the text. */
  html: Handlebars.TemplateDelegate | null;
}

const FILE = /^([a-z][a-z0-9-]*)\.([a-z]{2})\.hbs$/;
const HTML_FILE = /^([a-z][a-z0-9-]*)\.([a-z]{2})\.html\.hbs$/;
const PARTIAL = /^([a-z][a-z0-9-]*)(\.html)?\.hbs$/;
const LAYOUT = "layout.html.hbs";

function splitSubject(file: string, source: string): { subject: string; body: string } {
  const m = /^Subject:[ \t]*(.*)\n\n([\s\S]*)$/.exec(source);
  if (!m) throw new TicketpostError("ETEMPLATE", `template ${file}: must start with a "Subject: ..." line and a blank line`);
  return { subject: m[1], body: m[2] };
}

function readFolder(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    throw new TicketpostError("ETEMPLATE", `templates: cannot read folder ${dir}: ${(err as Error).message}`);
  }
}

const read = (dir: string, file: string): string => readFileSync(path.join(dir, file), "utf8").replace(/\r\n/g, "\n");

/**
 * Parses now: hb.compile() alone is lazy, so a broken template would pass the start and fail at
 * its first mail. Parsing finds every syntax error; the code generation that compile() defers is
 * left to the first render, which saves a tenth of a second at every start of the CLI.
 */
function compile(hb: typeof Handlebars, name: string, src: string, noEscape: boolean): Handlebars.TemplateDelegate {
  const options = { noEscape, strict: true };
  try {
    hb.parse(src);
    return hb.compile(src, options);
  } catch (err) {
    throw new TicketpostError("ETEMPLATE", `template ${name}: ${(err as Error).message}`);
  }
}

/** Two Handlebars environments: the text one never escapes, the HTML one always does. */
function environments(dir: string, inliner: CssInliner | null): { text: typeof Handlebars; html: typeof Handlebars } {
  const text = Handlebars.create();
  const html = Handlebars.create();
  // In the language of the mail being rendered (its data's `lang`), whatever the template's own wording.
  for (const hb of [text, html])
    hb.registerHelper("filesize", (v: unknown, options: { data?: { root?: { lang?: unknown } } }) =>
      formatSize(Number(v), typeof options?.data?.root?.lang === "string" ? options.data.root.lang : "en"),
    );
  registerHtmlHelpers(html, inliner?.styles ?? NO_STYLES);
  const partials = path.join(dir, "partials");
  if (!existsSync(partials)) return { text, html };
  for (const file of readFolder(partials)) {
    const m = PARTIAL.exec(file);
    if (!m) continue;
    const name = `partials/${file}`;
    const src = m[2] && inliner ? inliner.fragment(name, read(partials, file)) : read(partials, file);
    // Registered compiled: a partial registered as a string is compiled again at every render.
    (m[2] ? html : text).registerPartial(m[1], compile(m[2] ? html : text, name, src, !m[2]));
  }
  return { text, html };
}

export class TemplateSet {
  private readonly templates = new Map<string, CompiledTemplate>();
  /** The layout with {{body}} for the HTML made from the text part; null without a layout. */
  private readonly fallback: Handlebars.TemplateDelegate | null;
  private readonly styles: HtmlStyles;

  constructor(
    readonly dir: string,
    readonly defaultLanguage: string,
  ) {
    const files = readFolder(dir);
    const inliner = files.includes(LAYOUT) ? new CssInliner(read(dir, LAYOUT)) : null;
    const env = environments(dir, inliner);
    this.styles = inliner?.styles ?? NO_STYLES;
    this.fallback = inliner ? compile(env.html, LAYOUT, inliner.page(LAYOUT, null), false) : null;
    for (const file of files) {
      const m = FILE.exec(file);
      if (!m) continue;
      const { subject, body } = splitSubject(file, read(dir, file));
      const htmlFile = `${m[1]}.${m[2]}.html.hbs`;
      const htmlSrc = files.includes(htmlFile) ? read(dir, htmlFile) : null;
      const page = htmlSrc === null ? null : inliner ? inliner.page(htmlFile, htmlSrc) : htmlSrc;
      this.templates.set(`${m[1]}.${m[2]}`, {
        subject: compile(env.text, file, subject, true),
        text: compile(env.text, file, body, true),
        html: page === null ? null : compile(env.html, htmlFile, page, false),
      });
    }
    for (const file of files) {
      const m = HTML_FILE.exec(file);
      if (m && !this.templates.has(`${m[1]}.${m[2]}`)) {
        throw new TicketpostError("ETEMPLATE", `template ${file}: has no text template ${m[1]}.${m[2]}.hbs beside it`);
      }
    }
  }

  has(event: string, language: string): boolean {
    return this.templates.has(`${event}.${language}`);
  }

  /** Whether the event has an HTML template of its own in this language (else its HTML is made from its text). */
  hasHtml(event: string, language: string): boolean {
    return !!this.templates.get(`${event}.${language}`)?.html;
  }

  /** Events and languages present, e.g. ["received.de", "received.en"]. */
  list(): string[] {
    return [...this.templates.keys()].sort();
  }

  render(event: string, language: string, data: object): RenderedMail {
    const t =
      this.templates.get(`${event}.${language}`) ??
      this.templates.get(`${event}.${this.defaultLanguage}`) ??
      this.templates.get(`${event}.en`);
    if (!t) throw new TicketpostError("ETEMPLATE", `no template for event "${event}" (looked for ${event}.${language}.hbs in ${this.dir})`);
    try {
      // A subject is one header line: whatever a requester wrote, it cannot start another header.
      const subject = t
        .subject(data)
        .replace(/[\r\n\t]+/g, " ")
        .replace(/\s{2,}/g, " ")
        .trim();
      const text = t.text(data).replace(/\r\n/g, "\n");
      return { subject, text, html: this.renderHtml(t, data, subject, text) };
    } catch (err) {
      throw new TicketpostError("ETEMPLATE", `template ${event}.${language}: ${(err as Error).message}`);
    }
  }

  /** The HTML part: the event's page, or the layout around its text as HTML. Without a layout: the bare HTML template, or none. */
  private renderHtml(t: CompiledTemplate, data: object, subject: string, text: string): string | null {
    if (t.html) return t.html({ ...data, subject });
    if (!this.fallback) return null;
    return this.fallback({ ...data, subject, body: new Handlebars.SafeString(textToHtml(text, this.styles)) });
  }
}
