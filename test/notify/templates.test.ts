import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { NOTIFICATION_EVENTS } from "../../src/notify/events/index.js";
import { TemplateSet } from "../../src/notify/templates.js";
import { TicketpostError } from "../../src/shared/errors.js";
import { sampleTemplateData } from "../helpers/template-data.js";

const TEMPLATES = path.resolve("templates");

/** Data as apply.ts hands it to a notification, for ticket 1042. */
function sampleData(title = "Printer on floor 3 is jammed", requesterName: string | null = "Anna Berg") {
  return sampleTemplateData({ title, requesterName });
}

function templateFiles(): Array<{ event: string; lang: string; file: string }> {
  return readdirSync(TEMPLATES)
    .map((file) => ({ file, m: /^([a-z][a-z0-9-]*)\.([a-z]{2})\.hbs$/.exec(file) }))
    .filter((x): x is { file: string; m: RegExpExecArray } => x.m !== null)
    .map(({ file, m }) => ({ event: m[1], lang: m[2], file }));
}

function templateError(fn: () => unknown): TicketpostError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(TicketpostError);
    expect((err as TicketpostError).code).to.equal("ETEMPLATE");
    return err as TicketpostError;
  }
  expect.fail("expected a TicketpostError ETEMPLATE, nothing was thrown");
}

