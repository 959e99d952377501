import { expect } from "chai";
import { parseDate, parseFieldLines, priorityFromHeaders, type FieldValues } from "../../src/mail/field-lines.js";
import type { Priority } from "../../src/tickets/levels.js";

// Thursday, 26 November 2026, 10:00 local time.
const REF = new Date("2026-11-26T10:00:00");

describe("mail/field-lines", () => {
  describe("parseDate", () => {
    const cases: Array<[string, string | null, string]> = [
      // [what the requester writes, the calendar date, why]
      ["2026-12-03", "2026-12-03", "ISO date"],
      ["2026-1-5", "2026-01-05", "ISO date without leading zeros"],
      ["03.12.2026", "2026-12-03", "German dd.mm.yyyy is day first"],
      ["3.12.2026", "2026-12-03", "German d.mm.yyyy"],
      ["3.1.2027", "2027-01-03", "German d.m.yyyy"],
      ["03.12.26", "2026-12-03", "German dd.mm.yy is 20yy"],
      ["03.12.2026.", "2026-12-03", "a full stop after the date"],
      ["24.12.", "2026-12-24", "no year: the next 24 December"],
      ["01.01.", "2027-01-01", "no year, already past this year: next year"],
      ["26.11.", "2026-11-26", "no year, today: today"],
      ["03.12.2026 17:00", "2026-12-03", "German date with a time stays day first"],
      ["tomorrow", "2026-11-27", "English relative day"],
      ["Tomorrow", "2026-11-27", "capitalised"],
      ["today", "2026-11-26", "today"],
      ["friday", "2026-11-27", "a weekday means the coming one"],
      ["next friday", "2026-12-04", '"next friday" on a Thursday is the Friday of next week (chrono\'s reading)'],
      ["in 3 days", "2026-11-29", "English relative span"],
      ["Dec 3", "2026-12-03", "English month name without year"],
      ["3 December 2026", "2026-12-03", "English written date"],
      ["by Friday", "2026-11-27", '"by" before a date'],
      ["tomorrow.", "2026-11-27", "a full stop after a word date"],
      ["morgen", "2026-11-27", "German tomorrow"],
      ["übermorgen", "2026-11-28", "German day after tomorrow"],
      ["Übermorgen", "2026-11-28", "capitalised German"],
      ["nächsten Freitag", "2026-12-04", "German next Friday, read like the English"],
      ["naechsten Freitag", "2026-12-04", "German without umlaut"],
      ["Freitag", "2026-11-27", "German weekday"],
      ["in 3 Tagen", "2026-11-29", "German relative span"],
      ["bis Freitag", "2026-11-27", '"bis" before a date'],
      ["3. Dezember", "2026-12-03", "German written date"],
      ["heute", "2026-11-26", "German today"],
      ["  2026-12-03  ", "2026-12-03", "surrounding blanks"],
      ["someday", null, "not a date"],
      ["asap", null, "urgency is not a date"],
      ["irgendwann", null, "German someday"],
      ["3", null, "a bare number"],
      ["", null, "nothing"],
      ["31.02.2026", null, "a day that does not exist"],
      ["2026-13-01", null, "a month that does not exist"],
      ["12/03/2026", null, "slashes: US and European readings differ, so no guess"],
      ["tomorrow or Monday", null, "two dates are not one"],
      ["tomorrow after the meeting", null, "a date with more words is not a date"],
    ];
    for (const [input, expected, why] of cases) {
      it(`${JSON.stringify(input)} → ${String(expected)} (${why})`, () => {
        expect(parseDate(input, REF)).to.equal(expected);
      });
    }

    it("counts from the reference date, not today's clock", () => {
      expect(parseDate("tomorrow", new Date("2030-02-28T09:00:00"))).to.equal("2030-03-01");
      expect(parseDate("morgen", new Date("2026-12-31T23:30:00"))).to.equal("2027-01-01");
    });
  });

  describe("parseFieldLines: one field line", () => {
    const cases: Array<[string, FieldValues, string]> = [
      // [first line of the body, what the ticket gets, why]
      ["Priority: high", { priority: "high" }, "English"],
      ["Priority: LOW", { priority: "low" }, "values in any case"],
      ["priority:critical", { priority: "critical" }, "key in lower case, no blank after the colon"],
      ["Priority: normal", { priority: "normal" }, "normal"],
      ["Priority: urgent", { priority: "high" }, "urgent means high"],
      ["Priority: high!", { priority: "high" }, "an exclamation mark after the value"],
      ["Priorität: hoch", { priority: "high" }, "German"],
      ["Prioritaet: kritisch", { priority: "critical" }, "German key without umlaut"],
      ["PRIORITÄT: Niedrig", { priority: "low" }, "German, upper-case key"],
      ["Priorität: dringend", { priority: "high" }, "dringend means high"],
      ["Prio: hoch", { priority: "high" }, "the usual short key"],
      ["Urgency: system-down", { urgency: "system-down" }, "urgency id"],
      ["Urgency: System Down", { urgency: "system-down" }, "id with a blank instead of the dash"],
      ["Urgency: 1", { urgency: "change-request" }, "number 1"],
      ["Urgency: 3", { urgency: "impaired" }, "number 3"],
      ["Urgency: 5", { urgency: "system-down" }, "number 5"],
      ["Urgency: small change request", { urgency: "change-request" }, "English label"],
      ["Urgency: change request", { urgency: "change-request" }, "English short form"],
      ["Urgency: minor", { urgency: "minor" }, "minor"],
      ["Urgency: work is impaired", { urgency: "impaired" }, "English label"],
      ["Urgency: impaired", { urgency: "impaired" }, "short form"],
      ["Urgency: blocked", { urgency: "blocked" }, "blocked"],
      ["Urgency: the whole system is down", { urgency: "system-down" }, "English label"],
      ["Dringlichkeit: das gesamte System steht", { urgency: "system-down" }, "German label"],
      ["Dringlichkeit: System steht", { urgency: "system-down" }, "German short form"],
      ["Dringlichkeit: kleiner Änderungswunsch", { urgency: "change-request" }, "German label"],
      ["Dringlichkeit: Änderungswunsch", { urgency: "change-request" }, "German short form"],
      ["Dringlichkeit: Aenderungswunsch", { urgency: "change-request" }, "German short form without umlaut"],
      ["Dringlichkeit: gering", { urgency: "minor" }, "gering"],
      ["Dringlichkeit: geringe Störung, Arbeit geht weiter", { urgency: "minor" }, "German label with a comma"],
      ["Dringlichkeit: beeinträchtigt", { urgency: "impaired" }, "beeinträchtigt"],
      ["Dringlichkeit: blockiert", { urgency: "blocked" }, "blockiert"],
      ["Dringlichkeit: 4", { urgency: "blocked" }, "number, German key"],
      ["Due: 2026-12-03", { due: "2026-12-03" }, "ISO date"],
      ["Due date: tomorrow", { due: "2026-11-27" }, "two-word key"],
      ["Deadline: in 3 days", { due: "2026-11-29" }, "Deadline"],
      ["Fällig: 03.12.2026", { due: "2026-12-03" }, "German key and date"],
      ["Faellig: morgen", { due: "2026-11-27" }, "German key without umlaut"],
      ["Fälligkeit: nächsten Freitag", { due: "2026-12-04" }, "Fälligkeit"],
      ["Termin: in 3 Tagen", { due: "2026-11-29" }, "Termin"],
      ["Department: web", { department: "web" }, "department as written"],
      ["Abteilung:   Buchhaltung Nord  ", { department: "Buchhaltung Nord" }, "German key, value trimmed, inner blank kept"],
    ];
    for (const [line, fields, why] of cases) {
      it(`${JSON.stringify(line)} sets ${JSON.stringify(fields)} (${why})`, () => {
        const r = parseFieldLines(`${line}\n\nThe printer is broken.\n`, REF);
        expect(r.fields).to.deep.equal(fields);
        expect(r.rest).to.equal("The printer is broken.\n");
        expect(r.problems).to.deep.equal([]);
      });
    }
  });

  describe("parseFieldLines: values that are not understood", () => {
    const cases: Array<[string, string, string]> = [
      // [line, the problem the requester is told, why]
      ["Priority: asap", 'Priority: "asap" is not a priority (low, normal, high, critical)', "unknown priority"],
      [
        "Priorität: sofort",
        'Priorität: "sofort" is not a priority (niedrig, normal, hoch, kritisch)',
        "German key: German values suggested",
      ],
      ["Priority: 1", 'Priority: "1" is not a priority (low, normal, high, critical)', "numbers are ambiguous for priority"],
      [
        "Urgency: whenever",
        'Urgency: "whenever" is not an urgency (1–5 or change-request, minor, impaired, blocked, system-down)',
        "unknown urgency",
      ],
      [
        "Urgency: 6",
        'Urgency: "6" is not an urgency (1–5 or change-request, minor, impaired, blocked, system-down)',
        "number out of range",
      ],
      [
        "Dringlichkeit: sehr",
        'Dringlichkeit: "sehr" is not an urgency (1–5 or Änderungswunsch, gering, beeinträchtigt, blockiert, System steht)',
        "German key",
      ],
      [
        "Due: someday",
        'Due: "someday" is not a date (a date such as 2026-12-03, 03.12.2026, tomorrow, next friday, in 3 days)',
        "not a date",
      ],
      [
        "Fällig: 31.02.2026",
        'Fällig: "31.02.2026" is not a date (a date such as 03.12.2026, 2026-12-03, morgen, nächsten Freitag, in 3 Tagen)',
        "a day that does not exist",
      ],
      ["Priority:", "Priority: no value given (low, normal, high, critical)", "empty value"],
      ["Abteilung:", "Abteilung: no department given", "empty department"],
    ];
    for (const [line, problem, why] of cases) {
      it(`${JSON.stringify(line)} stays in the text with a problem (${why})`, () => {
        const text = `${line}\n\nThe printer is broken.\n`;
        const r = parseFieldLines(text, REF);
        expect(r.fields).to.deep.equal({});
        expect(r.problems).to.deep.equal([problem]);
        expect(r.rest).to.equal(text);
      });
    }
  });

  describe("parseFieldLines: where field lines are read", () => {
    interface BlockCase {
      name: string;
      text: string;
      fields: FieldValues;
      rest: string;
      problems?: RegExp[];
    }
    const cases: BlockCase[] = [
      {
        name: "several fields, English",
        text: "Priority: high\nUrgency: blocked\nDue: 2026-12-03\nDepartment: web\n\nThe shop is down.\n",
        fields: { priority: "high", urgency: "blocked", due: "2026-12-03", department: "web" },
        rest: "The shop is down.\n",
      },
      {
        name: "several fields, German",
        text: "Priorität: hoch\nDringlichkeit: das gesamte System steht\nFällig: 03.12.2026\nAbteilung: web\n\nDer Shop ist down.\n",
        fields: { priority: "high", urgency: "system-down", due: "2026-12-03", department: "web" },
        rest: "Der Shop ist down.\n",
      },
      {
        name: "leading blank lines before the fields",
        text: "\n  \nPriority: high\n\nText\n",
        fields: { priority: "high" },
        rest: "Text\n",
      },
      {
        name: "text right after the fields, no blank line",
        text: "Priority: high\nText\n",
        fields: { priority: "high" },
        rest: "Text\n",
      },
      {
        name: "only the first blank line after the fields goes",
        text: "Priority: high\n\n\nText\n",
        fields: { priority: "high" },
        rest: "\nText\n",
      },
      {
        name: "a blank line ends the field lines",
        text: "Priority: high\n\nDue: tomorrow\nText\n",
        fields: { priority: "high" },
        rest: "Due: tomorrow\nText\n",
      },
      {
        name: "a field line below the text is text",
        text: "The printer is broken.\nPriority: high\n",
        fields: {},
        rest: "The printer is broken.\nPriority: high\n",
      },
      {
        name: "a field line in a quote is text",
        text: "Thanks!\n\n> Priority: critical\n",
        fields: {},
        rest: "Thanks!\n\n> Priority: critical\n",
      },
      {
        name: "an unknown key ends the field lines",
        text: "Priority: high\nSubject: printer\nUrgency: blocked\n",
        fields: { priority: "high" },
        rest: "Subject: printer\nUrgency: blocked\n",
      },
      {
        name: "Re: and Subject: are not fields",
        text: "Re: printer\nSubject: printer\n",
        fields: {},
        rest: "Re: printer\nSubject: printer\n",
      },
      {
        name: "a sentence with a colon is not a field",
        text: "Priority is high: the shop is down.\n",
        fields: {},
        rest: "Priority is high: the shop is down.\n",
      },
      {
        name: "a bad value stays, the good fields around it are read",
        text: "Priority: asap\nUrgency: blocked\n\nText\n",
        fields: { urgency: "blocked" },
        rest: "Priority: asap\n\nText\n",
        problems: [/"asap" is not a priority/],
      },
      {
        name: "a key given twice: the later one wins, and the requester is told",
        text: "Priority: high\nPriorität: kritisch\n\nText\n",
        fields: { priority: "critical" },
        rest: "Text\n",
        problems: [/Priorität given twice \("high", then "critical"\): using "critical"/],
      },
      {
        name: "the same value twice is no problem",
        text: "Priority: high\nPriorität: hoch\n\nText\n",
        fields: { priority: "high" },
        rest: "Text\n",
      },
      {
        name: "a later bad value does not undo an earlier good one",
        text: "Priority: high\nPriority: asap\n\nText\n",
        fields: { priority: "high" },
        rest: "Priority: asap\n\nText\n",
        problems: [/"asap" is not a priority/],
      },
      {
        name: "Windows line ends are kept in the text",
        text: "Priority: high\r\n\r\nLine 1\r\nLine 2\r\n",
        fields: { priority: "high" },
        rest: "Line 1\r\nLine 2\r\n",
      },
      {
        name: "a body that is only field lines leaves no text",
        text: "Priority: high\nDue: morgen",
        fields: { priority: "high", due: "2026-11-27" },
        rest: "",
      },
      {
        name: "no field lines: the text is untouched",
        text: "\nHello,\n\nthe printer is broken.\n",
        fields: {},
        rest: "\nHello,\n\nthe printer is broken.\n",
      },
      {
        name: "empty body",
        text: "",
        fields: {},
        rest: "",
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const r = parseFieldLines(c.text, REF);
        expect(r.fields).to.deep.equal(c.fields);
        expect(r.rest).to.equal(c.rest);
        const problems = c.problems ?? [];
        expect(r.problems).to.have.length(problems.length);
        problems.forEach((p, i) => expect(r.problems[i]).to.match(p));
      });
    }
  });

  describe("priorityFromHeaders", () => {
    const cases: Array<[Record<string, string[]>, Priority | null, string]> = [
      // [headers as parse hands them over (lower-case names), priority, why]
      [{}, null, "no headers"],
      [{ importance: ["high"] }, "high", "Importance: high (RFC 2156)"],
      [{ importance: ["High"] }, "high", "Outlook capitalises"],
      [{ importance: ["low"] }, "low", "Importance: low"],
      [{ importance: ["normal"] }, null, "Importance: normal says nothing"],
      [{ "x-priority": ["1 (Highest)"] }, "high", "Thunderbird's highest"],
      [{ "x-priority": ["2 (High)"] }, "high", "Thunderbird's high"],
      [{ "x-priority": ["3 (Normal)"] }, null, "normal"],
      [{ "x-priority": ["4 (Low)"] }, "low", "low"],
      [{ "x-priority": ["5"] }, "low", "lowest, bare number"],
      [{ "x-priority": ["urgent!"] }, null, "not a number"],
      [{ priority: ["urgent"] }, "high", "RFC 2156 Priority: urgent"],
      [{ priority: ["non-urgent"] }, "low", "RFC 2156 Priority: non-urgent"],
      [{ priority: ["normal"] }, null, "RFC 2156 Priority: normal"],
      [{ "x-msmail-priority": ["High"] }, "high", "old Outlook"],
      [{ "x-msmail-priority": ["Low"] }, "low", "old Outlook, low"],
      [{ "x-priority": ["1 (Highest)"], "x-msmail-priority": ["High"], importance: ["High"] }, "high", "Outlook sends all three"],
      [{ importance: ["normal"], "x-priority": ["1"] }, null, "the standard header decides over X-Priority"],
      [{ importance: ["whatever"], "x-priority": ["1"] }, "high", "an unknown value lets the next header decide"],
      [{ "x-priority": ["1"] }, "high", "never critical: the flag is one click"],
    ];
    for (const [headers, expected, why] of cases) {
      it(`${JSON.stringify(headers)} → ${String(expected)} (${why})`, () => {
        expect(priorityFromHeaders(headers)).to.equal(expected);
      });
    }
  });
});
