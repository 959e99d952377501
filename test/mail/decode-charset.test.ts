import { expect } from "chai";
import iconv from "iconv-lite";
import Encoding from "encoding-japanese";
import { parseMail } from "../../src/mail/parse.js";

/*
 * Charsets parse has to find or decode itself: bodies and 8-bit headers without a declared charset
 * (old mailers, scripts, web forms), raw bytes inside encoded words, UTF-7 (old Outlook and
 * Exchange) and charset names nobody knows. Each mail is written here in the sender's charset,
 * and the exact text a reader expects is checked, with the note that says what parse did.
 */

/** Bytes of a mail: ASCII header lines, then header lines and a body as raw bytes of the sender's charset. */
function mail(parts: Array<string | Buffer>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p)));
}

const enc = (text: string, charset: string): Buffer =>
  charset === "iso-2022-jp"
    ? Buffer.from(Encoding.convert(Encoding.stringToCode(text), { to: "JIS", from: "UNICODE" }))
    : iconv.encode(text, charset);

interface Undeclared {
  language: string;
  charset: string;
  detected: RegExp;
  subject: string;
  name: string;
  body: string;
}

const UNDECLARED: Undeclared[] = [
  {
    language: "German",
    charset: "windows-1252",
    detected: /windows-1252/,
    subject: "Drucker im Lager 2 druckt nur „Kästchen“",
    name: "Jürgen Weiß",
    body: "Hallo,\n\nder Drucker im Lager 2 druckt seit Montag nur noch „Kästchen“ – bitte prüfen.\nDie Reparatur darf bis 150 € kosten.\n\nViele Grüße\nJürgen Weiß",
  },
  {
    language: "Danish",
    charset: "iso-8859-1",
    detected: /windows-1252|iso-8859-1/,
    subject: "Printeren på 2. sal virker ikke",
    name: "Søren Ærø",
    body: "Hej,\n\nprinteren på 2. sal virker ikke længere. Jeg har prøvet at genstarte den to gange.\n\nVenlig hilsen\nSøren Ærø",
  },
  {
    language: "French",
    charset: "windows-1252",
    detected: /windows-1252/,
    subject: "Problème d’accès à la facture",
    name: "Hélène Dupré",
    body: "Bonjour,\n\nje n’arrive pas à accéder à la facture de février. Le lien renvoie une erreur « accès refusé ».\n\nCordialement,\nHélène Dupré",
  },
  {
    language: "Japanese (Shift_JIS)",
    charset: "shift_jis",
    detected: /shift_jis/,
    subject: "プリンターが動きません",
    name: "山田 太郎",
    body: "お世話になっております。\n\n三階のプリンターが今朝から動きません。確認をお願いします。\n\n山田",
  },
  {
    language: "Japanese (EUC-JP)",
    charset: "euc-jp",
    detected: /euc-jp/,
    subject: "パスワードの再設定について",
    name: "佐藤 花子",
    body: "いつもお世話になっております。\n\nパスワードを忘れてしまいました。再設定の方法を教えてください。\n\n佐藤",
  },
  {
    language: "Japanese (ISO-2022-JP, 7-bit)",
    charset: "iso-2022-jp",
    detected: /iso-2022-jp/,
    subject: "会議室の予約ができません",
    name: "鈴木 一郎",
    body: "お疲れ様です。\n\n会議室の予約システムにログインできません。至急対応をお願いします。\n\n鈴木",
  },
  {
    language: "Russian (KOI8-R)",
    charset: "koi8-r",
    detected: /koi8-r/,
    subject: "Принтер не печатает",
    name: "Иван Петров",
    body: "Здравствуйте!\n\nПринтер в бухгалтерии не печатает со вчерашнего дня. Пожалуйста, помогите.\n\nС уважением,\nИван Петров",
  },
  {
    language: "Russian (windows-1251)",
    charset: "windows-1251",
    detected: /windows-1251/,
    subject: "Не работает почта",
    name: "Ольга Смирнова",
    body: "Добрый день!\n\nС утра не работает почта на моём компьютере. Письма не отправляются.\n\nСпасибо,\nОльга",
  },
  {
    language: "Ukrainian (KOI8-U)",
    charset: "koi8-u",
    detected: /koi8-u/,
    subject: "Принтер не працює",
    name: "Олена Коваленко",
    body: "Добрий день!\n\nПринтер у бухгалтерії не працює з ранку, допоможіть будь ласка.\n\nДякую,\nОлена Коваленко",
  },
  {
    language: "Chinese (GB2312)",
    charset: "gb2312",
    detected: /gb18030|gb2312/,
    subject: "打印机无法打印",
    name: "王伟",
    body: "您好，\n\n三楼的打印机从今天早上开始无法打印，请尽快派人检查一下。谢谢！\n\n王伟",
  },
  {
    language: "Chinese (Big5)",
    charset: "big5",
    detected: /big5/,
    subject: "無法登入系統",
    name: "陳美玲",
    body: "您好，\n\n我從昨天開始無法登入公司的系統，密碼也已經重新設定過了。請協助處理，謝謝。\n\n陳美玲",
  },
];

