import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { parseMail } from "../../src/mail/parse.js";
import { authenticationResultsVerifier, dkimVerifier } from "../../src/tickets/agent-auth.js";

const mail = (headers: string[], from = "alice@example.com") =>
  Buffer.from([`From: Alice <${from}>`, "To: support@example.com", "Subject: [#T-1-abcde] x", "Message-ID: <a1@example.com>", ...headers, "", "#resolve", "done", ""].join("\r\n"));

describe("agent authentication: Authentication-Results from a trusted server", () => {
  const verify = authenticationResultsVerifier(["mx.example.com"]);
  const cases: Array<{ name: string; headers: string[]; ok: boolean; reason: RegExp }> = [
    { name: "dmarc=pass for the From domain from our MX", headers: ["Authentication-Results: mx.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"], ok: true, reason: /dmarc=pass/ },
    { name: "dkim=pass for the From domain (no DMARC result)", headers: ["Authentication-Results: mx.example.com; dkim=pass header.d=example.com header.s=s1"], ok: true, reason: /dkim=pass/ },
    { name: "dkim=pass, but for another domain", headers: ["Authentication-Results: mx.example.com; dkim=pass header.d=mailer.evil.test; dmarc=fail header.from=example.com"], ok: false, reason: /did not authenticate example\.com/ },
    { name: "dmarc=fail", headers: ["Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=evil.test; dmarc=fail header.from=example.com"], ok: false, reason: /dmarc=fail/ },
    { name: "a pass from a server we do not trust (written by the sender)", headers: ["Authentication-Results: evil.test; dmarc=pass header.from=example.com"], ok: false, reason: /no Authentication-Results from a trusted server/ },
    { name: "no header at all", headers: [], ok: false, reason: /no Authentication-Results/ },
    { name: "the topmost trusted header decides (a forged pass further down does not count)", headers: ["Authentication-Results: mx.example.com; dmarc=fail header.from=example.com", "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com"], ok: false, reason: /dmarc=fail/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.ok ? "trusted" : "refused"}`, async () => {
      const msg = await parseMail(mail(c.headers));
      const v = await verify(msg, "alice@example.com");
      expect(v.ok).to.equal(c.ok);
      expect(v.reason).to.match(c.reason);
    });
  }

  it("refuses everything when no trusted server is configured (secure by default)", async () => {
    const v = await authenticationResultsVerifier([])(await parseMail(mail(["Authentication-Results: mx.example.com; dmarc=pass header.from=example.com"])), "alice@example.com");
    expect(v.ok).to.equal(false);
    expect(v.reason).to.contain("trustedAuthservIds");
  });
});

describe("agent authentication: DKIM verified by Ticketpost (mailauth, DNS injected)", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const p = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  const resolver = async (name: string, type: string) => {
    if (type === "TXT" && name === "sel._domainkey.example.com") return [[`v=DKIM1; k=rsa; p=${p}`]];
    const err = new Error(`no ${type} for ${name}`) as Error & { code: string };
    err.code = "ENOTFOUND";
    throw err;
  };
  async function signed(raw: Buffer, domain = "example.com"): Promise<Buffer> {
    const res = await dkimSign(raw, { canonicalization: "relaxed/relaxed", signatureData: [{ signingDomain: domain, selector: "sel", privateKey: pem, algorithm: "rsa-sha256" }] });
    return Buffer.concat([Buffer.from(res.signatures), raw]);
  }

  it("a mail signed by the From domain passes", async () => {
    const raw = await signed(mail([]));
    const v = await dkimVerifier(async () => raw, resolver)(await parseMail(raw), "alice@example.com");
    expect(v.ok, v.reason).to.equal(true);
    expect(v.reason).to.contain("dkim=pass for example.com");
  });

  it("a signed mail changed on the way fails", async () => {
    const raw = await signed(mail([]));
    const tampered = Buffer.from(raw.toString().replace("#resolve", "#reopen"));
    const v = await dkimVerifier(async () => tampered, resolver)(await parseMail(tampered), "alice@example.com");
    expect(v.ok).to.equal(false);
  });

  it("an unsigned mail fails", async () => {
    const raw = mail([]);
    const v = await dkimVerifier(async () => raw, resolver)(await parseMail(raw), "alice@example.com");
    expect(v.ok).to.equal(false);
    expect(v.reason).to.contain("no valid DKIM signature of example.com");
  });
});
