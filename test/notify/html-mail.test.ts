import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { NOTIFICATION_EVENTS } from "../../src/notify/events/index.js";
import { formatSize, linkifyText, textToHtml } from "../../src/notify/html.js";
import { TemplateSet } from "../../src/notify/templates.js";
import { eventData, fullData, hostileData, LANGS, sparseData, TAG, type NotificationData } from "../helpers/event-data.js";
import { htmlPartText, wordsOf } from "../helpers/html-text.js";

/*
 * The HTML part of every status mail: it says what the text part says (its text, extracted with
 * html-to-text, has the same words in the same order), escapes whatever a person wrote, makes
 * links clickable (never a javascript: one), shows the ticket tag, and shows inline images.
 */

const set = new TemplateSet(path.resolve("templates"), "en");
const ATTACK = 'Look <script>alert("x")</script> <img src=x onerror=alert(1)> <a href="javascript:alert(2)">here</a> &amp; "quotes"';
const LINKS = "Manual: https://example.com/manual?page=4&lang=en\nWrite to help@example.org, not javascript:alert(3)";

function withText(d: NotificationData, text: string): NotificationData {
  return {
    ...d,
    text,
    ticket: { ...d.ticket, title: text.split("\n")[0], description: text },
    history: d.history.map((h) => ({ ...h, text })),
    mergedTitle: text.split("\n")[0],
    lines: d.lines.map((l) => ({ ...l, title: text.split("\n")[0] })),
    overdue: d.overdue.map((l) => ({ ...l, title: text.split("\n")[0] })),
    waiting: d.waiting.map((l) => ({ ...l, title: text.split("\n")[0] })),
  };
}