describe("mail/decode: charsets that are not declared or not understood", () => {
  for (const c of UNDECLARED) {
    it(`${c.language}: an undeclared 8-bit body, Subject and From name read exactly`, async () => {
      const msg = await parseMail(
        mail([
          'From: "',
          enc(c.name, c.charset),
          '" <sender@client.example.test>\r\n',
          "To: support@example.test\r\n",
          "Subject: ",
          enc(c.subject, c.charset),
          "\r\n",
          "Message-ID: <undeclared@client.example.test>\r\n",
          "MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
          enc(c.body.replace(/\n/g, "\r\n"), c.charset),
          "\r\n",
        ]),
      );
      expect(msg.subject).to.equal(c.subject);
      expect(msg.from).to.deep.equal({ address: "sender@client.example.test", name: c.name });
      expect(msg.text).to.equal(c.body);
      expect(msg.headers["subject"]).to.deep.equal([c.subject]);
      expect(msg.notes.join("; ")).to.match(c.detected);
    });
  }

  it("a body part without charset inside multipart/mixed, next to a PDF, is detected (Polish, ISO-8859-2)", async () => {
    const body = "Dzień dobry,\n\ndrukarka w księgowości nie działa. Proszę o pilną pomoc.\n\nŁukasz Wójcik";
    const msg = await parseMail(
      mail([
        'From: lukasz@client.example.test\r\nSubject: Drukarka\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n',
        "--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
        // quoted-printable of ISO-8859-2 bytes: the charset is still undeclared.
        enc(body, "iso-8859-2")
          .toString("latin1")
          .replace(/[\x80-\xff]/g, (ch) => `=${ch.charCodeAt(0).toString(16).toUpperCase()}`)
          .replace(/\n/g, "\r\n"),
        '\r\n--b1\r\nContent-Type: application/pdf; name="faktura.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n',
      ]),
    );
    expect(msg.text).to.equal(body);
    expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["faktura.pdf"]);
  });

  const DECLARED_BODY: Array<[string, string, string]> = [
    ["koi8-r", "Сломан сканер", "Сканер на третьем этаже не работает."],
    ["iso-8859-1", "Kühlraum", "Der Kühlraum ist zu warm."],
    ["shift_jis", "至急", "至急ご確認ください。"],
  ];
  for (const [charset, subject, body] of DECLARED_BODY) {
    it(`a short raw ${charset} Subject is read in the charset its body declares: ${subject}`, async () => {
      const msg = await parseMail(
        mail([
          "From: a@client.example.test\r\nSubject: ",
          enc(subject, charset),
          `\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`,
          enc(body, charset),
          "\r\n",
        ]),
      );
      expect(msg.subject).to.equal(subject);
      expect(msg.text).to.equal(body);
    });
  }

  const ENCODED_WORDS: Array<[string, string | Buffer, string]> = [
    ["raw latin-1 bytes inside a Q word", Buffer.from("=?iso-8859-1?Q?Gr\xfc\xdfe_aus_K\xf6ln?=", "latin1"), "Grüße aus Köln"],
    [
      "raw UTF-8 bytes inside a Q word",
      Buffer.concat([Buffer.from("=?utf-8?Q?"), Buffer.from("Grüße_aus_Zürich"), Buffer.from("?=")]),
      "Grüße aus Zürich",
    ],
    [
      "raw windows-1252 bytes in a word split over two lines",
      Buffer.from("=?windows-1252?Q?=84Angebot=93_f\xfcr?=\r\n =?windows-1252?Q?_M\xe4rz?=", "latin1"),
      "„Angebot“ für März",
    ],
    ["a UTF-7 Q word (Outlook)", "=?utf-7?Q?Drucker_im_B+APw-ro_gest+APY-rt?=", "Drucker im Büro gestört"],
    [
      "a UTF-7 B word named unicode-1-1-utf-7",
      `=?unicode-1-1-utf-7?B?${Buffer.from("Sch+APY-ne Gr+APwA3w-e").toString("base64")}?=`,
      "Schöne Grüße",
    ],
    ["UTF-7 Japanese", `=?utf-7?B?${Buffer.from(iconv.encode("会議の件", "utf7")).toString("base64")}?=`, "会議の件"],
  ];
  for (const [what, subject, expected] of ENCODED_WORDS) {
    it(`Subject with ${what} → ${expected}`, async () => {
      const msg = await parseMail(
        mail(["From: a@client.example.test\r\nSubject: ", subject, "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello\r\n"]),
      );
      expect(msg.subject).to.equal(expected);
    });
  }

  const MISDECLARED_BODY: Array<[string, string, string, string]> = [
    ["iso-8859-2", "windows-1250", "Tiskárna ukazuje „Zaseknutý papír“. Šárka Žáková", "windows-1250"],
    ["iso-8859-1", "windows-1252", "Rechnung über 250 € – „dringend“", "windows-1252"],
    ["iso-8859-1", "windows-1251", "Добрый день! Не могу войти в почту, пишет «неверный пароль». Ольга", "windows-1251"],
    ["windows-1252", "koi8-r", "Здравствуйте! Принтер в кабинете 12 не печатает с утра. Сергей", "koi8-r"],
    ["iso-8859-1", "iso-8859-1", "Größe 42, Café au lait, Æble og Øl", ""],
    ["iso-8859-1", "utf-8", "Grüße aus Düsseldorf – „Fehler 7“", "utf-8"],
    ["windows-1250", "utf-8", "Dzień dobry, drukarka nie działa", "utf-8"],
  ];
  for (const [declared, actual, text, note] of MISDECLARED_BODY) {
    it(`${actual} text declared as ${declared} reads as written${note ? ", with a note" : " (the declaration is right)"}`, async () => {
      const msg = await parseMail(
        mail([
          `From: a@client.example.test\r\nSubject: x\r\nContent-Type: text/plain; charset=${declared}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`,
          enc(text, actual),
          "\r\n",
        ]),
      );
      expect(msg.text).to.equal(text);
      if (note) expect(msg.notes).to.include(`charset ${declared} declared, but the text is ${note}`);
      else expect(msg.notes.join(" ")).not.to.match(/declared, but/);
    });
  }

  const MISDECLARED_WORDS: Array<[string, string, string]> = [
    ["latin-1 bytes in a utf-8 Q word", "=?utf-8?Q?Gr=FC=DFe_aus_K=F6ln?=", "Grüße aus Köln"],
    [
      "windows-1251 bytes in an iso-8859-1 word",
      `=?iso-8859-1?B?${enc("Не работает почта", "windows-1251").toString("base64")}?=`,
      "Не работает почта",
    ],
    [
      "a UTF-8 character split over two words (stays UTF-8)",
      `=?utf-8?B?${Buffer.from("R\u00c3", "latin1").toString("base64")}?= =?utf-8?B?${Buffer.from("\u00bcckfrage", "latin1").toString("base64")}?=`,
      "Rückfrage",
    ],
    ["one latin-1 letter alone in a word", "=?iso-8859-1?Q?=D6?=sterreich: =?iso-8859-1?Q?=C4rger?=", "Österreich: Ärger"],
    ["words glued to text, a utf-8 dash", "Rechnung=?iso-8859-1?Q?_f=FCr?= Mai=?utf-8?q?_=E2=80=93_?=offen", "Rechnung für Mai – offen"],
  ];
  for (const [what, subject, expected] of MISDECLARED_WORDS) {
    it(`Subject with ${what} → ${expected}`, async () => {
      const msg = await parseMail(
        mail(["From: a@client.example.test\r\nSubject: ", subject, "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello\r\n"]),
      );
      expect(msg.subject).to.equal(expected);
    });
  }

  const UTF7_BODIES: Array<[string, string]> = [
    ["utf-7", "text/plain"],
    ["unicode-1-1-utf-7", "text/plain"],
    ["UTF7", "text/html"],
  ];
  for (const [charset, type] of UTF7_BODIES) {
    it(`a ${type} body in charset ${charset} is decoded, with a note`, async () => {
      const text = 'Hallo,\n\nder Scanner meldet "Papierstau" – schon seit Dienstag.\n\nGrüße';
      const content =
        type === "text/html" ? `<p>${text.replace(/\n\n/g, "</p><p>").replace(/\n/g, "<br>")}</p>` : text.replace(/\n/g, "\r\n");
      const msg = await parseMail(
        mail([
          `From: a@client.example.test\r\nSubject: Scanner\r\nContent-Type: ${type}; charset="${charset}"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n`,
          iconv.encode(content, "utf7"),
          "\r\n",
        ]),
      );
      expect(msg.text).to.equal(text);
      expect(msg.notes).to.include("UTF-7 decoded");
    });
  }

  it("declared UTF-8 with one stray windows-1252 line keeps the UTF-8 and reads the stray bytes", async () => {
    const msg = await parseMail(
      mail([
        "From: a@client.example.test\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        Buffer.from("Größe: 42 – passt.\r\nMit freundlichen Grüßen\r\n"),
        iconv.encode("Fußzeile: © Müller GmbH\r\n", "windows-1252"),
      ]),
    );
    expect(msg.text).to.equal("Größe: 42 – passt.\nMit freundlichen Grüßen\nFußzeile: © Müller GmbH");
  });

  it("a charset name nobody knows (x-unknown) is detected from the bytes", async () => {
    const msg = await parseMail(
      mail([
        "From: a@client.example.test\r\nSubject: x\r\nContent-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        iconv.encode("Bitte die Rechnung für Oktober prüfen. Grüße, Jörg", "windows-1252"),
        "\r\n",
      ]),
    );
    expect(msg.text).to.equal("Bitte die Rechnung für Oktober prüfen. Grüße, Jörg");
    expect(msg.notes).to.include("charset x-unknown unknown; detected as windows-1252");
  });

  it("a declared charset is used as declared, with no note (Polish ISO-8859-2, Czech windows-1250)", async () => {
    for (const [charset, text] of [
      ["iso-8859-2", "Dziękuję za szybką odpowiedź, Łukasz"],
      ["windows-1250", "Děkuji za rychlou odpověď, Jiří"],
    ]) {
      const msg = await parseMail(
        mail([
          `From: a@client.example.test\r\nSubject: x\r\nContent-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`,
          iconv.encode(text, charset),
          "\r\n",
        ]),
      );
      expect(msg.text).to.equal(text);
      expect(msg.notes).to.deep.equal([]);
    }
  });

  it("undeclared but valid UTF-8 (and plain ASCII) is read as it is, with no note", async () => {
    const utf8 = await parseMail(
      mail([
        'From: "',
        Buffer.from("Zoë Ünal"),
        '" <z@client.example.test>\r\nSubject: ',
        Buffer.from("Café geschlossen"),
        "\r\nContent-Type: text/plain\r\n\r\n",
        Buffer.from("Das Café ist heute zu.\r\n"),
      ]),
    );
    expect(utf8.subject).to.equal("Café geschlossen");
    expect(utf8.from?.name).to.equal("Zoë Ünal");
    expect(utf8.text).to.equal("Das Café ist heute zu.");
    expect(utf8.notes).to.deep.equal([]);
    const ascii = await parseMail(mail(["From: a@client.example.test\r\nSubject: Plain\r\n\r\nJust ASCII.\r\n"]));
    expect(ascii.text).to.equal("Just ASCII.");
    expect(ascii.notes).to.deep.equal([]);
  });

  it("a raw latin-1 file name of an attachment is read in the body's charset", async () => {
    const msg = await parseMail(
      mail([
        'From: a@client.example.test\r\nSubject: Bericht\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n',
        iconv.encode("Anbei der Prüfbericht.", "latin1"),
        '\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="',
        iconv.encode("Prüfbericht März.pdf", "latin1"),
        '"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n',
      ]),
    );
    expect(msg.text).to.equal("Anbei der Prüfbericht.");
    expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["Prüfbericht März.pdf"]);
  });
});
