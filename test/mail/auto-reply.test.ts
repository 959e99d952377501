import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { detectAutoReply, type AutoReplyKind } from "../../src/mail/auto-reply.js";
import { parseMail } from "../../src/mail/parse.js";

/*
 * detectAutoReply: a table of small mails, one sign each (and the ordinary mails that carry none),
 * then the RFC 3834 auto-replies and the ordinary mails of the bounce corpus.
 */

const CORPUS = path.resolve(process.cwd(), "../shared/corpora/bounces");

interface Case {
  name: string;
  /** Header lines; From, To, Subject and Message-ID are added unless given. */
  headers: string[];
  envelopeFrom?: string | null;
  kind: AutoReplyKind;
  /** Text one of the reasons must contain. */
  reason: RegExp;
}

const cases: Case[] = [
  { name: "an ordinary mail from a person", headers: [], kind: "none", reason: /no sign of an automatic sender/ },
  {
    name: "a person's reply about an out-of-office plan",
    headers: ["Subject: Re: out of office next week?"],
    kind: "none",
    reason: /no sign/,
  },
  { name: "a person's subject starting with Absence", headers: ["Subject: Absence request for Monday"], kind: "none", reason: /no sign/ },
  { name: "Auto-Submitted: no", headers: ["Auto-Submitted: no"], kind: "none", reason: /no sign/ },
  { name: "X-Autoreply: no", headers: ["X-Autoreply: no"], kind: "none", reason: /no sign/ },
  {
    name: "X-Auto-Response-Suppress: DR (delivery reports only)",
    headers: ["X-Auto-Response-Suppress: DR"],
    kind: "none",
    reason: /no sign/,
  },
  { name: "a Return-Path with a real address", headers: ["Return-Path: <anna@customer.example.org>"], kind: "none", reason: /no sign/ },
  {
    name: "an envelope sender given by the source",
    headers: [],
    envelopeFrom: "anna@customer.example.org",
    kind: "none",
    reason: /no sign/,
  },

  {
    name: "Auto-Submitted: auto-replied (RFC 3834)",
    headers: ["Auto-Submitted: auto-replied"],
    kind: "auto-reply",
    reason: /Auto-Submitted: auto-replied/,
  },
  {
    name: "Auto-Submitted: auto-replied with a parameter (Zimbra)",
    headers: ["Auto-Submitted: auto-replied (zimbra; vacation)"],
    kind: "auto-reply",
    reason: /zimbra; vacation/,
  },
  {
    name: "Auto-Submitted: auto-generated is a generated mail",
    headers: ["Auto-Submitted: auto-generated"],
    kind: "bulk",
    reason: /auto-generated/,
  },
  { name: "Precedence: bulk", headers: ["Precedence: bulk"], kind: "bulk", reason: /Precedence: bulk/ },
  { name: "Precedence: junk", headers: ["Precedence: junk"], kind: "bulk", reason: /Precedence: junk/ },
  { name: "Precedence: list", headers: ["Precedence: list"], kind: "list", reason: /Precedence: list/ },
  { name: "Precedence: auto_reply", headers: ["Precedence: auto_reply"], kind: "auto-reply", reason: /Precedence: auto_reply/ },
  { name: "X-Autoreply: yes (Gmail's vacation responder)", headers: ["X-Autoreply: yes"], kind: "auto-reply", reason: /X-Autoreply: yes/ },
  { name: "X-Autorespond", headers: ["X-Autorespond: Your message has been received"], kind: "auto-reply", reason: /X-Autorespond/ },
  {
    name: "X-Auto-Response-Suppress: All",
    headers: ["X-Auto-Response-Suppress: All"],
    kind: "auto-reply",
    reason: /X-Auto-Response-Suppress: All/,
  },
  {
    name: "X-Auto-Response-Suppress: DR, OOF, AutoReply",
    headers: ["X-Auto-Response-Suppress: DR, OOF, AutoReply"],
    kind: "auto-reply",
    reason: /OOF/,
  },
  {
    name: "X-MS-Exchange-Inbox-Rules-Loop (Exchange)",
    headers: ["X-MS-Exchange-Inbox-Rules-Loop: anna@customer.example.org"],
    kind: "auto-reply",
    reason: /X-MS-Exchange-Inbox-Rules-Loop/,
  },
  {
    name: "X-MS-Exchange-Generated-Message-Source (Exchange)",
    headers: ["X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent"],
    kind: "auto-reply",
    reason: /Mailbox Rules Agent/,
  },
  { name: "X-Apple-Action: VACATION (iCloud)", headers: ["X-Apple-Action: VACATION"], kind: "auto-reply", reason: /VACATION/ },
  {
    name: "Exchange's English subject",
    headers: ["Subject: Automatic reply: [#T-42] Printer jammed"],
    kind: "auto-reply",
    reason: /out-of-office subject/,
  },
  {
    name: "Exchange's German subject",
    headers: ["Subject: Automatische Antwort: Drucker"],
    kind: "auto-reply",
    reason: /out-of-office subject/,
  },
  {
    name: "Exchange's French subject",
    headers: ["Subject: Réponse automatique : Imprimante"],
    kind: "auto-reply",
    reason: /out-of-office subject/,
  },
  {
    name: "an Out of Office subject",
    headers: ["Subject: Out of Office: [#T-42] Printer jammed"],
    kind: "auto-reply",
    reason: /out-of-office subject/,
  },
  {
    name: "an Abwesenheitsnotiz subject",
    headers: ["Subject: Abwesenheitsnotiz: Drucker"],
    kind: "auto-reply",
    reason: /out-of-office subject/,
  },
  {
    name: "a Lotus Notes Auto: subject",
    headers: ["Subject: Auto: [#T-42] Printer jammed"],
    kind: "auto-reply",
    reason: /out-of-office subject/,
  },
  {
    name: "a Lotus Notes is-out-of-the-office subject",
    headers: ["Subject: Anna Berg is out of the office."],
    kind: "auto-reply",
    reason: /out-of-office subject/,
  },
  { name: "an Auto Response subject (Yahoo)", headers: ["Subject: Auto Response"], kind: "auto-reply", reason: /out-of-office subject/ },
  { name: "List-Id", headers: ["List-Id: Printers <printers.lists.example.org>"], kind: "list", reason: /List-Id/ },
  {
    name: "List-Unsubscribe alone (a newsletter)",
    headers: ["List-Unsubscribe: <mailto:unsubscribe@news.example.com>"],
    kind: "bulk",
    reason: /List-Unsubscribe/,
  },
  {
    name: "Mailing-List (ezmlm)",
    headers: ["Mailing-List: contact printers-help@example.org; run by ezmlm"],
    kind: "list",
    reason: /Mailing-List/,
  },
  { name: "a no-reply sender", headers: ["From: Shop <no-reply@shop.example.com>"], kind: "bulk", reason: /no-reply address/ },
  {
    name: "a no-reply form relaying the person in Reply-To",
    headers: ["From: Shop <no-reply@shop.example.com>", "Reply-To: Paula <paula@player.example.org>"],
    kind: "none",
    reason: /no-reply address relaying paula@player\.example\.org \(Reply-To\)/,
  },
  {
    name: "a no-reply sender whose Reply-To is another no-reply",
    headers: ["From: Shop <no-reply@shop.example.com>", "Reply-To: donotreply@shop.example.com"],
    kind: "bulk",
    reason: /no-reply address/,
  },
  {
    name: "a no-reply form relaying a person, but with List-Unsubscribe",
    headers: [
      "From: Shop <no-reply@shop.example.com>",
      "Reply-To: paula@player.example.org",
      "List-Unsubscribe: <mailto:u@shop.example.com>",
    ],
    kind: "bulk",
    reason: /List-Unsubscribe/,
  },

  {
    name: "a Prometheus Alertmanager alert without any automatic header",
    headers: ["From: Alertmanager <alertmanager@monitor.example.org>", "Subject: [FIRING:1] DiskFull db01 (critical)"],
    kind: "bulk",
    reason: /monitoring system/,
  },
  {
    name: "a Nagios alert from a personal-looking address",
    headers: ["From: ops@example.org", "Subject: ** PROBLEM Service Alert: mail01/SMTP is CRITICAL **"],
    kind: "bulk",
    reason: /monitoring alert/,
  },
  {
    name: "an UptimeRobot DOWN subject",
    headers: ["From: alerts@monitoring.example.org", "Subject: Monitor is DOWN: Shop"],
    kind: "bulk",
    reason: /monitoring alert/,
  },
  {
    name: "a zabbix sender with a plus tag",
    headers: ["From: zabbix+prod@monitor.example.org", "Subject: Problem: High CPU on web01"],
    kind: "bulk",
    reason: /monitoring system/,
  },
  {
    name: "a person writing 'Problem: ...' about monitoring",
    headers: ["From: Nina <nina@customer.example.org>", "Subject: Problem: our monitor is down since Monday"],
    kind: "none",
    reason: /no sign/,
  },

  {
    name: "Return-Path: <> (the null sender) alone",
    headers: ["Return-Path: <>"],
    kind: "mailer-daemon",
    reason: /empty envelope sender \(Return-Path/,
  },
  {
    name: "the null sender given by the source",
    headers: [],
    envelopeFrom: "",
    kind: "mailer-daemon",
    reason: /empty envelope sender \(envelope/,
  },
  {
    name: "the envelope sender wins over Return-Path",
    headers: ["Return-Path: <>"],
    envelopeFrom: "anna@customer.example.org",
    kind: "none",
    reason: /no sign/,
  },
  {
    name: "the null sender with an out-of-office subject is an auto-reply",
    headers: ["Return-Path: <>", "Subject: Automatic reply: Printer"],
    kind: "auto-reply",
    reason: /empty envelope sender/,
  },
  {
    name: "a MAILER-DAEMON sender",
    headers: ["From: Mail Delivery System <MAILER-DAEMON@mx.example.org>"],
    kind: "mailer-daemon",
    reason: /mailer-daemon@mx\.example\.org is a mail system/,
  },
  { name: "a postmaster sender", headers: ["From: postmaster@customer.example.org"], kind: "mailer-daemon", reason: /mail system/ },
  {
    name: "MAILER-DAEMON without a domain",
    headers: ["From: Mail Delivery Subsystem <MAILER-DAEMON>"],
    kind: "mailer-daemon",
    reason: /mail system/,
  },
  {
    name: "a mail system that also says auto-replied is the mail system",
    headers: ["From: MAILER-DAEMON@mx.example.org", "Auto-Submitted: auto-replied"],
    kind: "mailer-daemon",
    reason: /Auto-Submitted/,
  },
  {
    name: "a delivery report (multipart/report)",
    headers: ['Content-Type: multipart/report; report-type=delivery-status; boundary="b"'],
    kind: "mailer-daemon",
    reason: /report-type=delivery-status/,
  },
  {
    name: "a read receipt (disposition-notification) is an auto-reply",
    headers: ['Content-Type: multipart/report; report-type=disposition-notification; boundary="b"'],
    kind: "auto-reply",
    reason: /disposition-notification/,
  },
];

async function inbound(headers: string[]) {
  const has = (name: string) => headers.some((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const multipart = headers.some((h) => /^content-type:\s*multipart/i.test(h));
  const lines = [
    ...(has("From") ? [] : ["From: Anna Berg <anna@customer.example.org>"]),
    ...(has("To") ? [] : ["To: support@help.example.net"]),
    ...(has("Subject") ? [] : ["Subject: Printer jammed"]),
    ...(has("Message-ID") ? [] : ["Message-ID: <c1@customer.example.org>"]),
    ...headers,
    "",
    ...(multipart ? ["--b", "Content-Type: text/plain", "", "Report.", "--b--"] : ["The printer on floor 2 is jammed again."]),
    "",
  ];
  return parseMail(Buffer.from(lines.join("\r\n"), "utf8"));
}

describe("mail/auto-reply detectAutoReply", () => {
  for (const c of cases) {
    it(`${c.name}: ${c.kind}`, async () => {
      const verdict = detectAutoReply(await inbound(c.headers), c.envelopeFrom);
      expect(verdict.kind, verdict.reasons.join("; ")).to.equal(c.kind);
      expect(verdict.automatic).to.equal(c.kind !== "none");
      expect(verdict.reasons.join("\n")).to.match(c.reason);
    });
  }

  describe("on the bounce corpus (../shared/corpora/bounces)", function () {
    before(function () {
      if (!existsSync(CORPUS)) {
        const message = `bounce corpus not found at ${CORPUS} (see ../shared/corpora/README.md)`;
        if (process.env.CI) throw new Error(`${message}: in CI its absence is a failure`);
        console.log(`      skipped: ${message}`);
        this.skip();
      }
    });

    it("finds every RFC 3834 auto-reply (rfc3834-*) automatic, as an auto-reply", async () => {
      const files = readdirSync(path.join(CORPUS, "eml")).filter((f) => /^rfc3834-.*\.eml$/.test(f));
      expect(files.length).to.be.greaterThan(0);
      const wrong: string[] = [];
      for (const file of files) {
        const verdict = detectAutoReply(await parseMail(readFileSync(path.join(CORPUS, "eml", file))));
        if (!verdict.automatic || verdict.kind !== "auto-reply") wrong.push(`${file}: ${verdict.kind} (${verdict.reasons.join("; ")})`);
      }
      expect(wrong).to.deep.equal([]);
    });

    // Read by hand: is-not-bounce-01 is a plain text mail sent through an HTTP mail API (curl), with
    // a Reply-To and nothing automatic in its headers; is-not-bounce-02 is an Apple Mail message with
    // another mail attached as message/rfc822. Both were written by people: neither is automatic.
    const NOT_BOUNCES: Record<string, AutoReplyKind> = { "is-not-bounce-01.eml": "none", "is-not-bounce-02.eml": "none" };

    it("reads the ordinary mails (not-bounces/) as written by people", async () => {
      const files = readdirSync(path.join(CORPUS, "not-bounces"))
        .filter((f) => f.endsWith(".eml"))
        .sort();
      expect(files).to.deep.equal(Object.keys(NOT_BOUNCES).sort());
      for (const file of files) {
        const verdict = detectAutoReply(await parseMail(readFileSync(path.join(CORPUS, "not-bounces", file))));
        console.log(`      not-bounces/${file}: ${verdict.kind} (${verdict.reasons.join("; ")})`);
        expect(verdict.kind, file).to.equal(NOT_BOUNCES[file]);
      }
    });

    it("finds the delivery reports automatic (all but the complaints without automatic headers and the forwarded bounce)", async () => {
      const files = readdirSync(path.join(CORPUS, "eml")).filter((f) => /^(lhost|rhost|rfc3464)-.*\.eml$/.test(f));
      const human: string[] = [];
      for (const file of files) {
        const verdict = detectAutoReply(await parseMail(readFileSync(path.join(CORPUS, "eml", file))));
        if (!verdict.automatic) human.push(file);
      }
      console.log(
        `      delivery reports automatic: ${files.length - human.length}/${files.length}${human.length > 0 ? `; not: ${human.join(", ")}` : ""}`,
      );
      // lhost-sendmail-14 is a person forwarding a bounce inline ("Fwd: Returned mail"): rightly not automatic.
      expect(human).to.deep.equal(["lhost-sendmail-14.eml"]);
    });
  });
});