describe("notify/html: the HTML part of every status mail", () => {
  for (const ev of NOTIFICATION_EVENTS) {
    for (const lang of LANGS) {
      const variants: Array<[string, NotificationData]> = [
        ["full", fullData(lang, ev.name)],
        ["sparse", sparseData(lang, ev.name)],
        ["hostile", hostileData(lang, ev.name)],
        ["attacking HTML", withText(fullData(lang, ev.name), ATTACK)],
        ["links", withText(fullData(lang, ev.name), LINKS)],
      ];
      for (const [variant, d] of variants) {
        it(`${ev.name}.${lang}, ${variant}: the HTML part says what the text part says`, () => {
          const mail = set.render(ev.name, lang, eventData(ev.name, d));
          expect(wordsOf(htmlPartText(mail.html!))).to.deep.equal(wordsOf(mail.text));
        });
      }

      it(`${ev.name}.${lang}: a person's HTML is shown as text, never as markup`, () => {
        const html = set.render(ev.name, lang, eventData(ev.name, withText(fullData(lang, ev.name), ATTACK))).html!;
        expect(html).not.to.match(/<script/i);
        expect(html).not.to.match(/<img src=x/i);
        expect(html).not.to.match(/href="javascript:/i);
        expect(html).not.to.match(/\sonerror=/i);
        if (
          ev.name !== "rejected" &&
          ev.name !== "taken" &&
          ev.name !== "overdue" &&
          ev.name !== "received" &&
          ev.name !== "command-confirmation" &&
          ev.name !== "command-error" &&
          ev.name !== "files"
        ) {
          expect(html).to.contain("&lt;script&gt;");
        }
      });

      it(`${ev.name}.${lang}: the ticket tag is visible, inline images are shown by cid`, () => {
        const html = set.render(ev.name, lang, eventData(ev.name, fullData(lang, ev.name))).html!;
        if (!ev.ticketless) expect(html).to.match(new RegExp(`class="tp-tag"[^>]*>${TAG.replace(/[[\]]/g, "\\$&")}<`));
        expect(html).to.contain('src="cid:file1.0123456789abcdef@ticketpost"');
        expect(html).to.contain("</html>");
        // juice inlined the layout's CSS: mail clients ignore most <style> blocks.
        expect(html).to.match(/<div class="tp-card" style="[^"]+"/);
      });
    }
  }

  it("people's links are clickable: http(s) and mail addresses, never javascript:", () => {
    for (const name of ["agent-reply", "answer-received", "new-ticket"]) {
      const html = set.render(name, "en", eventData(name, withText(fullData("en", name), LINKS))).html!;
      expect(html).to.match(/<a href="https:\/\/example\.com\/manual\?page(=|&#x3D;)4&amp;lang(=|&#x3D;)en"[^>]*>/);
      expect(html).to.match(/<a href="mailto:help@example\.org"[^>]*>help@example\.org<\/a>/);
      expect(html).not.to.contain('href="javascript:');
    }
  });

  it("hand-written HTML templates exist for the mails people read most; the rest are made from their text", () => {
    for (const lang of LANGS) {
      for (const name of ["received", "new-ticket", "question", "agent-reply", "resolved"])
        expect(set.hasHtml(name, lang), `${name}.${lang}.html.hbs`).to.equal(true);
      expect(set.hasHtml("taken", lang)).to.equal(false);
    }
  });

  describe("an event without an HTML template (the fallback other events rely on)", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), "tp-html-"));
      mkdirSync(path.join(dir, "partials"));
      writeFileSync(
        path.join(dir, "layout.html.hbs"),
        '<html><body><div class="tp-chrome">{{gateway.name}} <span class="tp-tag">{{ticket.tag}}</span></div>{{body}}</body></html>',
      );
      writeFileSync(
        path.join(dir, "queue.en.hbs"),
        'Subject: {{ticket.tag}} Your queue\n\n{{#*inline "quoted"}}\n{{text}}\n{{/inline}}\nHello {{recipient.address}},\n\nwhat {{ticket.requester.address}} wrote:\n\n    {{> quoted text=ticket.description}}\n\nOpen tickets:\n- T-1 new\n- T-2 waiting\n\n{{gateway.name}}\n',
      );
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("gets an HTML part in the layout, made from its text: escaped, linkified, paragraphs, quotes and lists kept", () => {
      const d = eventData("received", withText(fullData("en", "received"), "See <b>https://example.com/x</b>\n\nsecond paragraph"));
      const mail = new TemplateSet(dir, "en").render("queue", "en", d);
      expect(mail.html).to.contain('<span class="tp-tag">[#T-42]</span>');
      expect(mail.html).to.contain(
        '<blockquote class="tp-quote"><p>See &lt;b&gt;<a href="https://example.com/x">https://example.com/x</a>&lt;/b&gt;</p>\n<p>second paragraph</p></blockquote>',
      );
      expect(mail.html).to.contain("<p>Open tickets:</p><ul><li>T-1 new</li><li>T-2 waiting</li></ul>");
      expect(wordsOf(htmlPartText(mail.html!))).to.deep.equal(wordsOf(mail.text));
    });
  });

  describe("pure helpers", () => {
    it("textToHtml: paragraphs at empty lines, indented blocks as quotes, '- ' runs as lists", () => {
      expect(textToHtml("Hello,\n\nline one\nline two")).to.equal("<p>Hello,</p>\n<p>line one<br>\nline two</p>");
      expect(textToHtml("    quoted\n    \n    more")).to.equal('<blockquote class="tp-quote"><p>quoted</p>\n<p>more</p></blockquote>');
      expect(textToHtml("- a\n- b")).to.equal("<ul><li>a</li><li>b</li></ul>");
    });

    it("linkifyText escapes around links and keeps line breaks", () => {
      expect(linkifyText("<x> http://a.example/?q=1&r=2\nnext")).to.equal(
        '&lt;x&gt; <a href="http://a.example/?q&#x3D;1&amp;r&#x3D;2">http://a.example/?q&#x3D;1&amp;r&#x3D;2</a><br>\nnext',
      );
    });

    it("formatSize", () => {
      const table: Array<[number, string]> = [
        [0, "0 bytes"],
        [1023, "1023 bytes"],
        [1024, "1 KB"],
        [48_213, "47.1 KB"],
        [10 * 1024 * 1024, "10 MB"],
        [31_457_280, "30 MB"],
        [150 * 1024 * 1024, "150 MB"],
      ];
      for (const [n, s] of table) expect(formatSize(n), String(n)).to.equal(s);
    });

    it("formatSize in the mail's language: a decimal comma and Bytes in German, English for a tag Intl does not know", () => {
      const table: Array<[number, string, string]> = [
        [812, "de", "812 Bytes"],
        [48_213, "de", "47,1 KB"],
        [11_010_048, "de", "10,5 MB"],
        [150 * 1024 * 1024, "de", "150 MB"],
        [1_048_064, "de", "1024 KB"],
        [48_213, "fr", "47,1 KB"],
        [48_213, "en", "47.1 KB"],
        [48_213, "not a language!", "47.1 KB"],
      ];
      for (const [n, lang, s] of table) expect(formatSize(n, lang), `${n} ${lang}`).to.equal(s);
    });
  });
});
