import { expect } from "chai";
import { detectBounce, type BounceReport } from "../../src/mail/bounce/index.js";
import { parseMail } from "../../src/mail/parse.js";

/*
 * detectBounce on the reports older and odder systems write, on mails written for the case: classic
 * Sendmail ("Returned mail: see transcript for details"), qmail, recipients named by their local
 * part only, DSNs whose Original-Recipient differs from Final-Recipient, CR-only line ends, and the
 * evidence each report rests on.
 */

const ctx = { messageIdDomain: "help.example.net", isOwn: (a: string) => a === "support@help.example.net" };

async function detect(lines: string[], eol = "\r\n"): Promise<BounceReport | null> {
  const raw = Buffer.from(lines.join(eol) + eol, "utf8");
  // parse is given CRLF, as the pipeline gives it after normalising; detectBounce gets the raw as stored.
  return detectBounce(raw, await parseMail(Buffer.from(lines.join("\r\n") + "\r\n", "utf8")), ctx);
}

const OUR_ACK = [
  "From: Help Desk <support@help.example.net>",
  "To: jdoe@acme.example",
  "Subject: [#T-7] We received your request",
  "Message-ID: <ticketpost.7.lx9.0a1b@help.example.net>",
];

describe("mail/bounce detectBounce: classic MTAs and odd reports", () => {
  it('Sendmail with only "No Message Collected" and a bare local part: a failure naming the local part', async () => {
    const report = await detect([
      "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.acme.example>",
      "To: support@help.example.net",
      "Subject: Returned mail: see transcript for details",
      "Message-Id: <s1@relay.acme.example>",
      "",
      "The original message was received at Tue, 3 Jun 2025 08:12:39 +0200",
      "from mx.help.example.net [192.0.2.10]",
      "",
      "   ----- The following addresses had permanent fatal errors -----",
      "<jdoe>",
      "    (reason: 550 5.1.1 <jdoe>... User unknown)",
      "",
      "   ----- Transcript of session follows -----",
      "... while talking to mailhost.acme.example.:",
      ">>> RCPT To:<jdoe>",
      "<<< 550 5.1.1 <jdoe>... User unknown",
      "",
      "   ----- No Message Collected -----",
    ]);
    expect(report?.kind).to.equal("failure");
    expect(report?.evidence).to.include("From Mail Delivery Subsystem <MAILER-DAEMON@relay.acme.example> is the mail system");
    expect(report?.recipients).to.have.length(1);
    expect(report?.recipients[0]).to.include({ address: "jdoe", localPartOnly: true, status: "5.1.1", permanent: true, hardBounce: true });
  });

  it('Sendmail\'s "not a valid user here" from a bare MAILER-DAEMON', async () => {
    const report = await detect([
      "From: MAILER-DAEMON (Mail Delivery Subsystem)",
      "To: support@help.example.net",
      "Subject: Returned mail: User unknown",
      "Message-Id: <s2@oldhost.example>",
      "",
      "   ----- Transcript of session follows -----",
      "550 carla... not a valid user here",
      "",
      "   ----- No Message Collected -----",
    ]);
    expect(report?.kind).to.equal("failure");
    expect(report?.evidence).to.have.length.greaterThan(0);
    expect(report?.recipients.map((r) => [r.address, r.localPartOnly, r.permanent])).to.deep.equal([["carla", true, true]]);
  });

  it("a bare local part is resolved when the returned message has exactly one such recipient", async () => {
    const report = await detect([
      "Return-Path: <>",
      "From: MAILER-DAEMON@relay.acme.example",
      "To: support@help.example.net",
      "Subject: Returned mail: see transcript for details",
      "Message-Id: <s3@relay.acme.example>",
      "",
      "   ----- Transcript of session follows -----",
      "550 5.1.1 jdoe... User unknown",
      "",
      "   ----- Unsent message follows -----",
      ...OUR_ACK,
      "",
      "We received your request.",
    ]);
    expect(report?.recipients.map((r) => [r.address, r.localPartOnly])).to.deep.equal([["jdoe@acme.example", false]]);
    expect(report?.originalMessageId).to.equal("ticketpost.7.lx9.0a1b@help.example.net");
    expect(report?.evidence.join("\n"))
      .to.match(/null envelope sender/)
      .and.match(/quotes our Message-ID <ticketpost\.7\.lx9\.0a1b@help\.example\.net>/);
  });

  it('Sendmail\'s "Host unknown"', async () => {
    const report = await detect([
      "From: Mail Delivery Subsystem <MAILER-DAEMON@oldhost.example>",
      "To: support@help.example.net",
      "Subject: Returned mail: Host unknown (Name server: acme.invalid: host not found)",
      "Message-Id: <s4@oldhost.example>",
      "",
      "   ----- Transcript of session follows -----",
      "550 5.1.2 jdoe@acme.invalid... Host unknown (Name server: acme.invalid: host not found)",
    ]);
    expect(report?.recipients[0]).to.include({ address: "jdoe@acme.invalid", status: "5.1.2", hardBounce: true });
  });

  it("qmail's failure notice, typographic apostrophes and all", async () => {
    const report = await detect([
      "Return-Path: <>",
      "From: MAILER-DAEMON@mail.acme.example",
      "To: support@help.example.net",
      "Subject: failure notice",
      "Message-ID: <q1@mail.acme.example>",
      "",
      "Hi. This is the qmail-send program at mail.acme.example.",
      "I\u2019m afraid I wasn\u2019t able to deliver your message to the following addresses.",
      "",
      "<lena@acme.example>:",
      "Sorry, I couldn't find any host by that name.",
    ]);
    expect(report?.kind).to.equal("failure");
    expect(report?.reasons.join(" ")).to.match(/wasn't able to deliver/);
    expect(report?.recipients.map((r) => r.address)).to.deep.equal(["lena@acme.example"]);
  });

  it("a DSN's Original-Recipient (the address we wrote to) wins over Final-Recipient", async () => {
    const report = await detect([
      "Return-Path: <>",
      "From: MAILER-DAEMON@mx.acme.example",
      "To: support@help.example.net",
      "Subject: Undelivered Mail Returned to Sender",
      "Message-ID: <d1@mx.acme.example>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
      "",
      "--B",
      "Content-Type: text/plain",
      "",
      "<j.doe@mailhost.acme.example> (expanded from <jdoe@acme.example>): user unknown",
      "--B",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.acme.example",
      "",
      "Final-Recipient: rfc822; j.doe@mailhost.acme.example",
      "Original-Recipient: rfc822;jdoe@acme.example",
      "Action: failed",
      "Status: 5.1.1",
      "--B--",
    ]);
    expect(report?.recipients.map((r) => [r.address, r.status])).to.deep.equal([["jdoe@acme.example", "5.1.1"]]);
    expect(report?.evidence).to.include("a message/delivery-status part");
  });

  it("Final-Recipient stands when Original-Recipient names no address", async () => {
    const report = await detect([
      "Return-Path: <>",
      "From: MAILER-DAEMON@mx.acme.example",
      "To: support@help.example.net",
      "Subject: Undelivered Mail Returned to Sender",
      "Message-ID: <d2@mx.acme.example>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
      "",
      "--B",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.acme.example",
      "",
      "Final-Recipient: rfc822; jdoe@acme.example",
      "Original-Recipient: rfc822;<>",
      "Action: failed",
      "Status: 5.2.2",
      "--B--",
    ]);
    expect(report?.recipients.map((r) => r.address)).to.deep.equal(["jdoe@acme.example"]);
  });

  it("reads a DSN stored with CR-only line ends (classic Mac mail servers)", async () => {
    const report = await detect(
      [
        "Return-Path: <>",
        "From: MAILER-DAEMON@mx.acme.example",
        "To: support@help.example.net",
        "Subject: Undelivered Mail Returned to Sender",
        "Message-ID: <d3@mx.acme.example>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
        "",
        "--B",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; mx.acme.example",
        "",
        "Final-Recipient: rfc822; jdoe@acme.example",
        "Action: failed",
        "Status: 5.1.1",
        "--B",
        "Content-Type: text/rfc822-headers",
        "",
        ...OUR_ACK,
        "--B--",
      ],
      "\r",
    );
    expect(report?.kind).to.equal("failure");
    expect(report?.recipients.map((r) => [r.address, r.status])).to.deep.equal([["jdoe@acme.example", "5.1.1"]]);
    expect(report?.originalMessageId).to.equal("ticketpost.7.lx9.0a1b@help.example.net");
    expect(report?.evidence).to.include("the returned message (text/rfc822-headers part)");
  });

  it("finds a returned message that mailparser shows inline (message/rfc822 without attachment disposition)", async () => {
    const report = await detect([
      "From: staff@hotmail.com",
      "To: abuse@help.example.net",
      "Subject: complaint about message from 192.0.2.7",
      "Message-ID: <j1@hotmail.com>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="J"',
      "",
      "--J",
      "Content-Type: message/rfc822",
      "Content-Disposition: inline",
      "",
      "X-HmXmrOriginalRecipient: anna@hotmail.com",
      ...OUR_ACK,
      "",
      "We received your request.",
      "--J--",
    ]);
    expect(report?.kind).to.equal("abuse");
    expect(report?.recipients.map((r) => r.address)).to.deep.equal(["anna@hotmail.com"]);
    expect(report?.evidence).to.include("the returned message (message/rfc822 part)");
    expect(report?.originalMessageId).to.equal("ticketpost.7.lx9.0a1b@help.example.net");
  });

  it("an automatic mail that only reads like a bounce is returned without evidence", async () => {
    const report = await detect([
      "From: Backup <backup@nas.acme.example>",
      "To: support@help.example.net",
      "Subject: Backup job failed",
      "Auto-Submitted: auto-generated",
      "X-Failed-Recipients: backup-target@acme.example",
      "Message-ID: <nas1@nas.acme.example>",
      "",
      "The upload was rejected: 550 quota exceeded. Giving up.",
    ]);
    expect(report).to.not.equal(null);
    expect(report?.evidence).to.deep.equal([]);
  });
});
