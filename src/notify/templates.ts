import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import { TicketpostError } from "../shared/errors.js";

/*
 * Templates live in templates/<event>.<lang>.hbs: a "Subject:" line, a blank line, then the
 * text body. An optional <event>.<lang>.html.hbs gives an HTML body. The text parts are
 * rendered without HTML escaping (it would garble a plain-text mail); the HTML part escapes.
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

function splitSubject(file: string, source: string): { subject: string; body: string } {
  const normalised = source.replace(/\r\n/g, "\n");
  const m = /^Subject:[ \t]*(.*)\n\n([\s\S]*)$/.exec(normalised);
  if (!m) throw new TicketpostError("ETEMPLATE", `template ${file}: must start with a "Subject: ..." line and a blank line`);
  return { subject: m[1], body: m[2] };
}

export class TemplateSet {
  private readonly templates = new Map<string, CompiledTemplate>();

  constructor(readonly dir: string, readonly defaultLanguage: string) {
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch (err) {
      throw new TicketpostError("ETEMPLATE", `templates: cannot read folder ${dir}: ${(err as Error).message}`);
    }
    const hb = Handlebars.create();
    const compile = (name: string, src: string, options: { noEscape?: boolean; strict: boolean }) => {
      try {
        // hb.compile() is lazy: without precompiling now, a broken template would pass the start
        // and fail only when its first notification is rendered.
        hb.precompile(src, options);
        return hb.compile(src, options);
      } catch (err) {
        throw new TicketpostError("ETEMPLATE", `template ${name}: ${(err as Error).message}`);
      }
    };
    const compileText = (name: string, src: string) => compile(name, src, { noEscape: true, strict: true });
    for (const file of files) {
      const m = FILE.exec(file);
      if (!m) continue;
      const { subject, body } = splitSubject(file, readFileSync(path.join(dir, file), "utf8"));
      const htmlFile = `${m[1]}.${m[2]}.html.hbs`;
      const html = files.includes(htmlFile) ? compile(htmlFile, readFileSync(path.join(dir, htmlFile), "utf8"), { strict: true }) : null;
      this.templates.set(`${m[1]}.${m[2]}`, { subject: compileText(file, subject), text: compileText(file, body), html });
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

  /** Events and languages present, e.g. ["received.de", "received.en"]. */
  list(): string[] {
    return [...this.templates.keys()].sort();
  }

  render(event: string, language: string, data: object): RenderedMail {
    const t = this.templates.get(`${event}.${language}`) ?? this.templates.get(`${event}.${this.defaultLanguage}`) ?? this.templates.get(`${event}.en`);
    if (!t) throw new TicketpostError("ETEMPLATE", `no template for event "${event}" (looked for ${event}.${language}.hbs in ${this.dir})`);
    try {
      return {
        // A subject is one header line: whatever a requester wrote, it cannot start another header.
        subject: t.subject(data).replace(/[\r\n\t]+/g, " ").replace(/\s{2,}/g, " ").trim(),
        text: t.text(data).replace(/\r\n/g, "\n"),
        html: t.html ? t.html(data) : null,
      };
    } catch (err) {
      throw new TicketpostError("ETEMPLATE", `template ${event}.${language}: ${(err as Error).message}`);
    }
  }
}
