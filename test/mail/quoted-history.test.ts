import { expect } from "chai";
import { stripQuotedHistory } from "../../src/mail/quoted-history.js";

interface Case {
  name: string;
  /** The text part of the reply as the mail client sent it. */
  mail: string;
  /** What the ticket shows as the new message. */
  kept: string;
}

const cases: Case[] = [
  {
    name: "Thunderbird, English",
    mail: [
      "Thanks, the printer works again.",
      "",
      "On 11/26/26 10:00 AM, Carla Customer wrote:",
      "> The printer on floor 2 is broken.",
      ">",
      "> Carla",
      "",
    ].join("\n"),
    kept: "Thanks, the printer works again.",
  },
  {
    name: "Thunderbird, German",
    mail: [
      "Danke, der Drucker geht wieder.",
      "",
      "Am 26.11.2026 um 10:00 schrieb Carla Customer:",
      "> Der Drucker im 2. Stock ist kaputt.",
      ">",
      "> Carla",
      "",
    ].join("\n"),
    kept: "Danke, der Drucker geht wieder.",
  },
  {
    name: 'Gmail, English, header wrapped before "wrote:"',
    mail: [
      "Thanks, it works.",
      "",
      "On Thu, Nov 26, 2026 at 10:00 AM Carla Customer <carla@example.com>",
      "wrote:",
      "",
      "> The printer is broken.",
      ">",
      "",
    ].join("\n"),
    kept: "Thanks, it works.",
  },
  {
    name: "Gmail, English, header wrapped inside the address",
    mail: [
      "Thanks, it works.",
      "",
      "On Thu, Nov 26, 2026 at 10:00 AM Carla Customer <",
      "carla@example.com> wrote:",
      "",
      "> The printer is broken.",
      "",
    ].join("\n"),
    kept: "Thanks, it works.",
  },
  {
    name: "Gmail, German, header wrapped inside the address (library misses it: unwrapped first)",
    mail: [
      "Danke, geht wieder.",
      "",
      "Am Do., 26. Nov. 2026 um 10:00 Uhr schrieb Carla Customer <",
      "carla@example.com>:",
      "",
      "> Der Drucker ist kaputt.",
      "",
    ].join("\n"),
    kept: "Danke, geht wieder.",
  },
  {
    name: 'Gmail, German, header wrapped after "schrieb"',
    mail: [
      "Danke, geht wieder.",
      "",
      "Am Do., 26. Nov. 2026 um 10:00 Uhr schrieb",
      "Carla Customer <carla@example.com>:",
      "",
      "> Der Drucker ist kaputt.",
      "",
    ].join("\n"),
    kept: "Danke, geht wieder.",
  },
  {
    name: "Outlook, German, sender with address",
    mail: [
      "Hallo Frau Customer,",
      "",
      "der Toner ist getauscht.",
      "",
      "________________________________",
      "Von: Carla Customer <carla@example.com>",
      "Gesendet: Donnerstag, 26. November 2026 10:00",
      "An: Support <support@example.net>",
      "Betreff: Drucker kaputt",
      "",
      "Der Drucker ist kaputt.",
      "",
    ].join("\n"),
    kept: "Hallo Frau Customer,\n\nder Toner ist getauscht.",
  },
  {
    name: "Outlook, German, sender by name only (library misses it: cut at the block)",
    mail: [
      "Erledigt.",
      "",
      "Von: Carla Customer",
      "Gesendet: Donnerstag, 26. November 2026 10:00",
      "An: Support",
      "Cc: Dieter Demo",
      "Betreff: Drucker kaputt",
      "",
      "Der Drucker ist kaputt.",
      "",
    ].join("\n"),
    kept: "Erledigt.",
  },
  {
    name: 'Outlook, German, "Ursprüngliche Nachricht"',
    mail: [
      "Erledigt.",
      "",
      "-----Ursprüngliche Nachricht-----",
      "Von: Carla Customer [mailto:carla@example.com]",
      "Gesendet: Donnerstag, 26. November 2026 10:00",
      "An: Support",
      "Betreff: Drucker",
      "",
      "Der Drucker ist kaputt.",
    ].join("\n"),
    kept: "Erledigt.",
  },
  {
    name: 'Outlook, English, "Original Message"',
    mail: [
      "Done, thanks.",
      "",
      "-----Original Message-----",
      "From: Carla Customer [mailto:carla@example.com]",
      "Sent: Thursday, November 26, 2026 10:00 AM",
      "To: Support",
      "Subject: Printer broken",
      "",
      "The printer is broken.",
    ].join("\n"),
    kept: "Done, thanks.",
  },
  {
    name: "Outlook, English, sender by name only, no blank line above",
    mail: [
      "Done, thanks.",
      "From: Carla Customer",
      "Sent: Thursday, November 26, 2026 10:00 AM",
      "To: Support",
      "Subject: Printer broken",
      "",
      "The printer is broken.",
    ].join("\n"),
    kept: "Done, thanks.",
  },
  {
    name: 'Apple Mail, English, with "Sent from my iPhone"',
    mail: [
      "Works now.",
      "",
      "Sent from my iPhone",
      "",
      "> On 26. Nov 2026, at 10:00, Carla Customer <carla@example.com> wrote:",
      "> ",
      "> The printer is broken.",
      "",
    ].join("\n"),
    kept: "Works now.",
  },
  {
    name: 'Apple Mail, German, with "Von meinem iPhone gesendet"',
    mail: [
      "Geht wieder.",
      "",
      "Von meinem iPhone gesendet",
      "",
      "> Am 26.11.2026 um 10:00 schrieb Carla Customer <carla@example.com>:",
      "> ",
      "> Der Drucker ist kaputt.",
      "",
    ].join("\n"),
    kept: "Geht wieder.",
  },
  {
    name: 'signature after "-- "',
    mail: "Fixed the toner.\n\n-- \nBob\nSupport team\n",
    kept: "Fixed the toner.",
  },
  {
    name: "signature, then the quote",
    mail: "Fixed.\n\n-- \nBob\n\nOn Thu, Nov 26, 2026 at 10:00 AM Carla <carla@example.com> wrote:\n> hi\n",
    kept: "Fixed.",
  },
  {
    name: "bottom-posted answer: the quote above goes",
    mail: "Am 26.11.2026 um 10:00 schrieb Carla Customer:\n> Der Drucker ist kaputt.\n\nIst repariert.\n",
    kept: "Ist repariert.",
  },
  {
    name: "interleaved answers keep the questions between them",
    mail: [
      "Hi Carla,",
      "",
      "On Thu, Nov 26, 2026 at 10:00 AM Carla <carla@example.com> wrote:",
      "> Is it fixed?",
      "",
      "Yes.",
      "",
      "> When can I print?",
      "",
      "Now.",
      "",
      "> Thanks, Carla",
      "",
    ].join("\n"),
    kept: [
      "Hi Carla,",
      "",
      "On Thu, Nov 26, 2026 at 10:00 AM Carla <carla@example.com> wrote:",
      "> Is it fixed?",
      "",
      "Yes.",
      "",
      "> When can I print?",
      "",
      "Now.",
    ].join("\n"),
  },
  {
    name: "a mail that is only a quote keeps the quote",
    mail: "\nOn Thu, Nov 26, 2026 at 10:00 AM Carla <carla@example.com> wrote:\n> The printer is broken.\n",
    kept: "On Thu, Nov 26, 2026 at 10:00 AM Carla <carla@example.com> wrote:\n> The printer is broken.",
  },
  {
    name: "a forward with nothing written above keeps the forwarded mail",
    mail: "Von: Carla Customer\nGesendet: Donnerstag, 26. November 2026 10:00\nAn: Support\nBetreff: Drucker\n\nDer Drucker ist kaputt.\n",
    kept: "Von: Carla Customer\nGesendet: Donnerstag, 26. November 2026 10:00\nAn: Support\nBetreff: Drucker\n\nDer Drucker ist kaputt.",
  },
  {
    name: "a plain mail is kept exactly: indentation, blank lines (a closing with only a name below it goes, in German as in English)",
    mail: "Hallo,\n\n  Raum 2.14\n\tDrucker HP 4250\n\n\nMit freundlichen Grüßen\nCarla\n",
    kept: "Hallo,\n\n  Raum 2.14\n\tDrucker HP 4250",
  },
  {
    name: "a plain mail is kept exactly when a P.S. follows the closing",
    mail: "Hallo,\n\n  Raum 2.14\n\n\nMit freundlichen Grüßen\nCarla\n\nPS: Der Drucker steht im Flur.\n",
    kept: "Hallo,\n\n  Raum 2.14\n\n\nMit freundlichen Grüßen\nCarla\n\nPS: Der Drucker steht im Flur.",
  },
  {
    name: "a Markdown rule is not a signature: the text below it stays",
    mail: "Step one: restart.\n---\nStep two: print.\n\nOn Thu, Nov 26, 2026 at 10:00 AM Carla <carla@example.com> wrote:\n> hi\n",
    kept: "Step one: restart.\n---\nStep two: print.",
  },
  {
    name: "a single From: line in the text is not a header block",
    mail: "Forwarded by the front desk.\nFrom: Carla at reception\nThe printer is broken.\n",
    kept: "Forwarded by the front desk.\nFrom: Carla at reception\nThe printer is broken.",
  },
  {
    name: 'a sentence starting with "On" and ending in "wrote:" without a quote is text',
    mail: "On Monday the printer\nwrote:\nERROR 49\n",
    kept: "On Monday the printer\nwrote:\nERROR 49",
  },
  {
    name: "trailing blanks and Windows line ends",
    mail: "Thanks.   \r\nBob\t\r\n\r\nOn Thu, Nov 26, 2026 at 10:00 AM Carla <carla@example.com> wrote:\r\n> hi\r\n",
    kept: "Thanks.\nBob",
  },
  {
    name: "empty text",
    mail: "",
    kept: "",
  },
];

describe("mail/quoted-history: stripQuotedHistory", () => {
  for (const c of cases) {
    it(c.name, () => {
      expect(stripQuotedHistory(c.mail)).to.equal(c.kept);
    });
  }
});
