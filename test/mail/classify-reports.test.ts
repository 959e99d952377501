import { expect } from "chai";
import { detectBounce, type BounceContext } from "../../src/mail/bounce/index.js";
import { classifyMail, type ClassifyContext, type MailKind } from "../../src/mail/classify.js";
import { parseMail } from "../../src/mail/parse.js";

/*
 * detectBounce and classifyMail together, as the pipeline runs them, on small mails written for
 * each kind: what ends as a report (only with mail-system evidence), what stays a request although
 * it reads like a bounce (forms, monitoring alerts), and who is named as the failed recipient.
 */

const OWN = new Set(["support@help.example.net", "it@help.example.net"]);
const isOwn = (address: string) => OWN.has(address) || /^(support|it)\+[^@]+@help\.example\.net$/.test(address);
const ctx: ClassifyContext & BounceContext = { messageIdDomain: "help.example.net", isOwn };

async function read(lines: string[], body: string[]) {
  const raw = Buffer.from([...lines, "", ...body, ""].join("\r\n"), "utf8");
  const msg = await parseMail(raw);
  const bounce = await detectBounce(raw, msg, ctx);
  return { bounce, verdict: classifyMail(msg, ctx, { bounce }) };
}

interface Case {
  name: string;
  headers: string[];
  body: string[];
  kind: MailKind;
  automatic: boolean;
  /** A reason the trail must give. */
  reason: RegExp;
}

const NO_EVIDENCE = /reads like a bounce, but no mail-system evidence: kept as a request/;

const requests: Case[] = [
  {
    name: 'a shop\'s contact form from no-reply@ with the customer in Reply-To, saying "not delivered"',
    headers: [
      "From: Shop Contact <no-reply@shop.example.com>",
      "Reply-To: Paula <paula@player.example.org>",
      "To: support@help.example.net",
      "Subject: Contact form: parcel not delivered",
      "Message-ID: <f1@shop.example.com>",
    ],
    body: ["Name: Paula", "Message: my parcel was not delivered and the tracking says the address was rejected."],
    kind: "request",
    automatic: false,
    reason: /no-reply address relaying paula@player\.example\.org/,
  },
  {
    name: "a web form sending as our support address with the visitor in Reply-To",
    headers: [
      "From: Help Desk <support@help.example.net>",
      "Reply-To: visitor@customer.example.org",
      "To: support@help.example.net",
      "Subject: Web form: login expired",
      "Message-ID: <w1@www.help.example.net>",
    ],
    body: ["My session expired and the login was rejected with error 550."],
    kind: "request",
    automatic: false,
    reason: /one of our addresses, but the mail carries none of our marks: not our own mail; the request of visitor@customer\.example\.org/,
  },
  {
    name: "a Zabbix alert marked Auto-Submitted about an expired certificate",
    headers: [
      "From: Zabbix <zabbix@monitor.example.org>",
      "To: it@help.example.net",
      "Subject: Problem: SSL certificate on www expired",
      "Auto-Submitted: auto-generated",
      "Message-ID: <z1@monitor.example.org>",
    ],
    body: [
      "Problem started at 03:12 on 2025.06.02",
      "Problem name: SSL certificate expired",
      "Host: www.example.org",
      "Severity: High",
      "Connections to port 443 rejected.",
    ],
    kind: "request",
    automatic: true,
    reason: NO_EVIDENCE,
  },
  {
    name: "a Nagios service alert whose text carries a port number like an SMTP code",
    headers: [
      "From: nagios@monitor.example.org",
      "To: it@help.example.net",
      "Subject: ** PROBLEM Service Alert: mail01/SMTP is CRITICAL **",
      "Auto-Submitted: auto-generated",
      "Message-ID: <n1@monitor.example.org>",
    ],
    body: [
      "***** Nagios *****",
      "",
      "Notification Type: PROBLEM",
      "Service: SMTP",
      "Host: mail01",
      "State: CRITICAL",
      "",
      "Info:",
      "CRITICAL - connection to port 550 refused, mail could not be delivered",
    ],
    kind: "request",
    automatic: true,
    reason: NO_EVIDENCE,
  },
  {
    name: "a Prometheus Alertmanager notification from no-reply@ (no Reply-To)",
    headers: [
      "From: Alertmanager <no-reply@alerts.example.org>",
      "To: it@help.example.net",
      "Subject: [FIRING:1] BackupJobFailed (backup01 critical)",
      "Message-ID: <a1@alerts.example.org>",
    ],
    body: [
      "Labels:",
      " - alertname = BackupJobFailed",
      "Annotations:",
      " - summary = Backup upload rejected: quota exceeded, job failed permanently",
    ],
    kind: "request",
    automatic: true,
    reason: NO_EVIDENCE,
  },
  {
    name: "a cron job's output mail that mentions a rejected delivery",
    headers: [
      "From: Cron Daemon <root@batch.example.org>",
      "To: it@help.example.net",
      "Subject: Cron <root@batch> /usr/local/bin/sync-mailing-list",
      "Auto-Submitted: auto-generated",
      "Message-ID: <c1@batch.example.org>",
    ],
    body: ["sync: 3 addresses rejected by the list server (550 5.1.1 user unknown)"],
    kind: "request",
    automatic: true,
    reason: NO_EVIDENCE,
  },
  {
    name: 'a challenge/response filter writing from the null sender that our mail "will not be delivered"',
    headers: [
      "Return-Path: <>",
      "From: Sam Doe <sam@customer.example.org>",
      "To: support@help.example.net",
      "Subject: Re: [#T-9] We received your request",
      "Message-ID: <cr1@customer.example.org>",
    ],
    body: [
      "Your message has not been delivered yet.",
      "Before your message can be delivered, please confirm you are human: https://verify.customer.example.org/x1",
    ],
    kind: "request",
    automatic: true,
    reason: /challenge/,
  },
  {
    name: "a person forwarding a bounce they got is asking for help",
    headers: [
      "From: Anna <anna@customer.example.org>",
      "To: support@help.example.net",
      "Subject: Fwd: Undelivered Mail Returned to Sender",
      "Message-ID: <p1@customer.example.org>",
    ],
    body: [
      "Why can't I write to my colleague?",
      "",
      "-------- Forwarded Message --------",
      "From: MAILER-DAEMON@mx.customer.example.org",
      "",
      "<ben@other.example.com>: host mx.other.example.com said: 550 5.1.1 User unknown",
    ],
    kind: "request",
    automatic: false,
    reason: /no sign of an automatic sender/,
  },
];

