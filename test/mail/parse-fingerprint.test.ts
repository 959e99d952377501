import { expect } from "chai";
import { parseMail } from "../../src/mail/parse.js";

/*
 * InboundMessage.fingerprint: one mail delivered twice (re-encoded by a relay, with trace headers
 * added on the way) has one fingerprint; another mail that reuses a Message-ID has another.
 */

const HEADERS = [
  "From: Jörg Bäcker <joerg@client.example.test>",
  "To: support@example.test",
  "Cc: Heike <heike@client.example.test>",
  "Subject: =?utf-8?Q?K=C3=BChlschrank_im_Lager_defekt?=",
  "Date: Wed, 04 Mar 2026 09:30:00 +0100",
  "Message-ID: <kuehl-1@client.example.test>",
  "MIME-Version: 1.0",
];
const TEXT = "Hallo,\n\nder Kühlschrank im Lager kühlt nicht mehr – die Anzeige zeigt 14 °C.\nBitte schnell prüfen.\n\nGrüße\nJörg";

const TRACE = [
  "Return-Path: <joerg@client.example.test>",
  "Delivered-To: support@example.test",
  "X-Original-To: support@example.test",
  "Received: from mx.client.example.test (mx.client.example.test [192.0.2.10]) by mx.example.test with ESMTPS id 4Z1; Wed, 04 Mar 2026 09:30:02 +0100",
  "Received: from relay.example.test by mx.example.test; Wed, 04 Mar 2026 09:30:03 +0100",
  "Authentication-Results: mx.example.test; dkim=pass header.d=client.example.test; spf=pass",
  "ARC-Seal: i=1; a=rsa-sha256; t=1772613003; cv=none; d=relay.example.test; s=arc; b=dGVzdA==",
  "ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=relay.example.test; s=arc; h=from:to:subject; bh=dGVzdA==; b=dGVzdA==",
  "ARC-Authentication-Results: i=1; relay.example.test; dkim=pass",
  "DKIM-Signature: v=1; a=rsa-sha256; d=relay.example.test; s=sel; h=from:to; bh=dGVzdA==; b=dGVzdA==",
];

const qp = (text: string) =>
  Buffer.from(text.replace(/\n/g, "\r\n"), "utf8")
    .toString("latin1")
    .replace(/[\x80-\xff=]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase()}`);

function eightBit(text: string, headers = HEADERS): Buffer {
  return Buffer.from(
    [...headers, "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "", text.replace(/\n/g, "\r\n"), ""].join(
      "\r\n",
    ),
    "utf8",
  );
}

describe("mail/parse: content fingerprint", () => {
  it("stays the same when a relay re-encodes the body (8bit → quoted-printable) and adds trace headers", async () => {
    const original = await parseMail(eightBit(TEXT));
    const relayed = await parseMail(
      Buffer.from(
        [
          ...TRACE,
          ...HEADERS,
          "Content-Type: text/plain; charset=utf-8",
          "Content-Transfer-Encoding: quoted-printable",
          "",
          qp(TEXT),
          "",
        ].join("\r\n"),
        "latin1",
      ),
    );
    expect(relayed.text).to.equal(original.text);
    expect(relayed.messageId).to.equal(original.messageId);
    expect(relayed.fingerprint).to.equal(original.fingerprint);
  });

  it("stays the same for base64, LF line ends, and the same mail sent as multipart/alternative's text part", async () => {
    const original = await parseMail(eightBit(TEXT));
    const base64 = await parseMail(
      Buffer.from(
        [
          ...HEADERS,
          "Content-Type: text/plain; charset=utf-8",
          "Content-Transfer-Encoding: base64",
          "",
          Buffer.from(TEXT.replace(/\n/g, "\r\n")).toString("base64"),
          "",
        ].join("\n"),
      ),
    );
    expect(base64.fingerprint).to.equal(original.fingerprint);
    const lf = await parseMail(Buffer.from(eightBit(TEXT).toString("utf8").replace(/\r\n/g, "\n")));
    expect(lf.fingerprint).to.equal(original.fingerprint);
  });

  it("differs for a different body under the same Message-ID", async () => {
    const first = await parseMail(eightBit(TEXT));
    const second = await parseMail(eightBit(TEXT.replace("14 °C", "18 °C")));
    expect(second.messageId).to.equal(first.messageId);
    expect(second.fingerprint).not.to.equal(first.fingerprint);
  });

  it("differs for a different attachment under the same Message-ID and text", async () => {
    const withFile = (content: string) =>
      parseMail(
        Buffer.from(
          [
            ...HEADERS,
            'Content-Type: multipart/mixed; boundary="f"',
            "",
            "--f",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Photo attached.",
            "--f",
            'Content-Type: image/jpeg; name="photo.jpg"',
            "Content-Transfer-Encoding: base64",
            "",
            Buffer.from(content).toString("base64"),
            "--f--",
            "",
          ].join("\r\n"),
        ),
      );
    const a = await withFile("first photo");
    const b = await withFile("second photo");
    expect(b.text).to.equal(a.text);
    expect(b.fingerprint).not.to.equal(a.fingerprint);
  });

  // mailparser puts the time of parsing in place of a Date it cannot read (found when the reading
  // thread and the main thread read the same corpus mail a moment apart and disagreed).
  for (const date of ["Tue, 7 Apr 2026 10:00:t <rimap-test@example.test>", "gestern", "32 Foo 2026 25:61:00 +9999", ""]) {
    it(`gives a mail with an unreadable Date header (${JSON.stringify(date)}) no date, and one fingerprint however often it is read`, async () => {
      const headers = HEADERS.map((h) => (h.startsWith("Date:") ? `Date: ${date}` : h));
      const first = await parseMail(eightBit(TEXT, headers));
      await new Promise((r) => setTimeout(r, 5));
      const again = await parseMail(eightBit(TEXT, headers));
      expect(first.date).to.equal(null);
      expect(again.fingerprint).to.equal(first.fingerprint);
    });
  }

  it("takes the first readable Date header when the first one is unreadable", async () => {
    const headers = [
      ...HEADERS.map((h) => (h.startsWith("Date:") ? "Date: Tue, 7 Apr 2026 10:00:t <x@example.test>" : h)),
      "Date: Tue, 7 Apr 2026 10:00:01 +0000",
    ];
    expect((await parseMail(eightBit(TEXT, headers))).date?.toISOString()).to.equal("2026-04-07T10:00:01.000Z");
  });

  it("keeps a readable Date header's time", async () => {
    expect((await parseMail(eightBit(TEXT))).date?.toISOString()).to.equal("2026-03-04T08:30:00.000Z");
  });

  it("gives a forwarded mail (message/rfc822) with an unreadable Date no date in the text, and one fingerprint however often it is read", async () => {
    const raw = Buffer.from(
      [
        "From: Ana <ana@customer.test>",
        "To: support@example.test",
        "Subject: Fwd: the error",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "See below.",
        "--b",
        "Content-Type: message/rfc822",
        "",
        "From: Bo <bo@vendor.test>",
        "Subject: the error",
        "Date: sometime last week",
        "",
        "Error E-42.",
        "--b--",
        "",
      ].join("\r\n"),
    );
    const first = await parseMail(raw);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await parseMail(raw);
    expect(first.text)
      .to.contain("Error E-42.")
      .and.not.to.match(/^Date:/m);
    expect(again.text).to.equal(first.text);
    expect(again.fingerprint).to.equal(first.fingerprint);
  });
});
