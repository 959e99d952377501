import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { expect } from "chai";
import { parseMail, parseMailStream } from "../../src/mail/parse.js";
import { LineEndingNormalizer, normalizeLineEndings } from "../../src/mail/raw.js";

/*
 * Line ends: CRLF (RFC 5322), LF (files, pipes), CR alone (classic Mac OS mail servers), a mix,
 * and CR CR LF (a CRLF conversion applied twice). Whatever the line ends, the same mail must read
 * the same: sender, subject, parts and text.
 */

const LINES = [
  "From: Tobias Temp <tobias@client.example.test>",
  "To: support@example.test",
  "Subject: VPN token for a contractor",
  "Message-ID: <eol-1@client.example.test>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="eol"',
  "",
  "--eol",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Our contractor starts tomorrow.",
  "",
  "Tobias",
  "--eol",
  'Content-Type: text/csv; name="dates.csv"',
  'Content-Disposition: attachment; filename="dates.csv"',
  "",
  "from,to",
  "2026-03-02,2026-03-16",
  "--eol--",
  "",
];

const FORMS: Array<[string, (lines: string[]) => string]> = [
  ["CRLF", (l) => l.join("\r\n")],
  ["LF", (l) => l.join("\n")],
  ["CR only", (l) => l.join("\r")],
  // A CR before an empty line is left out of the mix: "\r" + "\n" would be one CRLF.
  [
    "mixed CR, LF and CRLF",
    (l) => l.map((line, i) => line + (l[i + 1] === "" || line === "" ? "\n" : ["\r", "\n", "\r\n"][i % 3])).join(""),
  ],
  ["CR CR LF", (l) => l.join("\r\r\n")],
];

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function normalizedInChunks(raw: Buffer, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < raw.length; i += size) chunks.push(raw.subarray(i, i + size));
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks).pipe(new LineEndingNormalizer())) out.push(c as Buffer);
  return Buffer.concat(out);
}

describe("mail/parse: line endings", () => {
  for (const [name, join] of FORMS) {
    it(`${name}: sender, subject, text and attachment read the same`, async () => {
      const raw = Buffer.from(join(LINES));
      const msg = await parseMail(raw);
      expect(msg.from).to.deep.equal({ address: "tobias@client.example.test", name: "Tobias Temp" });
      expect(msg.subject).to.equal("VPN token for a contractor");
      expect(msg.messageId).to.equal("eol-1@client.example.test");
      expect(msg.text).to.equal("Our contractor starts tomorrow.\n\nTobias");
      expect(msg.attachments.map((a) => [a.filename, a.content?.toString().replace(/\r\n/g, "\n")])).to.deep.equal([
        ["dates.csv", "from,to\n2026-03-02,2026-03-16"],
      ]);
      expect(msg.rawSha256).to.equal(sha256(raw));
      const noted = msg.notes.includes("bare CR line endings normalised to CRLF");
      expect(noted).to.equal(name !== "CRLF" && name !== "LF");
    });

    it(`${name}: the streamed form reads the same, in chunks that split CR from LF`, async () => {
      const raw = Buffer.from(join(LINES));
      const whole = await parseMail(raw);
      const streamed = await parseMailStream(
        Readable.from([raw.subarray(0, 7), raw.subarray(7, 8), raw.subarray(8)]),
        sha256(raw),
        raw.length,
        async (content) => {
          const chunks: Buffer[] = [];
          for await (const c of content) chunks.push(c as Buffer);
          return { sha256: sha256(Buffer.concat(chunks)), size: Buffer.concat(chunks).length };
        },
      );
      expect(streamed.text).to.equal(whole.text);
      expect(streamed.subject).to.equal(whole.subject);
      expect(streamed.fingerprint).to.equal(whole.fingerprint);
      expect(streamed.attachments.map((a) => a.sha256)).to.deep.equal(whole.attachments.map((a) => a.sha256));
    });
  }

  const UNITS: Array<[string, string, string]> = [
    ["CR only", "a\rb\r\rc\r", "a\r\nb\r\n\r\nc\r\n"],
    ["CR CR LF is one line end", "a\r\r\nb", "a\r\nb"],
    ["LF and CRLF untouched without a bare CR", "a\nb\r\nc", "a\nb\r\nc"],
    ["a mix becomes CRLF throughout", "a\rb\nc\r\nd", "a\r\nb\r\nc\r\nd"],
  ];
  for (const [what, input, expected] of UNITS) {
    it(`normalizeLineEndings: ${what}`, () => {
      expect(normalizeLineEndings(Buffer.from(input, "latin1")).toString("latin1")).to.equal(expected);
    });
  }

  it("the streamed normaliser gives the whole-buffer result's line breaks, whatever the chunk size", async () => {
    const raw = Buffer.from("From: a@b.example\rSubject: x\r\r\nBody\r\rmore\r", "latin1");
    for (const size of [1, 2, 3, 5, 64]) {
      const out = (await normalizedInChunks(raw, size)).toString("latin1");
      expect(out, `chunk size ${size}`).to.equal("From: a@b.example\r\nSubject: x\r\nBody\r\n\r\nmore\r\n");
    }
  });
});
