import { readdirSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { TemplateSet } from "../../src/notify/templates.js";
import { STATUS_LABELS } from "../../src/tickets/levels.js";

/*
 * The status mails of the ticket workflow against the data contract of each event
 * (src/notify/events/types.ts). Each template is rendered with exactly its event's typed data,
 * wrapped so that any lookup of a field the event does not provide is recorded: a template that
 * uses such a field fails here, not in a customer's mail. The full variant takes every
 * {{#if}} branch, the sparse one (nulls, empty lists) every {{else}}.
 */

import { eventByName, NOTIFICATION_EVENTS } from "../../src/notify/events/index.js";
import { eventData, fullData, hostileData, LANGS, sparseData, TAG, type Lang, type NotificationData } from "../helpers/event-data.js";

/**
 * Wraps data so that every lookup of a field it lacks is recorded. Strict mode throws for a
 * missing field in {{x}}, but not in {{#if x}}, so a misspelt optional field would pass silently.
 */
function recordingMisses(value: unknown, at: string, misses: Set<string>): unknown {
  if (value === null || typeof value !== "object") return value;
  const miss = (t: object, k: string | symbol) => {
    if (typeof k === "string" && !Object.hasOwn(t, k)) misses.add(`${at}.${k}`);
  };
  return new Proxy(value, {
    get(t, k, r) {
      miss(t, k);
      const v: unknown = Reflect.get(t, k, r);
      return typeof k === "string" && Object.hasOwn(t, k) ? recordingMisses(v, `${at}.${k}`, misses) : v;
    },
    has(t, k) {
      miss(t, k);
      return Reflect.has(t, k);
    },
  });
}

/** Words of the other language's boilerplate; user text in the samples contains none of them. */
const NOT_IN_GERMAN = [
  "Hello",
  "ticket has been",
  "Thank you",
  "Please",
  "reply to this mail",
  "Requester",
  "Priority",
  "Due date",
  "wrote",
  "your request",
];
const NOT_IN_ENGLISH = ["Guten Tag", "Ihre", "Bitte", "Anfrage", "Priorität", "Fällig", "wurde", "Antwort", "ä", "ö", "ü", "ß"];

describe("notify/template-events", () => {
  const set = new TemplateSet(path.resolve("templates"), "en");

  it("registers each event once, under a kebab-case name that eventByName finds", () => {
    const names = NOTIFICATION_EVENTS.map((e) => e.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const name of names) {
      expect(name).to.match(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(eventByName(name).name).to.equal(name);
    }
    expect(() => eventByName("no-such-event")).to.throw("no-such-event");
  });

  it("has no template for an event that is not registered (a misspelt file would never be sent)", () => {
    const names = new Set<string>(NOTIFICATION_EVENTS.map((e) => e.name));
    for (const file of readdirSync(path.resolve("templates"))) {
      const m = /^([a-z][a-z0-9-]*)\.([a-z]{2})\.hbs$/.exec(file);
      if (m) expect(names.has(m[1]), file).to.equal(true);
    }
  });

  it("automatic is false exactly for the mails that carry a person's words to another person", () => {
    const human = NOTIFICATION_EVENTS.filter((e) => !e.automatic)
      .map((e) => e.name)
      .sort();
    expect(human).to.deep.equal(["agent-reply", "answer-received", "note", "question", "reopened", "stranger-reply"]);
  });

  for (const ev of NOTIFICATION_EVENTS) {
    describe(`${ev.name} (${ev.audience})`, () => {
      for (const lang of LANGS) {
        it(`${lang}: has a template`, () => {
          expect(set.has(ev.name, lang), `${ev.name}.${lang}.hbs`).to.equal(true);
        });

        for (const [variant, data] of [
          ["full", eventData(ev.name, fullData(lang, ev.name))],
          ["sparse", eventData(ev.name, sparseData(lang, ev.name))],
        ] as const) {
          it(`${lang}, ${variant} data: renders a one-line subject starting with the tag, signed, nothing left over`, () => {
            const mail = set.render(ev.name, lang, data);
            // A mail about a mail that made no ticket has no tag to carry.
            if (!ev.ticketless) {
              expect(mail.subject.startsWith(`${TAG} `), mail.subject).to.equal(true);
              expect(mail.subject.length).to.be.greaterThan(TAG.length + 1);
            }
            expect(mail.subject).not.to.match(/[\r\n]/);
            // Every status mail has an HTML part: its own template or its text, in the shared layout.
            expect(mail.html).to.contain("</html>");
            if (!ev.ticketless) expect(mail.html).to.contain(TAG);
            for (const part of [mail.subject, mail.text]) {
              expect(part).not.to.contain("{{");
              expect(part).not.to.contain("}}");
              expect(part).not.to.contain("undefined");
              expect(part).not.to.contain("[object Object]");
            }
            expect(mail.text).to.contain(lang === "de" ? "Guten Tag" : "Hello");
            expect(mail.text).to.contain(data.recipient.name ?? data.recipient.address);
            expect(mail.text.trimEnd().endsWith("ACME Support"), mail.text).to.equal(true);
            expect(mail.text).not.to.match(/\n{3,}/);
          });

          it(`${lang}, ${variant} data: looks up no field outside the data contract`, () => {
            const misses = new Set<string>();
            set.render(ev.name, lang, recordingMisses(data, "data", misses) as object);
            expect([...misses]).to.deep.equal([]);
          });

          it(`${lang}, ${variant} data: no boilerplate of the other language`, () => {
            const mail = set.render(ev.name, lang, data);
            const out = `${mail.subject}\n${mail.text}`;
            for (const word of lang === "de" ? NOT_IN_GERMAN : NOT_IN_ENGLISH) expect(out, `"${word}"`).not.to.contain(word);
          });
        }

        it(`${lang}: user text is shown literally, indented on every line, and cannot add a header`, () => {
          const mail = set.render(ev.name, lang, eventData(ev.name, hostileData(lang, ev.name)));
          expect(mail.subject).not.to.match(/[\r\n]/);
          if (!ev.ticketless) expect(mail.subject.startsWith(`${TAG} `)).to.equal(true);
          expect(mail.text).not.to.match(/^Bcc:/m);
          const lines = mail.text.split("\n");
          lines.forEach((line, i) => {
            if (line.includes("{{evil}}") || line.includes("Bcc: x@y")) expect(line, `line ${i}: ${line}`).to.match(/^ {4}\S/);
          });
        });
      }
    });
  }

  /** Events whose body shows the given piece of user text. */
  const SHOWS: Record<string, string[]> = {
    text: ["assigned", "question", "agent-reply", "answer-received", "note", "resolved", "reopened"],
    description: ["new-ticket"],
    title: ["received", "new-ticket", "assigned", "overdue"],
    history: ["assigned"],
  };
  for (const [field, events] of Object.entries(SHOWS)) {
    for (const name of events) {
      it(`${name} shows the ${field} as written, {{evil}} and all`, () => {
        for (const lang of LANGS) {
          const text = set.render(name, lang, eventData(name, hostileData(lang, name))).text;
          expect(text).to.contain("    Printer {{evil}}\n    Bcc: x@y");
          if (field === "history") expect(text.split("Printer {{evil}}").length - 1).to.be.at.least(3);
        }
      });
    }
  }

  describe("what each mail says", () => {
    const render = (name: string, lang: Lang, data: NotificationData = fullData(lang, name)) =>
      set.render(name, lang, eventData(name, data)).text;

    it("received names the department when known and the earlier closed ticket when set", () => {
      expect(render("received", "en")).to.contain("IT Service").and.to.contain("T-17").and.to.contain("already closed");
      expect(render("received", "de")).to.contain("IT-Service").and.to.contain("T-17").and.to.contain("bereits abgeschlossen");
      for (const lang of LANGS) expect(render("received", lang, sparseData(lang, "received"))).not.to.contain("T-17");
    });

    it("new-ticket gives the summary, the description and how to take the ticket", () => {
      const en = render("new-ticket", "en");
      for (const s of [
        "T-42",
        "Printer on floor 3 is jammed",
        "Anna Berg <anna@customer.example.org>",
        "high",
        "work is blocked",
        "2026-12-03",
        "IT Service",
        "    The printer shows error E-17.\n    It started this morning.",
        "#take on the first line",
        "#ask",
        "#assign",
        "#note",
        "#resolve",
      ]) {
        expect(en).to.contain(s);
      }
      const de = render("new-ticket", "de");
      for (const s of [
        "T-42",
        "hoch",
        "Arbeit ist blockiert",
        "2026-12-03",
        "IT-Service",
        "#übernehmen in der ersten Zeile",
        "#frage",
        "#zuweisen",
        "#notiz",
        "#erledigt",
      ]) {
        expect(de).to.contain(s);
      }
    });

    it("new-ticket says when the mail has no text, only attachments, and lists the files", () => {
      expect(render("new-ticket", "en"))
        .to.contain("no text, only attachments (1)")
        .and.to.contain("- scan.pdf (application/pdf, 47.1 KB)");
      // In German with a decimal comma, in the text and in the HTML part.
      expect(render("new-ticket", "de")).to.contain("keinen Text, nur Anhänge (1)").and.to.contain("- scan.pdf (application/pdf, 47,1 KB)");
      expect(set.render("new-ticket", "de", eventData("new-ticket", fullData("de", "new-ticket"))).html).to.contain("47,1 KB");
      const d = fullData("en", "new-ticket");
      expect(render("new-ticket", "en", { ...d, textEmpty: false })).not.to.contain("no text");
      expect(render("new-ticket", "en", { ...d, files: null })).not.to.contain("scan.pdf");
    });

    it("a mail over the limit lists the files and tells an agent to reply #files (#dateien), a requester to reply", () => {
      expect(render("new-ticket", "en"))
        .to.contain("- trace.zip (application/zip, 30 MB)")
        .and.to.contain("reply to this mail with #files on the first line");
      expect(render("new-ticket", "de"))
        .to.contain("- trace.zip (application/zip, 30 MB)")
        .and.to.contain("mit #dateien in der ersten Zeile");
      expect(render("agent-reply", "en")).to.contain("trace.zip").and.to.contain("find another way").and.not.to.contain("#files");
    });

    it("files says which part of how many it is", () => {
      expect(render("files", "en")).to.contain("part 1 of 2").and.to.contain("- display.png (image/png, 20 KB)");
      expect(render("files", "de")).to.contain("Teil 1 von 2");
      const d = fullData("en", "files");
      expect(render("files", "en", { ...d, files: { ...d.files!, attached: [], listed: [] } })).to.contain("This ticket has no files.");
      expect(render("files", "en")).not.to.contain("no files");
    });

    it("taken says who handles the ticket now", () => {
      expect(render("taken", "en")).to.contain("Jonas Weber");
      expect(render("taken", "de")).to.contain("Jonas Weber");
      const d = fullData("en", "taken");
      expect(render("taken", "en", { ...d, ticket: { ...d.ticket, assignee: { address: "jonas@example.net", name: null } } })).to.contain(
        "jonas@example.net",
      );
    });

    it("assigned names who handed it over and lists the history oldest first with its visibility", () => {
      for (const [lang, internal] of [
        ["en", "internal"],
        ["de", "intern"],
      ] as const) {
        const text = render("assigned", lang);
        expect(text).to.contain(lang === "de" ? "von Lena Koch an Sie übergeben" : "handed over to you by Lena Koch");
        expect(text.indexOf("First entry")).to.be.greaterThan(-1).and.lessThan(text.indexOf("Second entry"));
        expect(text).to.contain(`2026-12-01 10:02, Jonas Weber (${internal}):`);
        expect(text).to.contain(`${lang === "de" ? "Nachricht von" : "Message from"} Lena Koch:\n\n    Which model is it exactly?`);
      }
    });

    it("note makes clear the requester does not see it, and names its author", () => {
      expect(render("note", "en")).to.contain("Lena Koch added an internal note").and.to.contain("does not see it");
      expect(render("note", "de")).to.contain("Lena Koch hat eine interne Notiz").and.to.contain("sieht sie nicht");
    });

    it("answer-received and reopened name who wrote: the actor, else the requester", () => {
      for (const name of ["answer-received", "reopened"]) {
        for (const lang of LANGS) {
          expect(render(name, lang)).to.contain("Anna Berg");
          expect(render(name, lang, sparseData(lang, name))).to.contain("anna@customer.example.org");
        }
      }
    });

    it("resolved says a reply within reopenDays reopens the ticket", () => {
      expect(render("resolved", "en")).to.contain("within 14 days");
      expect(render("resolved", "de")).to.contain("innerhalb von 14 Tagen");
    });

    it("overdue gives the due date, the status and the assignee", () => {
      for (const lang of LANGS) {
        expect(render("overdue", lang))
          .to.contain("2026-12-03")
          .and.to.contain(STATUS_LABELS[lang].in_progress)
          .and.to.contain("Jonas Weber");
      }
    });

    it("command-confirmation lists the changes, command-error the errors and the valid commands", () => {
      for (const lang of LANGS) {
        const d = fullData(lang, "command-confirmation");
        const ok = render("command-confirmation", lang);
        for (const c of d.changes) expect(ok).to.contain(`- ${c}\n`);
        const bad = render("command-error", lang);
        for (const s of [...d.errors, ...d.commandHelp]) expect(bad).to.contain(`- ${s}\n`);
      }
    });
  });
});
