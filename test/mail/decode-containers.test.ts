import { createHash, generateKeyPairSync } from "node:crypto";
import { Readable } from "node:stream";
import { expect } from "chai";
import iconv from "iconv-lite";
import forge from "node-forge";
import { parseMail, parseMailStream } from "../../src/mail/parse.js";

/*
 * Mail whose content sits in a container: TNEF (winmail.dat from Outlook/Exchange), an opaque
 * S/MIME signature (smime.p7m), a forwarded message/rfc822. The TNEF streams are built here from
 * [MS-OXTNEF] (no TNEF writer is installed), the S/MIME ones signed here with node-forge and a key
 * made for the test.
 */

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const b64 = (b: Buffer) => b.toString("base64").replace(/.{1,76}/g, "$&\r\n");

// ---- TNEF, [MS-OXTNEF] 2.1.3: signature, legacy key, then attributes (level, id|type<<16, length, data, checksum).
const ATP = { string: 0x0001, text: 0x0002, byte: 0x0006, dword: 0x0008 } as const;

function attribute(level: 1 | 2, id: number, type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = level;
  head.writeUInt32LE(((type << 16) | id) >>> 0, 1);
  head.writeUInt32LE(data.length, 5);
  const checksum = Buffer.alloc(2);
  checksum.writeUInt16LE(data.reduce((sum, b) => (sum + b) & 0xffff, 0));
  return Buffer.concat([head, data, checksum]);
}

const dword = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

interface MapiProp {
  type: number;
  id: number;
  value: Buffer;
}

/** A MAPI property list ([MS-OXTNEF] 2.1.3.4): variable-size values carry a count, a length and padding. */
function mapiProps(props: MapiProp[]): Buffer {
  const parts: Buffer[] = [dword(props.length)];
  for (const p of props) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(p.type, 0);
    head.writeUInt16LE(p.id, 2);
    parts.push(head);
    if ([0x001e, 0x001f, 0x0102].includes(p.type)) {
      parts.push(dword(1), dword(p.value.length), p.value, Buffer.alloc(((p.value.length + 3) & ~3) - p.value.length));
    } else parts.push(p.value);
  }
  return Buffer.concat(parts);
}

const unicode = (s: string) => Buffer.from(`${s}\u0000`, "utf16le");
const string8 = (s: string, cp = "windows-1252") => Buffer.concat([iconv.encode(s, cp), Buffer.from([0])]);

function tnef(attributes: Buffer[]): Buffer {
  return Buffer.concat([dword(0x223e9f78), Buffer.from([0x01, 0x00]), attribute(1, 0x9006, ATP.dword, dword(0x00010000)), ...attributes]);
}

function tnefAttachment(title: string, data: Buffer, props: MapiProp[] = []): Buffer[] {
  return [
    attribute(2, 0x9002, ATP.byte, Buffer.alloc(14)),
    attribute(2, 0x8010, ATP.string, string8(title)),
    attribute(2, 0x800f, ATP.byte, data),
    ...(props.length ? [attribute(2, 0x9005, ATP.byte, mapiProps(props))] : []),
  ];
}

/** PidTagRtfCompressed in the uncompressed form [MS-OXRTFCP] 2.1.3.1 allows (COMPTYPE "MELA"). */
function rtfUncompressed(rtf: string): Buffer {
  const raw = Buffer.from(rtf, "latin1");
  return Buffer.concat([dword(raw.length + 12), dword(raw.length), dword(0x414c454d), dword(0), raw]);
}