describe("notify/templates", () => {
  describe("the real templates/ folder", () => {
    const set = new TemplateSet(TEMPLATES, "en");

    it("has every notification event in English and German", () => {
      for (const ev of NOTIFICATION_EVENTS) {
        for (const lang of ["en", "de"]) expect(set.has(ev.name, lang), `${ev.name}.${lang}.hbs`).to.equal(true);
      }
    });

    it("lists what it loaded", () => {
      expect(set.list()).to.deep.equal(
        templateFiles()
          .map((t) => `${t.event}.${t.lang}`)
          .sort(),
      );
    });

    for (const { event, lang, file } of templateFiles()) {
      for (const [who, name] of [
        ["a named requester", "Anna Berg"],
        ["a requester without a name", null],
      ] as const) {
        it(`${file} renders for ${who}: tag in the subject, no "{{" left`, () => {
          const data = sampleData(undefined, name);
          const mail = set.render(event, lang, data);
          // A notice about a mail that made no ticket has no tag to carry.
          if (!NOTIFICATION_EVENTS.find((e) => e.name === event)?.ticketless) expect(mail.subject).to.contain("[#T-1042]");
          expect(mail.subject).not.to.match(/[\r\n]/);
          expect(mail.subject).not.to.equal("[#T-1042]");
          for (const part of [mail.subject, mail.text, mail.html ?? ""]) {
            expect(part).not.to.contain("{{");
            expect(part).not.to.contain("}}");
            expect(part).not.to.contain("undefined");
            expect(part).not.to.contain("[object Object]");
          }
          expect(mail.text.trim()).not.to.equal("");
          expect(mail.text).to.contain(name ?? "anna@customer.example.org");
        });
      }
    }

    it("received: the subject carries tag and title, the text the reference and the title", () => {
      for (const lang of ["en", "de"]) {
        const mail = set.render("received", lang, sampleData());
        expect(mail.subject).to.match(/^\[#T-1042\] .*Printer on floor 3 is jammed$/);
        expect(mail.text).to.contain("T-1042").and.to.contain("Printer on floor 3 is jammed").and.to.contain("ACME Support");
      }
    });

    it("renders German text in German and English in English", () => {
      expect(set.render("received", "de", sampleData()).text).to.contain("Guten Tag");
      expect(set.render("received", "en", sampleData()).text).to.contain("Hello");
    });

    const hostileTitles: Array<[string, string]> = [
      ["CRLF and a Bcc header", "Printer\r\nBcc: evil@example.com"],
      ["bare LF", "Printer\nBcc: evil@example.com"],
      ["bare CR", "Printer\rBcc: evil@example.com"],
      ["a blank line", "Printer\r\n\r\nInjected body"],
      ["a tab", "Printer\tjammed"],
    ];
    for (const [name, title] of hostileTitles) {
      it(`a title with ${name} renders to a one-line subject`, () => {
        for (const lang of ["en", "de"]) {
          const mail = set.render("received", lang, sampleData(title));
          expect(mail.subject).not.to.match(/[\r\n\t]/);
          expect(mail.subject).to.contain("[#T-1042]");
          expect(mail.subject).not.to.match(/\s{2,}/);
        }
      });
    }

    it("does not HTML-escape the plain text (a title with <, > and & reads as written)", () => {
      const mail = set.render("received", "en", sampleData('Drucker <HP> & Scanner "Büro"'));
      expect(mail.subject).to.contain('Drucker <HP> & Scanner "Büro"');
      expect(mail.text).to.contain('Drucker <HP> & Scanner "Büro"');
    });

    it("falls back to the default language for an unknown one", () => {
      const de = new TemplateSet(TEMPLATES, "de");
      expect(de.render("received", "fr", sampleData())).to.deep.equal(de.render("received", "de", sampleData()));
      const en = new TemplateSet(TEMPLATES, "en");
      expect(en.render("received", "xx", sampleData())).to.deep.equal(en.render("received", "en", sampleData()));
    });

    it("falls back to English when the default language has no template either", () => {
      const it_ = new TemplateSet(TEMPLATES, "it");
      expect(it_.render("received", "fr", sampleData())).to.deep.equal(it_.render("received", "en", sampleData()));
    });

    it("an unknown event → ETEMPLATE naming the event", () => {
      expect(templateError(() => set.render("no-such-event", "en", sampleData())).message).to.contain("no-such-event");
    });

    it("data missing a field the template uses → ETEMPLATE, not a mail with a blank", () => {
      const data = sampleData() as { ticket: Partial<ReturnType<typeof sampleData>["ticket"]> };
      delete data.ticket.reference;
      templateError(() => set.render("received", "en", data));
    });
  });

  describe("folders with broken templates", () => {
    let root: string;
    let n = 0;
    before(() => {
      root = mkdtempSync(path.join(os.tmpdir(), "ticketpost-templates-"));
    });
    after(() => {
      rmSync(root, { recursive: true, force: true });
    });

    /** A fresh folder holding the given files. */
    function folder(files: Record<string, string>): string {
      const dir = mkdtempSync(path.join(root, `set-${n++}-`));
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
      return dir;
    }

    const good = "Subject: {{ticket.tag}} ok\n\nHello {{ticket.requester.address}}\n";
    const broken: Array<{ name: string; files: Record<string, string>; names: string }> = [
      {
        name: "an unclosed block in the body",
        files: { "received.en.hbs": good, "closed.en.hbs": "Subject: {{ticket.tag}} x\n\n{{#if ticket.title}}never closed\n" },
        names: "closed.en.hbs",
      },
      {
        name: "an unclosed mustache in the subject",
        files: { "received.en.hbs": "Subject: {{ticket.tag x\n\nbody\n" },
        names: "received.en.hbs",
      },
      {
        name: "a mismatched closing block",
        files: { "received.de.hbs": "Subject: {{ticket.tag}}\n\n{{#if a}}x{{/each}}\n" },
        names: "received.de.hbs",
      },
      { name: "no Subject line", files: { "received.en.hbs": "Hello {{requester.address}}\n" }, names: "received.en.hbs" },
      {
        name: "no blank line after the Subject",
        files: { "received.en.hbs": "Subject: {{ticket.tag}}\nHello\n" },
        names: "received.en.hbs",
      },
      {
        name: "a broken HTML part",
        files: { "received.en.hbs": good, "received.en.html.hbs": "<p>{{#each x}}</p>\n" },
        names: "received.en.html.hbs",
      },
      {
        name: "an HTML part without its text part",
        files: { "received.en.hbs": good, "closed.en.html.hbs": "<p>hi</p>\n" },
        names: "closed.en.html.hbs",
      },
    ];
    for (const c of broken) {
      it(`${c.name} → ETEMPLATE naming the file, when the folder is loaded`, () => {
        const dir = folder(c.files);
        const err = templateError(() => new TemplateSet(dir, "en"));
        expect(err.message).to.contain(c.names);
      });
    }

    it("a missing folder → ETEMPLATE naming the folder", () => {
      const dir = path.join(root, "does-not-exist");
      expect(templateError(() => new TemplateSet(dir, "en")).message).to.contain(dir);
    });

    it("a good folder with CRLF files loads and renders", () => {
      const dir = folder({ "received.en.hbs": good.replace(/\n/g, "\r\n"), "received.en.html.hbs": "<p>{{ticket.title}}</p>" });
      const mail = new TemplateSet(dir, "en").render("received", "en", sampleData("<b>bold</b>"));
      expect(mail.subject).to.equal("[#T-1042] ok");
      expect(mail.text).to.equal("Hello anna@customer.example.org\n");
      expect(mail.html).to.equal("<p>&lt;b&gt;bold&lt;/b&gt;</p>");
    });

    it("ignores files that are not templates", () => {
      const dir = folder({ "received.en.hbs": good, "README.md": "# notes {{", "received.en.hbs~": "{{#broken" });
      expect(new TemplateSet(dir, "en").list()).to.deep.equal(["received.en"]);
    });
  });
});
