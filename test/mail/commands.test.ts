import { expect } from "chai";
import { COMMAND_HELP, parseCommands, type Command } from "../../src/mail/commands.js";

// Thursday, 26 November 2026, 10:00 local time.
const REF = new Date("2026-11-26T10:00:00");

describe("mail/commands", () => {
  describe("one command", () => {
    const cases: Array<[string, Command]> = [
      // [the agent's first line, the command the gateway runs]
      ["#take", { kind: "take", source: "#take" }],
      ["#TAKE", { kind: "take", source: "#TAKE" }],
      ["#übernehmen", { kind: "take", source: "#übernehmen" }],
      ["#uebernehmen", { kind: "take", source: "#uebernehmen" }],
      ["#Übernehmen", { kind: "take", source: "#Übernehmen" }],
      ["#ask", { kind: "ask", source: "#ask" }],
      ["#frage", { kind: "ask", source: "#frage" }],
      ["#assign bob@example.com", { kind: "assign", target: "bob@example.com", source: "#assign bob@example.com" }],
      ["#assign <bob@example.com>", { kind: "assign", target: "bob@example.com", source: "#assign <bob@example.com>" }],
      ["#assign web", { kind: "assign", target: "web", source: "#assign web" }],
      ["#zuweisen Bob Builder", { kind: "assign", target: "Bob Builder", source: "#zuweisen Bob Builder" }],
      ["#note", { kind: "note", source: "#note" }],
      ["#notiz", { kind: "note", source: "#notiz" }],
      ["#priority high", { kind: "priority", value: "high", source: "#priority high" }],
      ["#Priority: Critical", { kind: "priority", value: "critical", source: "#Priority: Critical" }],
      ["#priorität hoch", { kind: "priority", value: "high", source: "#priorität hoch" }],
      ["#prioritaet niedrig", { kind: "priority", value: "low", source: "#prioritaet niedrig" }],
      ["#urgency system-down", { kind: "urgency", value: "system-down", source: "#urgency system-down" }],
      ["#urgency 2", { kind: "urgency", value: "minor", source: "#urgency 2" }],
      ["#dringlichkeit System steht", { kind: "urgency", value: "system-down", source: "#dringlichkeit System steht" }],
      ["#dringlichkeit blockiert", { kind: "urgency", value: "blocked", source: "#dringlichkeit blockiert" }],
      ["#due 2026-12-03", { kind: "due", value: "2026-12-03", source: "#due 2026-12-03" }],
      ["#due next friday", { kind: "due", value: "2026-12-04", source: "#due next friday" }],
      ["#fällig 03.12.2026", { kind: "due", value: "2026-12-03", source: "#fällig 03.12.2026" }],
      ["#faellig in 3 Tagen", { kind: "due", value: "2026-11-29", source: "#faellig in 3 Tagen" }],
      ["#fällig übermorgen", { kind: "due", value: "2026-11-28", source: "#fällig übermorgen" }],
      ["#resolve", { kind: "resolve", source: "#resolve" }],
      ["#lösen", { kind: "resolve", source: "#lösen" }],
      ["#loesen", { kind: "resolve", source: "#loesen" }],
      ["#gelöst", { kind: "resolve", source: "#gelöst" }],
      ["#reopen", { kind: "reopen", source: "#reopen" }],
      ["#wiedereröffnen", { kind: "reopen", source: "#wiedereröffnen" }],
      ["#wiedereroeffnen", { kind: "reopen", source: "#wiedereroeffnen" }],
      ["#wieder", { kind: "reopen", source: "#wieder" }],
      ["#done", { kind: "done", source: "#done" }],
      ["#erledigt", { kind: "done", source: "#erledigt" }],
      ["   #take   ", { kind: "take", source: "#take" }],
    ];
    for (const [line, command] of cases) {
      it(`${JSON.stringify(line)} → ${command.kind}`, () => {
        const r = parseCommands(`${line}\n\nThanks, Carla.\n`, REF);
        expect(r.errors).to.deep.equal([]);
        expect(r.commands).to.deep.equal([command]);
        expect(r.rest).to.equal("Thanks, Carla.\n");
      });
    }

    it("an umlaut sent decomposed (NFD) is the same command", () => {
      const r = parseCommands("#lo\u0308sen\n", REF);
      expect(r.commands.map((c) => c.kind)).to.deep.equal(["resolve"]);
    });
  });

  describe("several commands and the message text", () => {
    interface Case {
      name: string;
      text: string;
      commands: Array<Command["kind"]>;
      rest: string;
      errors?: RegExp[];
    }
    const cases: Case[] = [
      {
        name: "one command per line",
        text: "#take\n#priority high\n#due morgen\n\nI am on it.\n",
        commands: ["take", "priority", "due"],
        rest: "I am on it.\n",
      },
      {
        name: "several commands on one line",
        text: "#take #priority high #due in 3 days\nI am on it.\n",
        commands: ["take", "priority", "due"],
        rest: "I am on it.\n",
      },
      {
        name: "blank lines before and between command lines",
        text: "\n\n#take\n\n#note\n\nCustomer called back.\n",
        commands: ["take", "note"],
        rest: "Customer called back.\n",
      },
      {
        name: "the text after the commands is kept exactly, blank lines inside it too",
        text: "#ask\n\nWhich printer?\n\n  Room number?\n",
        commands: ["ask"],
        rest: "Which printer?\n\n  Room number?\n",
      },
      {
        name: "a command below the text is text",
        text: "Looks good.\n#resolve\n",
        commands: [],
        rest: "Looks good.\n#resolve\n",
      },
      {
        name: "commands are read only up to the first text line",
        text: "#take\nWill check.\n#resolve\n",
        commands: ["take"],
        rest: "Will check.\n#resolve\n",
      },
      {
        name: "a word without # is never a command",
        text: "resolve\ntake\n",
        commands: [],
        rest: "resolve\ntake\n",
      },
      {
        name: "a Markdown heading is not a command",
        text: "# Summary\nAll fine.\n",
        commands: [],
        rest: "# Summary\nAll fine.\n",
      },
      {
        name: "a number after # is not a command",
        text: "#1 problem is the toner.\n",
        commands: [],
        rest: "#1 problem is the toner.\n",
      },
      {
        name: "no commands: the text is untouched, leading blank lines too",
        text: "\nHello\n",
        commands: [],
        rest: "\nHello\n",
      },
      {
        name: "only commands: no text",
        text: "#take\n#priority high",
        commands: ["take", "priority"],
        rest: "",
      },
      {
        name: "Windows line ends",
        text: "#take\r\n\r\nOn it.\r\n",
        commands: ["take"],
        rest: "On it.\r\n",
      },
      {
        name: "the same kind twice: both come back in order, so the later one wins when applied",
        text: "#priority low\n#priority high\n",
        commands: ["priority", "priority"],
        rest: "",
      },
      {
        name: "a bad command next to good ones: the good ones come back, the bad line is not text",
        text: "#take #priority asap\nOn it.\n",
        commands: ["take"],
        rest: "On it.\n",
        errors: [/^#priority asap: "asap" is not a priority \(low, normal, high, critical\)$/],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const r = parseCommands(c.text, REF);
        expect(r.commands.map((x) => x.kind)).to.deep.equal(c.commands);
        expect(r.rest).to.equal(c.rest);
        const errors = c.errors ?? [];
        expect(r.errors).to.have.length(errors.length);
        errors.forEach((e, i) => expect(r.errors[i]).to.match(e));
      });
    }

    it("each command carries its own words as written, for the confirmation", () => {
      const r = parseCommands("#take #Priorität: Hoch\n", REF);
      expect(r.commands).to.deep.equal([
        { kind: "take", source: "#take" },
        { kind: "priority", value: "high", source: "#Priorität: Hoch" },
      ]);
    });
  });

  describe("errors", () => {
    const cases: Array<[string, RegExp, string]> = [
      // [line, what the agent is told, why]
      [
        "#frobnicate",
        /^#frobnicate: unknown command \(known: #take, #ask, #assign, #note, #priority, #urgency, #due, #resolve, #reopen, #done, #files/,
        "unknown command",
      ],
      ["#assign", /^#assign: expected a colleague's address or name, or a department/, "assign without target"],
      ["#zuweisen   ", /^#zuweisen: expected a colleague's address or name, or a department/, "German assign without target"],
      ["#priority asap", /^#priority asap: "asap" is not a priority \(low, normal, high, critical\)$/, "unknown priority"],
      ["#priority", /^#priority: expected a priority \(low, normal, high, critical\)$/, "priority without value"],
      [
        "#urgency panic",
        /^#urgency panic: "panic" is not an urgency \(1–5 or change-request, minor, impaired, blocked, system-down\)$/,
        "unknown urgency",
      ],
      ["#dringlichkeit 0", /^#dringlichkeit 0: "0" is not an urgency/, "urgency out of range"],
      ["#due someday", /^#due someday: "someday" is not a date \(expected a date such as 2026-12-03/, "not a date"],
      ["#fällig", /^#fällig: expected a date such as/, "due without date"],
      [
        "#resolve fixed the toner",
        /^#resolve fixed the toner: #resolve takes nothing after it on the line; write your text below the command lines$/,
        "text on a command line would be lost",
      ],
      ["#take now", /^#take now: #take takes nothing after it/, "argument to a command without one"],
    ];
    for (const [line, error, why] of cases) {
      it(`${JSON.stringify(line)}: ${why}, no command`, () => {
        const r = parseCommands(`${line}\n\nText.\n`, REF);
        expect(r.commands).to.deep.equal([]);
        expect(r.errors).to.have.length(1);
        expect(r.errors[0]).to.match(error);
        expect(r.rest).to.equal("Text.\n");
      });
    }
  });

  describe("COMMAND_HELP", () => {
    const kinds: Array<Command["kind"]> = [
      "take",
      "ask",
      "assign",
      "note",
      "priority",
      "urgency",
      "due",
      "resolve",
      "reopen",
      "done",
      "files",
      "cc",
      "merge",
      "queue",
    ];

    it("lists every command once, with an English and a German spelling and a description", () => {
      expect(COMMAND_HELP.map((h) => h.kind))
        .to.have.members(kinds)
        .and.have.length(kinds.length);
      for (const h of COMMAND_HELP) {
        expect(h.en, h.kind).to.not.be.empty;
        expect(h.de, h.kind).to.not.be.empty;
        expect(h.description, h.kind).to.not.equal("");
      }
    });

    it("no spelling belongs to two commands", () => {
      const seen = new Map<string, string>();
      for (const h of COMMAND_HELP) {
        for (const s of [...h.en, ...h.de]) {
          const key = s.toLowerCase().replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue");
          expect(seen.get(key) ?? h.kind, s).to.equal(h.kind);
          seen.set(key, h.kind);
        }
      }
    });

    // Every documented spelling is understood: what the README and error mails show works.
    const sampleArgs: Partial<Record<Command["kind"], string>> = {
      assign: " web",
      priority: " high",
      urgency: " 3",
      due: " 2026-12-03",
      cc: " add boss@customer.example",
      merge: " T-12-k7f2q",
    };
    for (const h of COMMAND_HELP) {
      const arg = sampleArgs[h.kind] ?? "";
      for (const spelling of [...h.en, ...h.de]) {
        it(`${spelling}${arg} is ${h.kind}`, () => {
          const r = parseCommands(`${spelling}${arg}\n`, REF);
          expect(r.errors).to.deep.equal([]);
          expect(r.commands.map((c) => c.kind)).to.deep.equal([h.kind]);
        });
      }
    }
  });
});
