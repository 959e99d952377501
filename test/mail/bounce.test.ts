import { expect } from "chai";
import { detectBounce, type BounceReport } from "../../src/mail/bounce/index.js";
import { parseMail } from "../../src/mail/parse.js";

/*
 * detectBounce on small mails written for the case: the standard forms (RFC 3464 DSN, RFC 5965
 * ARF), the common text-only bounces, and the ordinary mails that must not be taken for bounces.
 * The corpus of real bounces is bounce-corpus.test.ts.
 */

async function detect(raw: string): Promise<BounceReport | null> {
  const bytes = Buffer.from(raw.replace(/\r?\n/g, "\r\n"), "utf8");
  return detectBounce(bytes, await parseMail(bytes));
}

const ORIGINAL = [
  "Return-Path: <support@help.example.net>",
  "From: Support <support@help.example.net>",
  "To: anna@customer.example.org",
  "Subject: [#T-42] Printer jammed",
  "Message-ID: <ticketpost.42.3@help.example.net>",
  "Date: Mon, 2 Jun 2025 10:00:00 +0000",
  "",
  "We have received your request.",
].join("\n");

function dsn(opts: { recipients: string[]; human?: string; subject?: string; headersOnly?: boolean }): string {
  return [
    "Return-Path: <>",
    "From: Mail Delivery System <MAILER-DAEMON@mx.help.example.net>",
    "To: support@help.example.net",
    `Subject: ${opts.subject ?? "Undelivered Mail Returned to Sender"}`,
    "Message-ID: <20250602100001.ABC@mx.help.example.net>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"',
    "",
    "--B1",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    opts.human ?? "Your message could not be delivered to one or more recipients.",
    "",
    "--B1",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.help.example.net",
    "Arrival-Date: Mon, 2 Jun 2025 10:00:00 +0000",
    "",
    opts.recipients.join("\n\n"),
    "",
    "--B1",
    `Content-Type: ${opts.headersOnly ? "text/rfc822-headers" : "message/rfc822"}`,
    "",
    opts.headersOnly ? ORIGINAL.split("\n\n")[0] : ORIGINAL,
    "",
    "--B1--",
    "",
  ].join("\n");
}

function textBounce(headers: string[], body: string): string {
  return [...headers, "Message-ID: <bounce.1@mx.example.org>", "Content-Type: text/plain; charset=utf-8", "", body, ""].join("\n");
}