function outlookMail(winmail: Buffer, extra = ""): Buffer {
  return Buffer.from(
    [
      "From: Otto Ostermann <otto@client.example.test>",
      "To: support@example.test",
      "Subject: Monatsbericht",
      "Message-ID: <tnef-1@client.example.test>",
      "MIME-Version: 1.0",
      "X-MS-TNEF-Correlator: <00000000A1B2C3@client.example.test>",
      'Content-Type: multipart/mixed; boundary="tnef-boundary"',
      "",
      "--tnef-boundary",
      ...(extra ? [extra, "--tnef-boundary"] : []),
      'Content-Type: application/ms-tnef; name="winmail.dat"',
      'Content-Disposition: attachment; filename="winmail.dat"',
      "Content-Transfer-Encoding: base64",
      "",
      b64(winmail),
      "--tnef-boundary--",
      "",
    ].join("\r\n"),
    "latin1",
  );
}

const XLSX = Buffer.from("PK\u0003\u0004 a spreadsheet for the test", "latin1");

describe("mail/decode: containers", () => {
  describe("TNEF (winmail.dat)", () => {
    it("German Outlook, attBody in windows-1252: the text is the body, the file inside is the attachment", async () => {
      const body =
        "Hallo Support,\r\n\r\nseit heute früh stürzt Excel beim Öffnen des Monatsberichts ab (siehe Anhang).\r\n\r\nGrüße, Otto";
      const winmail = tnef([
        attribute(1, 0x9007, ATP.byte, Buffer.concat([dword(1252), dword(0)])),
        attribute(1, 0x800c, ATP.text, iconv.encode(body, "windows-1252")),
        ...tnefAttachment("MONATS~1.XLS", XLSX, [
          { type: 0x001f, id: 0x3707, value: unicode("Monatsbericht März.xlsx") },
          { type: 0x001e, id: 0x370e, value: string8("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") },
        ]),
      ]);
      const msg = await parseMail(outlookMail(winmail));
      expect(msg.text).to.equal(
        "Hallo Support,\n\nseit heute früh stürzt Excel beim Öffnen des Monatsberichts ab (siehe Anhang).\n\nGrüße, Otto",
      );
      expect(msg.attachments.map((a) => [a.filename, a.contentType, a.sha256])).to.deep.equal([
        ["Monatsbericht März.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", sha256(XLSX)],
      ]);
      expect(msg.notes).to.include("TNEF (winmail.dat) unpacked: 1 file(s)");
    });

    it("Japanese Outlook, PidTagBody in Unicode among the MAPI properties; the 8.3 title names the file when nothing else does", async () => {
      const winmail = tnef([
        attribute(
          1,
          0x9003,
          ATP.byte,
          mapiProps([{ type: 0x001f, id: 0x1000, value: unicode("お世話になっております。\r\n見積書を添付します。\r\n\r\n田中") }]),
        ),
        ...tnefAttachment("MITSUMO.PDF", Buffer.from("%PDF-1.4 test")),
      ]);
      const msg = await parseMail(outlookMail(winmail));
      expect(msg.text).to.equal("お世話になっております。\n見積書を添付します。\n\n田中");
      expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["MITSUMO.PDF"]);
    });

    it("HTML body (PidTagBodyHtml, code page 65001) comes out as text, table rows kept apart", async () => {
      const html =
        "<html><body><p>Bestellung:</p><table><tr><td>Artikel</td><td>Tastatur DE</td></tr><tr><td>Menge</td><td>3</td></tr></table><p>Danke, Björn</p></body></html>";
      const winmail = tnef([
        attribute(
          1,
          0x9003,
          ATP.byte,
          mapiProps([
            { type: 0x0003, id: 0x3fde, value: dword(65001) },
            { type: 0x0102, id: 0x1013, value: Buffer.from(html) },
          ]),
        ),
      ]);
      const msg = await parseMail(outlookMail(winmail));
      expect(msg.text).to.equal("Bestellung:\n\nArtikel: Tastatur DE\nMenge: 3\n\nDanke, Björn");
    });

    it("RTF body with encapsulated HTML (PidTagRtfCompressed, \\fromhtml) comes out as text", async () => {
      const rtf =
        "{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0\\fswiss Arial;}}{\\*\\htmltag64 <p>}Der Server im Keller piept seit gestern.{\\*\\htmltag72 </p>}{\\*\\htmltag64 <p>}Gr\\'fc\\'dfe, Karl{\\*\\htmltag72 </p>}}";
      const winmail = tnef([attribute(1, 0x9003, ATP.byte, mapiProps([{ type: 0x0102, id: 0x1009, value: rtfUncompressed(rtf) }]))]);
      const msg = await parseMail(outlookMail(winmail));
      expect(msg.text).to.equal("Der Server im Keller piept seit gestern.\n\nGrüße, Karl");
    });

    it("RTF body written in Outlook's rich-text editor (not encapsulated) comes out as plain text", async () => {
      const rtf =
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Calibri;}}{\\colortbl;\\red0\\green0\\blue0;}\\pard Hej,\\par skærmen p\\'e5 kontor 4 blinker.\\par\\par Hilsen Ane\\par}";
      const winmail = tnef([attribute(1, 0x9003, ATP.byte, mapiProps([{ type: 0x0102, id: 0x1009, value: rtfUncompressed(rtf) }]))]);
      const msg = await parseMail(outlookMail(winmail));
      expect(msg.text).to.equal("Hej,\nskærmen på kontor 4 blinker.\n\nHilsen Ane");
    });

    it("a damaged winmail.dat stays an attachment, and the notes say so and that there is no text", async () => {
      const winmail = tnef([attribute(1, 0x800c, ATP.text, Buffer.from("cut off"))]).subarray(0, 30);
      const msg = await parseMail(outlookMail(winmail));
      expect(msg.text).to.equal("");
      expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["winmail.dat"]);
      expect(msg.notes.some((n) => n.startsWith("TNEF (winmail.dat) could not be opened ("))).to.equal(true);
      expect(msg.notes).to.include("no text body; 1 attachment(s)");
    });

    it("a streamed mail (big mails come from a file) hands the files inside winmail.dat to the sink", async () => {
      const winmail = tnef([
        attribute(1, 0x800c, ATP.text, Buffer.from("See the log.")),
        ...tnefAttachment("trace.log", Buffer.from("line 1\nline 2\n")),
      ]);
      const raw = outlookMail(winmail, "Content-Type: text/plain; charset=us-ascii\r\n\r\nForwarded by the gateway.");
      const stored: Array<[string | undefined, string]> = [];
      const msg = await parseMailStream(Readable.from([raw]), sha256(raw), raw.length, async (content, meta) => {
        const chunks: Buffer[] = [];
        for await (const c of content) chunks.push(c as Buffer);
        stored.push([meta.filename, Buffer.concat(chunks).toString()]);
        return { sha256: sha256(Buffer.concat(chunks)), size: Buffer.concat(chunks).length };
      });
      expect(msg.text).to.equal("Forwarded by the gateway.\n\nSee the log.");
      expect(stored).to.deep.equal([["trace.log", "line 1\nline 2\n"]]);
      expect(msg.attachments.map((a) => [a.filename, a.content])).to.deep.equal([["trace.log", undefined]]);
    });
  });

  describe("S/MIME", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const key = forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString());
    cert.serialNumber = "01";
    cert.validity.notBefore = new Date(Date.now() - 86_400_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: "commonName", value: "Lucía Gómez" }]);
    cert.setIssuer([{ name: "commonName", value: "Lucía Gómez" }]);
    cert.sign(key, forge.md.sha256.create());

    const inner = [
      'Content-Type: multipart/mixed; boundary="inner"',
      "",
      "--inner",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "Hola,",
      "",
      "el esc=C3=A1ner de la oficina 12 ya no env=C3=ADa los PDF desde el lunes.",
      "",
      "Saludos, Luc=C3=ADa",
      "--inner",
      'Content-Type: application/pdf; name="escaneo.pdf"',
      'Content-Disposition: attachment; filename="escaneo.pdf"',
      "Content-Transfer-Encoding: base64",
      "",
      "JVBERi0xLjQKc2Nhbg==",
      "--inner--",
      "",
    ].join("\r\n");

    function signed(content: string): Buffer {
      const p7 = forge.pkcs7.createSignedData();
      p7.content = forge.util.createBuffer(content);
      p7.addCertificate(cert);
      p7.addSigner({
        key,
        certificate: cert,
        digestAlgorithm: forge.pki.oids.sha256,
        authenticatedAttributes: [
          { type: forge.pki.oids.contentType, value: forge.pki.oids.data },
          { type: forge.pki.oids.messageDigest },
          { type: forge.pki.oids.signingTime },
        ],
      });
      p7.sign();
      return Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), "binary");
    }

    const opaque = (der: Buffer, type = 'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"') =>
      Buffer.from(
        [
          "From: =?utf-8?Q?Luc=C3=ADa_G=C3=B3mez?= <lucia@client.example.test>",
          "To: support@example.test",
          "Subject: =?utf-8?Q?Esc=C3=A1ner?=",
          "MIME-Version: 1.0",
          `Content-Type: ${type}`,
          'Content-Disposition: attachment; filename="smime.p7m"',
          "Content-Transfer-Encoding: base64",
          "",
          b64(der),
        ].join("\r\n"),
      );

    it("opaque signed-data (smime.p7m): the signed content becomes the mail, noted as not verified", async () => {
      const msg = await parseMail(opaque(signed(inner)));
      expect(msg.subject).to.equal("Escáner");
      expect(msg.text).to.equal("Hola,\n\nel escáner de la oficina 12 ya no envía los PDF desde el lunes.\n\nSaludos, Lucía");
      expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["escaneo.pdf"]);
      expect(msg.notes).to.include("S/MIME signature present, not verified");
    });

    it("the older type name application/x-pkcs7-mime is opened the same way", async () => {
      const msg = await parseMail(
        opaque(
          signed("Content-Type: text/plain; charset=us-ascii\r\n\r\nPlease reset my token.\r\n"),
          "application/x-pkcs7-mime; smime-type=signed-data; name=smime.p7m",
        ),
      );
      expect(msg.text).to.equal("Please reset my token.");
      expect(msg.attachments).to.deep.equal([]);
    });

    it("an encrypted mail (enveloped-data) stays an attachment, and the notes say why", async () => {
      const p7 = forge.pkcs7.createEnvelopedData();
      p7.addRecipient(cert);
      p7.content = forge.util.createBuffer("Content-Type: text/plain\r\n\r\nsecret\r\n");
      p7.encrypt();
      const der = Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), "binary");
      const msg = await parseMail(opaque(der, 'application/pkcs7-mime; name="smime.p7m"'));
      expect(msg.text).to.equal("");
      expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["smime.p7m"]);
      expect(msg.notes.some((n) => n.includes("EnvelopedData"))).to.equal(true);
    });

    it("a detached signature (multipart/signed) keeps its text as the body and the signature as a file", async () => {
      const content = "Content-Type: text/plain; charset=utf-8\r\n\r\nThe VPN drops every 20 minutes.\r\nClara\r\n";
      const raw = Buffer.from(
        [
          "From: clara@client.example.test",
          "Subject: VPN",
          "MIME-Version: 1.0",
          'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="sig"',
          "",
          "--sig",
          content,
          "--sig",
          'Content-Type: application/pkcs7-signature; name="smime.p7s"',
          'Content-Disposition: attachment; filename="smime.p7s"',
          "Content-Transfer-Encoding: base64",
          "",
          b64(signed(content)),
          "--sig--",
          "",
        ].join("\r\n"),
      );
      const msg = await parseMail(raw);
      expect(msg.text).to.equal("The VPN drops every 20 minutes.\nClara");
      expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["smime.p7s"]);
    });
  });

  describe("forwarded mail (message/rfc822 attachment)", () => {
    it("its text appears under a forwarded-message line with From, Date and Subject, and it stays an attachment", async () => {
      const forwarded = Buffer.concat([
        Buffer.from(
          "From: Gerda Graf <gerda@supplier.example.test>\r\nTo: einkauf@client.example.test\r\nDate: Tue, 03 Mar 2026 08:15:00 +0100\r\nSubject: Lieferung verzögert\r\n".replace(
            "ö",
            "=?iso-8859-1?Q?=F6?=",
          ),
          "latin1",
        ),
        Buffer.from("Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"),
        iconv.encode("Die Lieferung der Monitore verzögert sich um zwei Wochen.\r\nGerda Graf\r\n", "windows-1252"),
      ]);
      const raw = Buffer.concat([
        Buffer.from(
          [
            "From: einkauf@client.example.test",
            "To: support@example.test",
            "Subject: Fwd: Lieferung",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="fw"',
            "",
            "--fw",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Bitte die Bestellung anpassen, siehe unten.",
            "--fw",
            'Content-Type: message/rfc822; name="Lieferung.eml"',
            'Content-Disposition: attachment; filename="Lieferung.eml"',
            "",
            "",
          ].join("\r\n"),
        ),
        forwarded,
        Buffer.from("\r\n--fw--\r\n"),
      ]);
      const msg = await parseMail(raw);
      expect(msg.text).to.equal(
        [
          "Bitte die Bestellung anpassen, siehe unten.",
          "",
          "---------- Forwarded message ----------",
          "From: Gerda Graf <gerda@supplier.example.test>",
          "Date: Tue, 03 Mar 2026 07:15:00 GMT",
          "Subject: Lieferung verzögert",
          "To: einkauf@client.example.test",
          "",
          "Die Lieferung der Monitore verzögert sich um zwei Wochen.",
          "Gerda Graf",
        ].join("\n"),
      );
      expect(msg.attachments.map((a) => [a.filename, a.contentType, a.sha256])).to.deep.equal([
        ["Lieferung.eml", "message/rfc822", sha256(forwarded)],
      ]);
    });
  });

  describe("a part with a file name is an attachment, whatever its type or disposition", () => {
    const CASES: Array<[string, string[]]> = [
      [
        "inline text/plain with a filename (Apple Mail)",
        ['Content-Type: text/plain; charset=us-ascii; name="sync.log"', 'Content-Disposition: inline; filename="sync.log"'],
      ],
      ["text/plain named only in Content-Type", ['Content-Type: text/plain; name="sync.log"']],
      [
        "inline text/html with a filename",
        ['Content-Type: text/html; name="sync.log"', 'Content-Disposition: inline; filename="sync.log"'],
      ],
    ];
    for (const [what, headers] of CASES) {
      it(what, async () => {
        const raw = Buffer.from(
          [
            "From: a@client.example.test",
            "Subject: Sync fails",
            'Content-Type: multipart/mixed; boundary="m"',
            "",
            "--m",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "Sync stops every night, log attached.",
            "--m",
            ...headers,
            "",
            "ERROR sync aborted at 02:14",
            "--m--",
            "",
          ].join("\r\n"),
        );
        const msg = await parseMail(raw);
        expect(msg.text).to.equal("Sync stops every night, log attached.");
        expect(msg.attachments.map((a) => a.filename)).to.deep.equal(["sync.log"]);
        expect(msg.attachments[0].content?.toString()).to.equal("ERROR sync aborted at 02:14");
      });
    }

    it("a mail that is only a file says so in the notes", async () => {
      const msg = await parseMail(
        Buffer.from(
          [
            "From: scanner@client.example.test",
            "Subject: Scan",
            'Content-Type: application/pdf; name="scan.pdf"',
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0xLjQK",
            "",
          ].join("\r\n"),
        ),
      );
      expect(msg.text).to.equal("");
      expect(msg.notes).to.deep.equal(["no text body; 1 attachment(s)"]);
    });
  });
});
