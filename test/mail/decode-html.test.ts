import { expect } from "chai";
import iconv from "iconv-lite";
import { parseMail } from "../../src/mail/parse.js";

/*
 * Mail without a real text part: the HTML becomes the text by one conversion (html-to-text), which
 * keeps table cells and rows apart, lists as lists and link targets.
 */

function htmlMail(html: string, headers: string[] = []): Promise<ReturnType<typeof parseMail> extends Promise<infer T> ? T : never> {
  return parseMail(
    Buffer.from(
      [
        "From: form@www.example.test",
        "Subject: Form",
        "MIME-Version: 1.0",
        ...headers,
        "Content-Type: text/html; charset=utf-8",
        "",
        html,
        "",
      ].join("\r\n"),
    ),
  );
}

const CASES: Array<[string, string, string]> = [
  [
    "a German web form laid out as a table, one empty cell",
    '<p>Neue Anfrage über das Kontaktformular:</p><table border="1"><tr><td><b>Ihr Name</b></td><td>Paula Pfeiffer</td></tr><tr><td>Kundennummer</td><td>10442</td></tr><tr><td>Seriennummer</td><td></td></tr><tr><td>Anliegen:</td><td>WLAN bricht abends ab</td></tr></table>',
    "Neue Anfrage über das Kontaktformular:\n\nIhr Name: Paula Pfeiffer\nKundennummer: 10442\nSeriennummer:\nAnliegen: WLAN bricht abends ab",
  ],
  [
    "a table with a header row and three columns",
    "<table><thead><tr><th>Item</th><th>Qty</th><th>Price</th></tr></thead><tbody><tr><td>Toner TN-243</td><td>4</td><td>38.00</td></tr><tr><td>Drum DR-243</td><td>1</td><td>71.50</td></tr></tbody></table>",
    "Item | Qty | Price\nToner TN-243 | 4 | 38.00\nDrum DR-243 | 1 | 71.50",
  ],
  [
    "a layout table around paragraphs (newsletter, Outlook) stacks its cells",
    "<table><tr><td><p>Dear support,</p><p>the portal shows error 503 since 8:00.</p></td><td>Sent from the portal</td></tr></table>",
    "Dear support,\n\nthe portal shows error 503 since 8:00.\nSent from the portal",
  ],
  [
    "lists and a heading, not upper-cased",
    "<h2>Steps to reproduce</h2><ol><li>Open the app</li><li>Tap <i>Sync</i></li></ol><ul><li>iPhone 14</li><li>iOS 19.2</li></ul>",
    "Steps to reproduce\n\n 1. Open the app\n 2. Tap Sync\n\n * iPhone 14\n * iOS 19.2",
  ],
  [
    "a form laid out with divs (label div, value div per field, one empty value) keeps each field on one line",
    '<div>New submission:</div><div class="row"><div class="label">Name</div><div>Paula Pfeiffer</div></div><div class="row"><div class="label">Customer no.</div><div>10442</div></div><div class="row"><div class="label">Serial</div><div></div></div><div class="row"><div class="label">Problem:</div><div>Wi-Fi drops</div></div>',
    "New submission:\nName: Paula Pfeiffer\nCustomer no.: 10442\nSerial:\nProblem: Wi-Fi drops",
  ],
  [
    "a letter in nested divs (greeting div, text div) is no form",
    "<div><div>Dear support,</div><div>the portal is down.</div></div><div><div>Hello</div><div>I have a problem with my login</div></div>",
    "Dear support,\nthe portal is down.\nHello\nI have a problem with my login",
  ],
  [
    "links keep their target once",
    '<p>See <a href="https://status.example.test/incident/42">the incident page</a> and <a href="https://status.example.test">https://status.example.test</a>.</p>',
    "See the incident page [https://status.example.test/incident/42] and https://status.example.test.",
  ],
];

describe("mail/decode: HTML to text", () => {
  for (const [what, html, text] of CASES) {
    it(what, async () => {
      const msg = await htmlMail(html);
      expect(msg.text).to.equal(text);
    });
  }

  it("a text part and a separate HTML part (not alternatives) both reach the text", async () => {
    const msg = await parseMail(
      Buffer.from(
        [
          "From: a@client.example.test",
          "Subject: Both",
          'Content-Type: multipart/mixed; boundary="m"',
          "",
          "--m",
          "Content-Type: text/plain; charset=utf-8",
          "",
          "Summary below.",
          "--m",
          "Content-Type: text/html; charset=utf-8",
          "",
          "<table><tr><td>Order</td><td>A-17</td></tr></table>",
          "--m--",
          "",
        ].join("\r\n"),
      ),
    );
    expect(msg.text).to.equal("Summary below.\nOrder: A-17");
  });

  it("an HTML mail with a mailing list's text footer keeps the HTML's text", async () => {
    const msg = await parseMail(
      Buffer.from(
        [
          "From: a@client.example.test",
          "Subject: List",
          'Content-Type: multipart/mixed; boundary="m"',
          "",
          "--m",
          "Content-Type: text/html; charset=utf-8",
          "",
          "<p>The shared drive is full again.</p>",
          "--m",
          "Content-Type: text/plain; charset=us-ascii",
          "",
          "_______________",
          "it-help mailing list",
          "--m--",
          "",
        ].join("\r\n"),
      ),
    );
    expect(msg.text).to.equal("The shared drive is full again.\n_______________\nit-help mailing list");
  });

  it("multipart/alternative with an empty text part uses the HTML", async () => {
    const msg = await parseMail(
      Buffer.from(
        [
          "From: a@client.example.test",
          "Subject: Alt",
          'Content-Type: multipart/alternative; boundary="a"',
          "",
          "--a",
          "Content-Type: text/plain; charset=utf-8",
          "",
          "",
          "--a",
          "Content-Type: text/html; charset=utf-8",
          "",
          "<p>Invoice <b>2026-031</b> is wrong.</p>",
          "--a--",
          "",
        ].join("\r\n"),
      ),
    );
    expect(msg.text).to.equal("Invoice 2026-031 is wrong.");
    expect(msg.notes).to.include("HTML body converted to text");
  });

  it("HTML that names its charset only in <meta> is read in it", async () => {
    const html =
      '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head><body><p>Die Übergabe ist am Montag – bitte bestätigen.</p></body></html>';
    const msg = await parseMail(
      Buffer.concat([
        Buffer.from("From: a@client.example.test\r\nSubject: Meta\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"),
        iconv.encode(html, "windows-1252"),
        Buffer.from("\r\n"),
      ]),
    );
    expect(msg.text).to.equal("Die Übergabe ist am Montag – bitte bestätigen.");
  });
});