describe("mail/bounce detectBounce", () => {
  describe("RFC 3464 delivery status notifications", () => {
    it("reads a failed recipient: address, status, reply code, diagnostic, permanent, hard, the original Message-ID", async () => {
      const report = await detect(
        dsn({
          recipients: [
            [
              "Final-Recipient: rfc822; anna@customer.example.org",
              "Action: failed",
              "Status: 5.1.1",
              "Diagnostic-Code: smtp; 550 5.1.1 <anna@customer.example.org>: Recipient address rejected:",
              "    User unknown in virtual mailbox table",
            ].join("\n"),
          ],
        }),
      );
      expect(report).to.not.equal(null);
      expect(report?.kind).to.equal("failure");
      expect(report?.format).to.equal("dsn");
      expect(report?.originalMessageId).to.equal("ticketpost.42.3@help.example.net");
      expect(report?.recipients).to.deep.equal([
        {
          address: "anna@customer.example.org",
          localPartOnly: false,
          status: "5.1.1",
          replyCode: "550",
          reason: "550 5.1.1 <anna@customer.example.org>: Recipient address rejected: User unknown in virtual mailbox table",
          permanent: true,
          hardBounce: true,
        },
      ]);
      expect(report?.reasons.join(" ")).to.match(/delivery-status/);
    });

    it("takes the original Message-ID from a text/rfc822-headers part", async () => {
      const report = await detect(
        dsn({
          headersOnly: true,
          recipients: [
            "Final-Recipient: rfc822; anna@customer.example.org\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full",
          ],
        }),
      );
      expect(report?.originalMessageId).to.equal("ticketpost.42.3@help.example.net");
    });

    it("a full mailbox fails this message for good but does not make the address bad", async () => {
      const report = await detect(
        dsn({
          recipients: [
            "Final-Recipient: rfc822; anna@customer.example.org\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full",
          ],
        }),
      );
      expect(report?.recipients[0]).to.include({ status: "5.2.2", replyCode: "552", permanent: true, hardBounce: false });
    });

    it("a spam rejection is permanent for the message, not a bad address", async () => {
      const report = await detect(
        dsn({
          recipients: [
            "Final-Recipient: rfc822; anna@customer.example.org\nAction: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; 554 5.7.1 Message rejected as spam",
          ],
        }),
      );
      expect(report?.recipients[0]).to.include({ status: "5.7.1", permanent: true, hardBounce: false });
    });

    it("prefers the specific status in the diagnostic over a class-only Status field", async () => {
      const report = await detect(
        dsn({
          recipients: [
            "Final-Recipient: rfc822; anna@customer.example.org\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 5.1.1 No such user",
          ],
        }),
      );
      expect(report?.recipients[0]).to.include({ status: "5.1.1", hardBounce: true });
    });

    it("reports a delay as delayed and temporary", async () => {
      const report = await detect(
        dsn({
          subject: "Delayed Mail (still being retried)",
          recipients: [
            "Final-Recipient: rfc822; anna@customer.example.org\nAction: delayed\nStatus: 4.4.1\nDiagnostic-Code: X-Postfix; connect to mx.customer.example.org[192.0.2.1]:25: Connection timed out",
          ],
        }),
      );
      expect(report?.kind).to.equal("delayed");
      expect(report?.recipients[0]).to.include({ status: "4.4.1", permanent: false, hardBounce: false });
    });

    it("reports a success notice as delivered", async () => {
      const report = await detect(
        dsn({
          subject: "Successful Mail Delivery Report",
          recipients: [
            "Final-Recipient: rfc822; anna@customer.example.org\nAction: delivered\nStatus: 2.0.0\nDiagnostic-Code: smtp; 250 2.0.0 Ok: queued",
          ],
        }),
      );
      expect(report?.kind).to.equal("delivered");
      expect(report?.recipients[0]).to.include({ address: "anna@customer.example.org", status: "2.0.0" });
    });

    it("lists every recipient that did not get the message, in the report's order, and leaves out the delivered ones", async () => {
      const report = await detect(
        dsn({
          recipients: [
            "Final-Recipient: rfc822; ben@customer.example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown",
            "Final-Recipient: rfc822; carl@customer.example.org\nAction: delivered\nStatus: 2.0.0",
            "Final-Recipient: rfc822; dora@other.example.com\nAction: delayed\nStatus: 4.2.2\nDiagnostic-Code: smtp; 452 4.2.2 Over quota",
          ],
        }),
      );
      expect(report?.kind).to.equal("failure");
      expect(report?.recipients.map((r) => [r.address, r.status, r.permanent])).to.deep.equal([
        ["ben@customer.example.org", "5.1.1", true],
        ["dora@other.example.com", "4.2.2", false],
      ]);
    });

    it("does not call the address bad when the server refused the sender (MAIL FROM)", async () => {
      const report = await detect(
        dsn({
          human:
            "<anna@customer.example.org>: host mx.customer.example.org[192.0.2.1] said: 550 5.1.8\n    <support@help.example.net>: Sender address rejected: Domain not found (in reply to MAIL FROM command)",
          recipients: [
            "Final-Recipient: rfc822; anna@customer.example.org\nAction: failed\nStatus: 5.1.8\nDiagnostic-Code: smtp; 550 5.1.8 <support@help.example.net>: Sender address rejected: Domain not found",
          ],
        }),
      );
      expect(report?.recipients[0]).to.include({ status: "5.1.8", permanent: true, hardBounce: false });
    });
  });

  describe("ARF abuse reports (RFC 5965)", () => {
    it("reads a feedback report as abuse, naming the complaining recipient", async () => {
      const raw = [
        "From: Feedback Loop <fbl@isp.example.com>",
        "To: abuse@help.example.net",
        "Subject: FW: [#T-42] Printer jammed",
        "Message-ID: <fbl.1@isp.example.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F1"',
        "",
        "--F1",
        "Content-Type: text/plain",
        "",
        "This is an email abuse report.",
        "",
        "--F1",
        "Content-Type: message/feedback-report",
        "",
        "Feedback-Type: abuse",
        "User-Agent: SomeGenerator/1.0",
        "Version: 1",
        "Original-Mail-From: <support@help.example.net>",
        "Original-Rcpt-To: <anna@customer.example.org>",
        "",
        "--F1",
        "Content-Type: message/rfc822",
        "",
        ORIGINAL,
        "",
        "--F1--",
        "",
      ].join("\n");
      const report = await detect(raw);
      expect(report?.kind).to.equal("abuse");
      expect(report?.format).to.equal("arf");
      expect(report?.recipients.map((r) => r.address)).to.deep.equal(["anna@customer.example.org"]);
      expect(report?.recipients[0].reason).to.equal("abuse");
      expect(report?.originalMessageId).to.equal("ticketpost.42.3@help.example.net");
    });
  });

  describe("bounces in text only", () => {
    it("reads a qmail failure notice, with qmail's own (#5.1.1)", async () => {
      const report = await detect(
        textBounce(
          ["Return-Path: <>", "From: MAILER-DAEMON@mx.customer.example.org", "To: support@help.example.net", "Subject: failure notice"],
          [
            "Hi. This is the qmail-send program at mx.customer.example.org.",
            "I'm afraid I wasn't able to deliver your message to the following addresses.",
            "This is a permanent error; I've given up. Sorry it didn't work out.",
            "",
            "<anna@customer.example.org>:",
            "Sorry, no mailbox here by that name. (#5.1.1)",
            "",
            "--- Below this line is a copy of the message.",
            "",
            ORIGINAL,
          ].join("\n"),
        ),
      );
      expect(report?.kind).to.equal("failure");
      expect(report?.format).to.equal("heuristic");
      expect(report?.originalMessageId).to.equal("ticketpost.42.3@help.example.net");
      expect(report?.recipients).to.have.length(1);
      expect(report?.recipients[0]).to.include({
        address: "anna@customer.example.org",
        status: "5.1.1",
        permanent: true,
        hardBounce: true,
      });
      expect(report?.recipients[0].reason).to.match(/no mailbox here/);
    });

    it("reads an Exim bounce with X-Failed-Recipients", async () => {
      const report = await detect(
        textBounce(
          [
            "Return-Path: <>",
            "From: Mail Delivery System <Mailer-Daemon@mx.help.example.net>",
            "To: support@help.example.net",
            "Subject: Mail delivery failed: returning message to sender",
            "X-Failed-Recipients: anna@customer.example.org",
            "Auto-Submitted: auto-replied",
          ],
          [
            "This message was created automatically by mail delivery software.",
            "",
            "A message that you sent could not be delivered to one or more of its",
            "recipients. This is a permanent error. The following address(es) failed:",
            "",
            "  anna@customer.example.org",
            "    host mx.customer.example.org [192.0.2.1]",
            "    SMTP error from remote mail server after RCPT TO:<anna@customer.example.org>:",
            "    550 5.1.1 <anna@customer.example.org>: Recipient address rejected: User unknown",
            "",
            "------ This is a copy of the message, including all the headers. ------",
            "",
            ORIGINAL,
          ].join("\n"),
        ),
      );
      expect(report?.kind).to.equal("failure");
      expect(report?.recipients[0]).to.include({
        address: "anna@customer.example.org",
        status: "5.1.1",
        replyCode: "550",
        hardBounce: true,
      });
      expect(report?.reasons.join(" ")).to.match(/X-Failed-Recipients/);
    });

    it("reads an Exchange non-delivery report", async () => {
      const report = await detect(
        textBounce(
          [
            "From: Microsoft Outlook <postmaster@customer.example.org>",
            "To: support@help.example.net",
            "Subject: Undeliverable: [#T-42] Printer jammed",
          ],
          [
            "Delivery has failed to these recipients or groups:",
            "",
            "anna@customer.example.org",
            "The email address you entered couldn't be found.",
            "",
            "Diagnostic information for administrators:",
            "",
            "Generating server: mail.customer.example.org",
            "",
            "anna@customer.example.org",
            "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##",
          ].join("\n"),
        ),
      );
      expect(report?.kind).to.equal("failure");
      expect(report?.recipients[0]).to.include({
        address: "anna@customer.example.org",
        status: "5.1.1",
        replyCode: "550",
        hardBounce: true,
      });
    });

    it("reads a Gmail delay notice as delayed", async () => {
      const report = await detect(
        textBounce(
          [
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            "To: support@help.example.net",
            "Subject: Delivery Status Notification (Delay)",
          ],
          [
            "This is an automatically generated Delivery Status Notification",
            "",
            "THIS IS A WARNING MESSAGE ONLY.",
            "",
            "YOU DO NOT NEED TO RESEND YOUR MESSAGE.",
            "",
            "Delivery to the following recipient has been delayed:",
            "",
            "     anna@customer.example.org",
            "",
            "Message will be retried for 2 more day(s)",
            "",
            "Technical details of temporary failure:",
            "The recipient server did not accept our requests to connect.",
          ].join("\n"),
        ),
      );
      expect(report?.kind).to.equal("delayed");
      expect(report?.recipients[0]).to.include({ address: "anna@customer.example.org", permanent: false, hardBounce: false });
    });

    it("reads an Amazon SES bounce notification (JSON)", async () => {
      const json = JSON.stringify({
        notificationType: "Bounce",
        bounce: {
          bounceType: "Permanent",
          bouncedRecipients: [
            {
              emailAddress: "anna@customer.example.org",
              action: "failed",
              status: "5.1.1",
              diagnosticCode: "smtp; 550 5.1.1 user unknown",
            },
          ],
        },
        mail: { headers: [{ name: "Message-ID", value: "<ticketpost.42.3@help.example.net>" }] },
      });
      const report = await detect(
        textBounce(["From: no-reply@sns.amazonaws.com", "To: support@help.example.net", "Subject: AWS Notification Message"], json),
      );
      expect(report?.kind).to.equal("failure");
      expect(report?.originalMessageId).to.equal("ticketpost.42.3@help.example.net");
      expect(report?.recipients[0]).to.include({
        address: "anna@customer.example.org",
        status: "5.1.1",
        replyCode: "550",
        hardBounce: true,
      });
    });
  });

  describe("ordinary mail is no bounce", () => {
    it("a person's mail that quotes an SMTP error", async () => {
      const report = await detect(
        textBounce(
          ["From: Anna Berg <anna@customer.example.org>", "To: support@help.example.net", "Subject: Mail delivery failed"],
          "Hello,\n\nsince yesterday my mails to ben@other.example.com could not be delivered: 550 5.1.1 User unknown.\nCan you help?\n\nAnna",
        ),
      );
      expect(report).to.equal(null);
    });

    it("a person forwarding a bounce to the helpdesk", async () => {
      const report = await detect(
        textBounce(
          [
            "From: Anna Berg <anna@customer.example.org>",
            "To: support@help.example.net",
            "Subject: Fwd: Undelivered Mail Returned to Sender",
          ],
          [
            "Why does this happen?",
            "",
            "---------- Forwarded message ---------",
            "From: MAILER-DAEMON@mx.customer.example.org",
            "Subject: Undelivered Mail Returned to Sender",
            "",
            "<ben@other.example.com>: host mx.other.example.com said: 550 5.1.1 User unknown",
          ].join("\n"),
        ),
      );
      expect(report).to.equal(null);
    });

    it("a shared mailbox called mail@ writing about failed deliveries", async () => {
      const report = await detect(
        textBounce(
          ["From: mail@customer.example.org", "To: support@help.example.net", "Subject: Our newsletter"],
          "Our newsletter could not be delivered to 30 subscribers; the server said 550 user unknown.",
        ),
      );
      expect(report).to.equal(null);
    });

    it("an out-of-office reply from the null sender", async () => {
      const report = await detect(
        textBounce(
          [
            "Return-Path: <>",
            "From: Anna Berg <anna@customer.example.org>",
            "To: support@help.example.net",
            "Subject: Automatic reply: [#T-42] Printer jammed",
            "Auto-Submitted: auto-replied",
            "X-Auto-Response-Suppress: All",
          ],
          "I am out of the office until Monday. Your message will not be delivered to my colleagues; please write to team@customer.example.org.",
        ),
      );
      expect(report).to.equal(null);
    });

    it("an ordinary mail with a message attached", async () => {
      const raw = [
        "From: Anna Berg <anna@customer.example.org>",
        "To: support@help.example.net",
        "Subject: see attached",
        "Message-ID: <m1@customer.example.org>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="M1"',
        "",
        "--M1",
        "Content-Type: text/plain",
        "",
        "The mail I mean is attached.",
        "",
        "--M1",
        'Content-Type: message/rfc822; name="original.eml"',
        "Content-Disposition: attachment; filename=original.eml",
        "",
        ORIGINAL,
        "",
        "--M1--",
        "",
      ].join("\n");
      expect(await detect(raw)).to.equal(null);
    });
  });
});
