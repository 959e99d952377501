import { createHash } from "node:crypto";
import { expect } from "chai";
import { parseMail, requesterOf } from "../../src/mail/parse.js";
import type { InboundMessage } from "../../src/mail/types.js";
import { TicketpostError } from "../../src/shared/errors.js";

type Eol = "\r\n" | "\n";
const EOLS: Array<[string, Eol]> = [
  ["CRLF", "\r\n"],
  ["LF", "\n"],
];

/** A raw mail from lines; latin1 keeps every char below 256 as one byte, so 8-bit bodies can be written as "\xfc". */
function raw(lines: string[], eol: Eol = "\r\n", encoding: BufferEncoding = "utf8"): Buffer {
  return Buffer.from(lines.join(eol) + eol, encoding);
}

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

async function parseLines(lines: string[], eol: Eol = "\r\n", encoding: BufferEncoding = "utf8"): Promise<InboundMessage> {
  return parseMail(raw(lines, eol, encoding));
}

describe("mail/parse", () => {
  for (const [eolName, eol] of EOLS) {
    describe(`with ${eolName} line endings`, () => {
      it("reads a plain-text mail: ids, addresses, subject, date and text", async () => {
        const bytes = raw(
          [
            "From: Anna Berg <Anna.Berg@Example.COM>",
            "To: Support <support@example.net>",
            "Subject: Printer on floor 3",
            "Date: Tue, 07 Apr 2026 10:00:00 +0200",
            "Message-ID: <abc.123@mail.example.com>",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "The printer is jammed.",
            "Second line.",
          ],
          eol,
        );
        const msg = await parseMail(bytes);
        expect(msg.messageId).to.equal("abc.123@mail.example.com");
        expect(msg.dedupKey).to.equal("abc.123@mail.example.com");
        expect(msg.from).to.deep.equal({ address: "anna.berg@example.com", name: "Anna Berg" });
        expect(msg.to).to.deep.equal([{ address: "support@example.net", name: "Support" }]);
        expect(msg.subject).to.equal("Printer on floor 3");
        expect(msg.date?.toISOString()).to.equal("2026-04-07T08:00:00.000Z");
        expect(msg.text).to.equal("The printer is jammed.\nSecond line.");
        expect(msg.attachments).to.deep.equal([]);
        expect(msg.headers["subject"]).to.deep.equal(["Printer on floor 3"]);
        expect(msg.rawSize).to.equal(bytes.length);
        expect(msg.rawSha256).to.equal(sha256(bytes));
      });

      it("turns an HTML-only mail into readable text without tags, keeping links readable", async () => {
        const msg = await parseLines(
          [
            "From: anna@example.com",
            "Subject: HTML only",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<html><head><style>p { color: red }</style><title>ignored</title></head>",
            '<body><p>Hello <b>support</b>,</p><p>see <a href="https://example.com/status">the status page</a>.</p>',
            "<ul><li>first</li><li>second</li></ul></body></html>",
          ],
          eol,
        );
        expect(msg.text).to.contain("Hello support");
        expect(msg.text).to.contain("the status page");
        expect(msg.text).to.contain("https://example.com/status");
        expect(msg.text).to.contain("first").and.to.contain("second");
        expect(msg.text).not.to.match(/<\/?[a-z][^>]*>/i);
        expect(msg.text).not.to.contain("color: red");
      });

      it("turns a multipart/related HTML mail (HTML plus inline image) into text without the image", async () => {
        const msg = await parseLines(
          [
            "From: anna@example.com",
            "Subject: HTML with image",
            "MIME-Version: 1.0",
            'Content-Type: multipart/related; boundary="rel"',
            "",
            "--rel",
            "Content-Type: text/html; charset=utf-8",
            "",
            '<p>Screenshot of the <a href="https://example.com/err">error</a>:</p><img src="cid:shot@x">',
            "--rel",
            "Content-Type: image/png",
            "Content-Transfer-Encoding: base64",
            "Content-ID: <shot@x>",
            "",
            Buffer.from("png-bytes").toString("base64"),
            "--rel--",
          ],
          eol,
        );
        expect(msg.text).to.contain("Screenshot of the error");
        expect(msg.text).to.contain("https://example.com/err");
        expect(msg.text).not.to.match(/<\/?[a-z][^>]*>/i);
        expect(msg.text).not.to.contain("cid:");
        expect(msg.attachments).to.have.length(1);
        expect(msg.attachments[0].inline).to.equal(true);
      });

      it("prefers the text part of a multipart/alternative mail", async () => {
        const msg = await parseLines(
          [
            "From: anna@example.com",
            "Subject: Alternative",
            "MIME-Version: 1.0",
            'Content-Type: multipart/alternative; boundary="alt"',
            "",
            "--alt",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Plain words.",
            "--alt",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>HTML words.</p>",
            "--alt--",
          ],
          eol,
        );
        expect(msg.text).to.equal("Plain words.");
      });

      it("decodes encoded-word subjects, latin-1 bodies and names (German umlauts)", async () => {
        const msg = await parseLines(
          [
            "From: =?iso-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.de>",
            "To: support@example.net",
            "Subject: =?iso-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=iso-8859-1",
            "Content-Transfer-Encoding: 8bit",
            "",
            "Sch\xf6ne Gr\xfc\xdfe, \xc4rger \xfcber \xd6l.",
          ],
          eol,
          "latin1",
        );
        expect(msg.subject).to.equal("Grüße aus Köln");
        expect(msg.from).to.deep.equal({ address: "juergen@example.de", name: "Jürgen Müller" });
        expect(msg.text).to.equal("Schöne Grüße, Ärger über Öl.");
      });

      it("folds CR/LF out of the subject so it stays one line", async () => {
        const msg = await parseLines(["From: a@example.com", "Subject: first part", "\tsecond part", "", "x"], eol);
        expect(msg.subject).to.equal("first part second part");
      });
    });
  }

  describe("encoded subjects", () => {
    const cases: Array<[string, string]> = [
      ["=?utf-8?B?w4RyZ2VyIG1pdCBkZW0gRHJ1Y2tlcg==?=", "Ärger mit dem Drucker"],
      ["=?UTF-8?Q?=C3=84rger_mit_dem_Drucker?=", "Ärger mit dem Drucker"],
      ["=?iso-8859-1?Q?Dr=FCcker_kaputt?=", "Drücker kaputt"],
      ["=?ISO-8859-1?B?R3L832U=?=", "Grüße"],
      ["Re: =?utf-8?Q?M=C3=BCll?= =?utf-8?Q?abfuhr?=", "Re: Müllabfuhr"],
      ["=?utf-8?B?5pel5pys6Kqe?=", "日本語"],
      ["Plain ASCII", "Plain ASCII"],
    ];
    for (const [header, expected] of cases) {
      it(`${header} → ${expected}`, async () => {
        const msg = await parseLines(["From: a@example.com", `Subject: ${header}`, "", "x"]);
        expect(msg.subject).to.equal(expected);
      });
    }
  });

  describe("addresses", () => {
    it("lower-cases To, Cc and Reply-To, opening groups and skipping address-less entries", async () => {
      const msg = await parseLines([
        'From: "Berg, Anna" <Anna@Example.COM>',
        "To: Support <SUPPORT@Example.NET>, Team: Bob <Bob@Example.ORG>, carl@EXAMPLE.org;, undisclosed-recipients:;",
        "Cc: Dora <DORA@example.com>, eve@Example.com",
        "Reply-To: Helpdesk Team <Team@Example.COM>",
        "Subject: addresses",
        "",
        "x",
      ]);
      expect(msg.from).to.deep.equal({ address: "anna@example.com", name: "Berg, Anna" });
      expect(msg.to).to.deep.equal([
        { address: "support@example.net", name: "Support" },
        { address: "bob@example.org", name: "Bob" },
        { address: "carl@example.org", name: null },
      ]);
      expect(msg.cc).to.deep.equal([
        { address: "dora@example.com", name: "Dora" },
        { address: "eve@example.com", name: null },
      ]);
      expect(msg.replyTo).to.deep.equal([{ address: "team@example.com", name: "Helpdesk Team" }]);
    });

    const requesterCases: Array<{ name: string; headers: string[]; expected: string | null }> = [
      {
        name: "Reply-To wins over From",
        headers: ["From: anna@example.com", "Reply-To: Team <Team@Example.com>"],
        expected: "team@example.com",
      },
      {
        name: "the first Reply-To address wins",
        headers: ["From: anna@example.com", "Reply-To: one@example.com, two@example.com"],
        expected: "one@example.com",
      },
      { name: "From when there is no Reply-To", headers: ["From: Anna <Anna@Example.com>"], expected: "anna@example.com" },
      {
        name: "From when Reply-To has no usable address",
        headers: ["From: anna@example.com", "Reply-To: undisclosed-recipients:;"],
        expected: "anna@example.com",
      },
      { name: "nobody when neither has an address", headers: ["From: Just A Name"], expected: null },
    ];
    for (const c of requesterCases) {
      it(`requesterOf: ${c.name}`, async () => {
        const msg = await parseLines([...c.headers, "Subject: who", "", "x"]);
        expect(requesterOf(msg)?.address ?? null).to.equal(c.expected);
      });
    }
  });

  describe("attachments", () => {
    it("gives name, type, size and the sha256 of each attachment's content", async () => {
      const pdf = Buffer.from("%PDF-1.4\nnot really a pdf\n\u0000\u0001\u00ff", "latin1");
      const csv = Buffer.from("name;city\nJürgen;Köln\n", "utf8");
      const msg = await parseLines([
        "From: anna@example.com",
        "Subject: files",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="mix"',
        "",
        "--mix",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Two files attached.",
        "--mix",
        'Content-Type: application/pdf; name="invoice.pdf"',
        'Content-Disposition: attachment; filename="invoice.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        pdf.toString("base64"),
        "--mix",
        "Content-Type: text/csv; charset=utf-8",
        "Content-Disposition: attachment; filename*=utf-8''Adressen%20K%C3%B6ln.csv",
        "Content-Transfer-Encoding: base64",
        "",
        csv.toString("base64"),
        "--mix--",
      ]);
      expect(msg.text).to.equal("Two files attached.");
      expect(
        msg.attachments.map((a) => ({
          filename: a.filename,
          contentType: a.contentType,
          size: a.size,
          sha256: a.sha256,
          inline: a.inline,
        })),
      ).to.deep.equal([
        { filename: "invoice.pdf", contentType: "application/pdf", size: pdf.length, sha256: sha256(pdf), inline: false },
        { filename: "Adressen Köln.csv", contentType: "text/csv", size: csv.length, sha256: sha256(csv), inline: false },
      ]);
      expect(msg.attachments[0].content!.equals(pdf)).to.equal(true);
    });

    it('names an attachment without a file name "attachment"', async () => {
      const msg = await parseLines([
        "From: anna@example.com",
        "Subject: nameless",
        "Content-Type: multipart/mixed; boundary=b",
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "see file",
        "--b",
        "Content-Type: application/octet-stream",
        "Content-Disposition: attachment",
        "",
        "bytes",
        "--b--",
      ]);
      expect(msg.attachments).to.have.length(1);
      expect(msg.attachments[0].filename).to.equal("attachment");
      expect(msg.attachments[0].contentType).to.equal("application/octet-stream");
    });
  });

  describe("ids and threading headers", () => {
    const noId = ["From: anna@example.com", "Subject: no id", "", "body"];

    it("without a Message-ID, keys duplicates by a hash of the bytes: same bytes → same key", async () => {
      const a = await parseLines(noId);
      const b = await parseLines(noId);
      expect(a.messageId).to.equal(null);
      expect(a.dedupKey).to.equal(b.dedupKey);
      expect(a.dedupKey).to.contain(sha256(raw(noId)));
      expect(a.rawSha256).to.equal(sha256(raw(noId)));
    });

    it("without a Message-ID, different bytes → a different key", async () => {
      const a = await parseLines(noId);
      const b = await parseLines([...noId.slice(0, -1), "body!"]);
      const c = await parseLines(noId, "\n");
      expect(new Set([a.dedupKey, b.dedupKey, c.dedupKey]).size).to.equal(3);
    });

    it("keys by the Message-ID when there is one, whatever the bytes", async () => {
      const a = await parseLines(["Message-ID: <same@example.com>", ...noId]);
      const b = await parseLines(["Message-ID: <same@example.com>", ...noId.slice(0, -1), "other body"]);
      expect(a.dedupKey).to.equal("same@example.com");
      expect(b.dedupKey).to.equal(a.dedupKey);
    });

    const idCases: Array<{ name: string; headers: string[]; inReplyTo: string | null; references: string[] }> = [
      {
        name: "In-Reply-To and References without angle brackets",
        headers: ["In-Reply-To: <ticketpost.1@example.net>", "References: <root@example.com> <ticketpost.1@example.net>"],
        inReplyTo: "ticketpost.1@example.net",
        references: ["root@example.com", "ticketpost.1@example.net"],
      },
      {
        name: "folded References",
        headers: ["References: <a@example.com>", " <b@example.com>", "\t<c@example.com>"],
        inReplyTo: null,
        references: ["a@example.com", "b@example.com", "c@example.com"],
      },
      {
        name: "In-Reply-To with a comment",
        headers: ["In-Reply-To: <x@example.com> (Anna's message of Monday)"],
        inReplyTo: "x@example.com",
        references: [],
      },
      { name: "no threading headers", headers: [], inReplyTo: null, references: [] },
    ];
    for (const c of idCases) {
      it(c.name, async () => {
        const msg = await parseLines(["From: anna@example.com", "Subject: ids", ...c.headers, "", "x"]);
        expect(msg.inReplyTo).to.equal(c.inReplyTo);
        expect(msg.references).to.deep.equal(c.references);
      });
    }

    it("collects Delivered-To and X-Original-To, lower-cased, without duplicates", async () => {
      const msg = await parseLines([
        "Delivered-To: Support@Example.NET",
        "X-Original-To: <Help@Example.NET>",
        "Delivered-To: support@example.net",
        "From: anna@example.com",
        "Subject: delivered",
        "",
        "x",
      ]);
      expect(msg.deliveredTo).to.have.members(["support@example.net", "help@example.net"]);
      expect(msg.deliveredTo).to.have.length(2);
    });
  });

  describe("garbage in: parses to something or throws EPARSE, never anything else", () => {
    const deep = 20_000;
    const cases: Array<[string, Buffer]> = [
      ["an empty buffer", Buffer.alloc(0)],
      ["a single newline", Buffer.from("\r\n")],
      ["binary junk", Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 0, 58, 58, 0x80, 0x81])],
      ["a PNG file", Buffer.from("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10", "latin1")],
      ["a body without headers", Buffer.from("\r\n\r\njust a body\r\n")],
      ["a header line without colon", Buffer.from("this is not a header\r\n\r\nbody\r\n")],
      [
        "an unterminated multipart",
        raw(["From: a@example.com", "Content-Type: multipart/mixed; boundary=x", "", "--x", "Content-Type: text/plain", "", "cut off"]),
      ],
      ["a multipart without boundary", raw(["From: a@example.com", "Content-Type: multipart/mixed", "", "--x", "body"])],
      [
        "an unknown charset",
        raw(["From: a@example.com", "Subject: =?x-no-such?Q?abc?=", "Content-Type: text/plain; charset=x-no-such-charset", "", "abc"]),
      ],
      [
        "broken base64",
        raw(["From: a@example.com", "Content-Type: text/plain", "Content-Transfer-Encoding: base64", "", "!!!not base64@@@"]),
      ],
      ["a broken encoded word", raw(["From: =?utf-8?B?broken", "Subject: =?utf-8?Q?=ZZ?=", "", "x"])],
      [
        `HTML nested ${deep} levels deep`,
        raw(["From: a@example.com", "Content-Type: text/html", "", "<div>".repeat(deep) + "deep" + "</div>".repeat(deep)]),
      ],
      [
        `HTML nested ${deep} levels deep inside multipart/related`,
        raw([
          "From: a@example.com",
          "Content-Type: multipart/related; boundary=r",
          "",
          "--r",
          "Content-Type: text/html",
          "",
          "<div>".repeat(deep) + "deep" + "</div>".repeat(deep),
          "--r--",
        ]),
      ],
    ];
    for (const [name, input] of cases) {
      it(name, async () => {
        let msg: InboundMessage;
        try {
          msg = await parseMail(input);
        } catch (err) {
          expect(err, `threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`).to.be.instanceOf(TicketpostError);
          expect((err as TicketpostError).code).to.equal("EPARSE");
          return;
        }
        expect(msg.rawSize).to.equal(input.length);
        expect(msg.rawSha256).to.equal(sha256(input));
        expect(msg.dedupKey).to.be.a("string").and.not.equal("");
        expect(msg.text).to.be.a("string");
      });
    }
  });

  describe("NUL characters (PostgreSQL text cannot hold them) are taken out of everything read, the raw mail keeps them", () => {
    const rows: Array<[string, string[], (m: InboundMessage) => string]> = [
      ["an encoded-word Subject", ["Subject: =?utf-8?Q?Invoice=00attached?="], (m) => m.subject],
      ["the body", ["Subject: x", "", "before\u0000after"], (m) => m.text],
      [
        "a display name",
        ["From: =?utf-8?B?" + Buffer.from("Ana\u0000Lima").toString("base64") + "?= <ana@customer.test>", "Subject: x"],
        (m) => m.from!.name ?? "",
      ],
      ["a header value", ["Subject: x", "X-Ticket-Ref: A\u0000B"], (m) => m.headers["x-ticket-ref"][0]],
    ];
    for (const [where, lines, get] of rows) {
      it(`in ${where}`, async () => {
        const head = lines.some((l) => l.startsWith("From:")) ? [] : ["From: Ana <ana@customer.test>"];
        const withBody = lines.includes("") ? lines : [...lines, "", "text"];
        const msg = await parseLines(["To: support@example.test", ...head, ...withBody]);
        expect(get(msg)).not.to.contain("\u0000");
        expect(JSON.stringify(msg)).not.to.contain("\\u0000");
        expect(msg.notes.join(" ")).to.contain("NUL characters removed");
      });
    }

    it("leaves a mail without NUL as it is, with no note", async () => {
      const msg = await parseLines(["From: Ana <ana@customer.test>", "To: support@example.test", "Subject: Printer", "", "jammed"]);
      expect(msg.notes.join(" ")).not.to.contain("NUL");
    });
  });

  it("reads header fields named like JavaScript's own properties (__proto__, constructor) as any other", async () => {
    const msg = await parseLines([
      "From: Ana <ana@customer.test>",
      "To: support@example.test",
      "Subject: Odd fields",
      "__proto__: one",
      "Constructor: two",
      "toString: three",
      "",
      "text",
    ]);
    expect(msg.subject).to.equal("Odd fields");
    expect(msg.headers["__proto__"]).to.deep.equal(["one"]);
    expect(msg.headers["constructor"]).to.deep.equal(["two"]);
    expect(msg.headers["tostring"]).to.deep.equal(["three"]);
  });
});
