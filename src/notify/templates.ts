import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import juice from "juice";
import { TicketpostError } from "../shared/errors.js";
import { formatSize, registerHtmlHelpers, textToHtml } from "./html.js";

/*
 * Templates live in templates/<event>.<lang>.hbs: a "Subject:" line, a blank line, then the
 * text body. The HTML part is the shared layout (templates/layout.html.hbs) around the body of
 * templates/<event>.<lang>.html.hbs; an event without one gets its rendered text as HTML
 * (escaped, links clickable, paragraphs), so every status mail has both parts. CSS in the layout
 * is inlined by juice, as mail clients ignore most <style> blocks. Partials are in
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
  html: Handlebars.TemplateDelegate | null;
}

const FILE = /^([a-z][a-z0-9-]*)\.([a-z]{2})\.hbs$/;
const HTML_FILE = /^([a-z][a-z0-9-]*)\.([a-z]{2})\.html\.hbs$/;
const PARTIAL = /^([a-z][a-z0-9-]*)(\.html)?\.hbs$/;
const LAYOUT = "layout.html.hbs";

function splitSubject(file: string, source: string): { subject: string; body: string } {
  const normalised = source.replace(/\r\n/g, "\n");
  const m = /^Subject:[ \t]*(.*)\n\n([\s\S]*)$/.exec(normalised);
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

/** Two Handlebars environments: the text one never escapes, the HTML one always does. */
function environments(dir: string): { text: typeof Handlebars; html: typeof Handlebars } {
  const text = Handlebars.create();
  const html = Handlebars.create();
  for (const hb of [text, html]) hb.registerHelper("filesize", (v: unknown) => formatSize(Number(v)));
  registerHtmlHelpers(html);
  const partials = path.join(dir, "partials");
  if (!existsSync(partials)) return { text, html };
  for (const file of readFolder(partials)) {
    const m = PARTIAL.exec(file);
    if (!m) continue;
    const src = readFileSync(path.join(partials, file), "utf8").replace(/\r\n/g, "\n");
    try {
      (m[2] ? html : text).precompile(src, { strict: true, noEscape: !m[2] });
    } catch (err) {
      throw new TicketpostError("ETEMPLATE", `template partials/${file}: ${(err as Error).message}`);
    }
    (m[2] ? html : text).registerPartial(m[1], src);
  }
  return { text, html };
}

export class TemplateSet {
  private readonly templates = new Map<string, CompiledTemplate>();
  private readonly layout: Handlebars.TemplateDelegate | null;

  constructor(
    readonly dir: string,
    readonly defaultLanguage: string,
  ) {
    const files = readFolder(dir);
    const env = environments(dir);
    const compile = (hb: typeof Handlebars, name: string, src: string) => {
      const options = { noEscape: hb === env.text, strict: true };
      try {
        // hb.compile() is lazy: without precompiling now, a broken template would pass the start
        // and fail only when its first notification is rendered.
        hb.precompile(src, options);
        return hb.compile(src, options);
      } catch (err) {
        throw new TicketpostError("ETEMPLATE", `template ${name}: ${(err as Error).message}`);
      }
    };
    const read = (file: string) => readFileSync(path.join(dir, file), "utf8").replace(/\r\n/g, "\n");
    this.layout = files.includes(LAYOUT) ? compile(env.html, LAYOUT, read(LAYOUT)) : null;
    for (const file of files) {
      const m = FILE.exec(file);
      if (!m) continue;
      const { subject, body } = splitSubject(file, read(file));
      const htmlFile = `${m[1]}.${m[2]}.html.hbs`;
      const html = files.includes(htmlFile) ? compile(env.html, htmlFile, read(htmlFile)) : null;
      this.templates.set(`${m[1]}.${m[2]}`, { subject: compile(env.text, file, subject), text: compile(env.text, file, body), html });
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

  /** The HTML part: the event's HTML body (or its text as HTML) in the layout, CSS inlined. Without a layout, the bare HTML template or none. */
  private renderHtml(t: CompiledTemplate, data: object, subject: string, text: string): string | null {
    if (!this.layout) return t.html ? t.html(data) : null;
    const body = t.html ? t.html(data) : textToHtml(text);
    const page = this.layout({ ...data, subject, body: new Handlebars.SafeString(body) });
    return juice(page, { removeStyleTags: false, preserveMediaQueries: true, applyWidthAttributes: true });
  }
}
