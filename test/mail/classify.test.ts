import { expect } from "chai";
import { classifyMail, LOOP_HEADER, type ClassifyContext, type MailKind } from "../../src/mail/classify.js";
import { parseMail } from "../../src/mail/parse.js";

const ctx: ClassifyContext = {
  messageIdDomain: "help.example.net",
  isOwn: (address: string) => ["support@example.net", "helpdesk@example.net"].includes(address),
};

interface Case {
  name: string;
  /** Header lines; From, Subject and Message-ID are added unless given. */
  headers: string[];
  kind: MailKind;
  automatic: boolean;
  /** Text one of the reasons must contain, as an operator reading the trail would look for it. */
  reason: RegExp;
}

const cases: Case[] = [
  {
    name: "an ordinary mail is a request from a person",
    headers: [],
    kind: "request",
    automatic: false,
    reason: /no sign of an automatic sender/,
  },
  {
    name: "a reply from a person is still a request",
    headers: ["Subject: Re: [#T-12] printer", "In-Reply-To: <ticketpost.12.1@help.example.net>"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },

  {
    name: "our loop header marks our own mail coming back",
    headers: [`${LOOP_HEADER}: 1`],
    kind: "loop",
    automatic: true,
    reason: new RegExp(LOOP_HEADER, "i"),
  },
  {
    name: "the loop header is recognised in any case",
    headers: ["X-TicketPost-Loop: gateway-1"],
    kind: "loop",
    automatic: true,
    reason: /gateway-1/,
  },
  {
    name: "a Message-ID we generated is a loop",
    headers: ["Message-ID: <ticketpost.42.7@help.example.net>"],
    kind: "loop",
    automatic: true,
    reason: /ticketpost\.42\.7@help\.example\.net/,
  },
  {
    name: "our Message-ID domain in upper case is still ours",
    headers: ["Message-ID: <TicketPost.42.7@HELP.Example.NET>"],
    kind: "loop",
    automatic: true,
    reason: /we generated/,
  },
  {
    name: "a loop wins over automatic headers",
    headers: [`${LOOP_HEADER}: ack; ticket=3`, "Auto-Submitted: auto-replied"],
    kind: "loop",
    automatic: true,
    reason: /ticket=3/,
  },

  // A web form may send as our own address: From alone never makes our own mail.
  {
    name: "our From address without our marks is a request",
    headers: ["From: Support <support@example.net>"],
    kind: "request",
    automatic: false,
    reason: /support@example\.net is one of our addresses, but the mail carries none of our marks/,
  },
  {
    name: "our From address with a visitor in Reply-To is the visitor's request",
    headers: ["From: Support <support@example.net>", "Reply-To: Paula <paula@player.example.org>"],
    kind: "request",
    automatic: false,
    reason: /the request of paula@player\.example\.org \(Reply-To\)/,
  },
  {
    name: "an alias of ours in From, in upper case, is a request too",
    headers: ["From: HelpDesk@Example.NET"],
    kind: "request",
    automatic: false,
    reason: /helpdesk@example\.net is one of our addresses/,
  },
  {
    name: "our From address with automatic headers is an automatic request",
    headers: ["From: support@example.net", "Auto-Submitted: auto-replied"],
    kind: "request",
    automatic: true,
    reason: /Auto-Submitted: auto-replied/,
  },
  {
    name: "our From address with our Message-ID is our own mail",
    headers: ["From: support@example.net", "Message-ID: <ticketpost.7.lx2.abc@help.example.net>"],
    kind: "loop",
    automatic: true,
    reason: /we generated/,
  },

  {
    name: "someone else's Message-ID with ticketpost. in it is not ours",
    headers: ["Message-ID: <ticketpost.42.7@other.example.org>"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },
  {
    name: "our domain without the ticketpost. prefix is not ours",
    headers: ["Message-ID: <abc.1@help.example.net>"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },
  {
    name: "a subdomain of our Message-ID domain is not ours",
    headers: ["Message-ID: <ticketpost.1@mail.help.example.net>"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },
  {
    name: "a sender at our domain but not one of our addresses is a person",
    headers: ["From: colleague@example.net"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },
  {
    name: "our address only in To is an ordinary request",
    headers: ["To: support@example.net"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },

  {
    name: "Auto-Submitted: auto-replied is automatic",
    headers: ["Auto-Submitted: auto-replied"],
    kind: "request",
    automatic: true,
    reason: /Auto-Submitted: auto-replied/,
  },
  {
    name: "Auto-Submitted: auto-generated is automatic",
    headers: ["Auto-Submitted: auto-generated"],
    kind: "request",
    automatic: true,
    reason: /Auto-Submitted: auto-generated/,
  },
  {
    name: "Auto-Submitted with a parameter is automatic",
    headers: ['Auto-Submitted: auto-replied; owner-email="x@example.org"'],
    kind: "request",
    automatic: true,
    reason: /Auto-Submitted/,
  },
  { name: "Auto-Submitted: no is a person", headers: ["Auto-Submitted: no"], kind: "request", automatic: false, reason: /no sign/ },
  {
    name: "Auto-Submitted: No (any case) is a person",
    headers: ["Auto-Submitted: No"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },
  {
    name: "Auto-Submitted: no with a comment is a person",
    headers: ["Auto-Submitted: no (sent by hand)"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },

  { name: "Precedence: bulk is automatic", headers: ["Precedence: bulk"], kind: "request", automatic: true, reason: /Precedence: bulk/ },
  { name: "Precedence: junk is automatic", headers: ["Precedence: junk"], kind: "request", automatic: true, reason: /Precedence: junk/ },
  { name: "Precedence: list is automatic", headers: ["Precedence: list"], kind: "request", automatic: true, reason: /Precedence: list/ },
  {
    name: "Precedence: auto_reply is automatic",
    headers: ["Precedence: auto_reply"],
    kind: "request",
    automatic: true,
    reason: /Precedence: auto_reply/,
  },
  {
    name: "Precedence: BULK (any case) is automatic",
    headers: ["Precedence: BULK"],
    kind: "request",
    automatic: true,
    reason: /Precedence/,
  },
  {
    name: "Precedence: first-class is a person",
    headers: ["Precedence: first-class"],
    kind: "request",
    automatic: false,
    reason: /no sign/,
  },
  {
    name: "both signs give both reasons",
    headers: ["Auto-Submitted: auto-generated", "Precedence: bulk"],
    kind: "request",
    automatic: true,
    reason: /Precedence: bulk/,
  },
];

async function inbound(headers: string[]) {
  const has = (name: string) => headers.some((h) => h.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  const lines = [
    ...(has("From") ? [] : ["From: Anna Berg <anna@customer.example.org>"]),
    ...(has("To") ? [] : ["To: support@example.net"]),
    ...(has("Subject") ? [] : ["Subject: Printer jammed"]),
    ...(has("Message-ID") ? [] : ["Message-ID: <c1@customer.example.org>"]),
    ...headers,
    "",
    "Please help.",
  ];
  return parseMail(Buffer.from(lines.join("\r\n") + "\r\n"));
}

describe("mail/classify", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const verdict = classifyMail(await inbound(c.headers), ctx);
      expect(verdict.kind, "kind").to.equal(c.kind);
      expect(verdict.automatic, "automatic").to.equal(c.automatic);
      expect(verdict.reasons, "reasons").to.be.an("array").that.is.not.empty;
      for (const r of verdict.reasons) expect(r.trim(), "every reason says something").not.to.equal("");
      expect(
        verdict.reasons.some((r) => c.reason.test(r)),
        `a reason matching ${c.reason} in ${JSON.stringify(verdict.reasons)}`,
      ).to.equal(true);
    });
  }

  it("gives one reason per automatic sign", async () => {
    const verdict = classifyMail(await inbound(["Auto-Submitted: auto-generated", "Precedence: bulk"]), ctx);
    expect(verdict.reasons).to.have.length(2);
  });

  it("works on a message without From or Message-ID", async () => {
    const msg = await parseMail(Buffer.from("Subject: nobody\r\n\r\nx\r\n"));
    const verdict = classifyMail(msg, ctx);
    expect(verdict).to.deep.include({ kind: "request", automatic: false });
    expect(verdict.reasons).not.to.be.empty;
  });

  it("does not change the message it classifies", async () => {
    const msg = await inbound(["Auto-Submitted: auto-replied"]);
    const before = JSON.stringify(msg);
    classifyMail(msg, ctx);
    expect(JSON.stringify(msg)).to.equal(before);
  });
});