const reports: Case[] = [
  {
    name: "a Postfix text bounce from MAILER-DAEMON with the null sender",
    headers: [
      "Return-Path: <>",
      "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example.org>",
      "To: support@help.example.net",
      "Subject: Undelivered Mail Returned to Sender",
      "Message-ID: <b1@mx.customer.example.org>",
    ],
    body: [
      "This is the mail system at host mx.customer.example.org.",
      "",
      "I'm sorry to have to inform you that your message could not",
      "be delivered to one or more recipients.",
      "",
      "<ben@customer.example.org>: host mx said: 550 5.1.1 <ben@customer.example.org>: Recipient address rejected: User unknown",
    ],
    kind: "bounce",
    automatic: true,
    reason: /evidence: null envelope sender \(Return-Path: <>\)/,
  },
  {
    name: "an automatic notice from a gateway that quotes one of our Message-IDs",
    headers: [
      "From: Mail Gateway <notifications@gateway.example.com>",
      "To: support@help.example.net",
      "Subject: Message not delivered",
      "Auto-Submitted: auto-generated",
      "Message-ID: <g1@gateway.example.com>",
    ],
    body: [
      "Your message could not be delivered to ben@customer.example.org: mailbox unavailable.",
      "",
      "Original Message-ID: <ticketpost.12.lx1.9f3a@help.example.net>",
    ],
    kind: "bounce",
    automatic: true,
    reason: /evidence: quotes our Message-ID <ticketpost\.12\.lx1\.9f3a@help\.example\.net>/,
  },
  {
    name: "a success DSN is a report, not a bounce",
    headers: [
      "Return-Path: <>",
      "From: MAILER-DAEMON@mx.help.example.net",
      "To: support@help.example.net",
      "Subject: Successful Mail Delivery Report",
      "Message-ID: <d1@mx.help.example.net>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="D"',
    ],
    body: [
      "--D",
      "Content-Type: text/plain",
      "",
      "Your message was delivered.",
      "--D",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.help.example.net",
      "",
      "Final-Recipient: rfc822; anna@customer.example.org",
      "Action: delivered",
      "Status: 2.0.0",
      "--D--",
    ],
    kind: "report",
    automatic: true,
    reason: /evidence: a message\/delivery-status part/,
  },
];

describe("mail/classify with detectBounce: reports need mail-system evidence", () => {
  for (const c of [...requests, ...reports]) {
    it(`${c.name}: ${c.kind}${c.automatic ? ", automatic" : ""}`, async () => {
      const { verdict } = await read(c.headers, c.body);
      expect(verdict.kind, JSON.stringify(verdict.reasons)).to.equal(c.kind);
      expect(verdict.automatic, "automatic").to.equal(c.automatic);
      expect(
        verdict.reasons.some((r) => c.reason.test(r)),
        `a reason matching ${c.reason} in ${JSON.stringify(verdict.reasons)}`,
      ).to.equal(true);
    });
  }

  it("a mail that only reads like a bounce carries no evidence, so nobody in it can be flagged", async () => {
    const alert = requests[2];
    const { bounce } = await read(alert.headers, alert.body);
    expect(bounce, "the wording is still read, for the trail").to.not.equal(null);
    expect(bounce?.evidence).to.deep.equal([]);
  });

  it("never names one of our own addresses as the failed recipient", async () => {
    const { bounce, verdict } = await read(
      [
        "Return-Path: <>",
        "From: MAILER-DAEMON@relay.example.org",
        "To: support@help.example.net",
        "Subject: Returned mail: see transcript for details",
        "Message-ID: <r1@relay.example.org>",
      ],
      [
        "   ----- The following addresses had permanent fatal errors -----",
        "<support+billing@help.example.net>",
        "    (reason: 550 5.1.1 User unknown)",
        "",
        "   ----- Transcript of session follows -----",
        "550 5.1.1 <support+billing@help.example.net>... User unknown",
      ],
    );
    expect(verdict.kind).to.equal("bounce");
    expect(bounce?.recipients.map((r) => r.address)).to.deep.equal([]);
  });

  it("a DSN whose only recipient is ours names nobody", async () => {
    const { bounce } = await read(
      [
        "Return-Path: <>",
        "From: MAILER-DAEMON@mx.help.example.net",
        "To: it@help.example.net",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <d2@mx.help.example.net>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="D"',
      ],
      [
        "--D",
        "Content-Type: text/plain",
        "",
        "Delivery failed.",
        "--D",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.help.example.net",
        "",
        "Final-Recipient: rfc822; it@help.example.net",
        "Action: failed",
        "Status: 5.1.1",
        "--D--",
      ],
    );
    expect(bounce?.kind).to.equal("failure");
    expect(bounce?.recipients).to.deep.equal([]);
  });
});
