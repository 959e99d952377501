import { expect } from "chai";
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth/lib/dkim/sign.js";
import { parseMail } from "../../src/mail/parse.js";
import {
  authenticationResultsVerifier,
  dkimVerifier,
  exchangeOnlineVerifier,
  googleWorkspaceVerifier,
} from "../../src/tickets/agent-auth.js";

const mail = (headers: string[], from = "alice@example.com") =>
  Buffer.from(
    [
      `From: Alice <${from}>`,
      "To: support@example.com",
      "Subject: [#T-1-abcde] x",
      "Message-ID: <a1@example.com>",
      ...headers,
      "",
      "#resolve",
      "done",
      "",
    ].join("\r\n"),
  );

describe("agent authentication: Authentication-Results from a trusted server", () => {
  const verify = authenticationResultsVerifier(["mx.example.com"]);
  const cases: Array<{ name: string; headers: string[]; ok: boolean; reason: RegExp }> = [
    {
      name: "dmarc=pass for the From domain from our MX",
      headers: ["Authentication-Results: mx.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"],
      ok: true,
      reason: /dmarc=pass/,
    },
    {
      name: "dkim=pass for the From domain (no DMARC result)",
      headers: ["Authentication-Results: mx.example.com; dkim=pass header.d=example.com header.s=s1"],
      ok: true,
      reason: /dkim=pass/,
    },
    {
      name: "dkim=pass, but for another domain",
      headers: ["Authentication-Results: mx.example.com; dkim=pass header.d=mailer.evil.test; dmarc=fail header.from=example.com"],
      ok: false,
      reason: /did not authenticate example\.com/,
    },
    {
      name: "dmarc=fail",
      headers: ["Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=evil.test; dmarc=fail header.from=example.com"],
      ok: false,
      reason: /dmarc=fail/,
    },
    {
      name: "a pass from a server we do not trust (written by the sender)",
      headers: ["Authentication-Results: evil.test; dmarc=pass header.from=example.com"],
      ok: false,
      reason: /no Authentication-Results from a trusted server/,
    },
    { name: "no header at all", headers: [], ok: false, reason: /no Authentication-Results/ },
    {
      name: "the topmost trusted header decides (a forged pass further down does not count)",
      headers: [
        "Authentication-Results: mx.example.com; dmarc=fail header.from=example.com",
        "Authentication-Results: mx.example.com; dmarc=pass header.from=example.com",
      ],
      ok: false,
      reason: /dmarc=fail/,
    },
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
    const v = await authenticationResultsVerifier([])(
      await parseMail(mail(["Authentication-Results: mx.example.com; dmarc=pass header.from=example.com"])),
      "alice@example.com",
    );
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
    const res = await dkimSign(raw, {
      canonicalization: "relaxed/relaxed",
      signatureData: [{ signingDomain: domain, selector: "sel", privateKey: pem, algorithm: "rsa-sha256" }],
    });
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

// Header shapes as Microsoft ("Anti-spam message headers in Microsoft 365") and Gmail write them.
const MS_PASS =
  "Authentication-Results: spf=pass (sender IP is 203.0.113.7) smtp.mailfrom=example.com; dkim=pass (signature was verified) header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100";
const MS_COMPAUTH =
  "Authentication-Results: spf=pass (sender IP is 203.0.113.7) smtp.mailfrom=bounces.example.com; dkim=none (message not signed) header.d=none;dmarc=none action=none header.from=example.com;compauth=pass reason=109";
const MS_FAIL =
  "Authentication-Results: spf=fail (sender IP is 198.51.100.9) smtp.mailfrom=example.com; dkim=none (message not signed) header.d=none;dmarc=fail action=oreject header.from=example.com;compauth=fail reason=000";
const GOOGLE_PASS =
  "Authentication-Results: mx.google.com; dkim=pass header.i=@example.com header.s=s1 header.b=AbCd; spf=pass (google.com: domain of alice@example.com designates 203.0.113.7 as permitted sender) smtp.mailfrom=alice@example.com; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com";

describe("agent authentication: exchange-online", () => {
  const exchange = exchangeOnlineVerifier({ id: "support", provider: "microsoft365" });
  const cases: Array<{ name: string; headers: string[]; ok: boolean; reason: RegExp }> = [
    {
      name: "a colleague in the tenant (AuthAs Internal)",
      headers: ["X-MS-Exchange-Organization-AuthAs: Internal"],
      ok: true,
      reason: /colleague/,
    },
    {
      name: "outside mail with Microsoft's dmarc=pass for the From domain",
      headers: [MS_PASS],
      ok: true,
      reason: /dmarc=pass for example\.com/,
    },
    { name: "outside mail with compauth=pass aligned with From", headers: [MS_COMPAUTH], ok: true, reason: /compauth=pass/ },
    { name: "outside mail Microsoft did not authenticate", headers: [MS_FAIL], ok: false, reason: /did not authenticate example\.com/ },
    {
      name: "AuthAs Anonymous (mail from outside)",
      headers: ["X-MS-Exchange-Organization-AuthAs: Anonymous"],
      ok: false,
      reason: /no Authentication-Results from Exchange Online/,
    },
    {
      name: "a pass written by another server on top (an authserv-id)",
      headers: ["Authentication-Results: evil.test; dmarc=pass header.from=example.com", MS_PASS],
      ok: false,
      reason: /names evil\.test/,
    },
    {
      name: "Microsoft's pass for another domain than From",
      headers: [MS_PASS.replace(/header\.from=example\.com/, "header.from=evil.test")],
      ok: false,
      reason: /did not authenticate/,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.ok ? "trusted" : "refused"}`, async () => {
      const v = await exchange(await parseMail(mail(c.headers)), "alice@example.com");
      expect(v.ok, v.reason).to.equal(c.ok);
      expect(v.reason).to.match(c.reason);
    });
  }

  it("the same headers in a mailbox that is not Exchange Online (or in ingest) count for nothing", async () => {
    for (const origin of [{ id: "other", provider: null }, { id: "g", provider: "google" as const }, null]) {
      for (const headers of [["X-MS-Exchange-Organization-AuthAs: Internal"], [MS_PASS]]) {
        const v = await exchangeOnlineVerifier(origin)(await parseMail(mail(headers)), "alice@example.com");
        expect(v.ok).to.equal(false);
        expect(v.reason).to.contain("configured as Exchange Online");
      }
    }
  });
});

describe("agent authentication: google-workspace", () => {
  const google = googleWorkspaceVerifier({ id: "support", provider: "google" });
  const cases: Array<{ name: string; headers: string[]; ok: boolean; reason: RegExp }> = [
    { name: "Gmail's dmarc=pass for the From domain", headers: [GOOGLE_PASS], ok: true, reason: /dmarc=pass/ },
    {
      name: "Gmail's aligned dkim=pass without DMARC",
      headers: [
        "Authentication-Results: mx.google.com; dkim=pass header.i=@example.com header.s=s1; spf=neutral smtp.mailfrom=x@other.test",
      ],
      ok: true,
      reason: /dkim=pass/,
    },
    {
      name: "Gmail's dkim=pass for another domain",
      headers: ["Authentication-Results: mx.google.com; dkim=pass header.i=@mailer.test; dmarc=fail (p=NONE) header.from=example.com"],
      ok: false,
      reason: /did not authenticate/,
    },
    {
      name: "a forged mx.google.com pass below Gmail's real fail",
      headers: ["Authentication-Results: mx.google.com; dmarc=fail (p=REJECT) header.from=example.com", GOOGLE_PASS],
      ok: false,
      reason: /did not authenticate/,
    },
    { name: "Microsoft's header in a Gmail mailbox", headers: [MS_PASS], ok: false, reason: /not Gmail's/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.ok ? "trusted" : "refused"}`, async () => {
      const v = await google(await parseMail(mail(c.headers)), "alice@example.com");
      expect(v.ok, v.reason).to.equal(c.ok);
      expect(v.reason).to.match(c.reason);
    });
  }

  it("counts only in a mailbox configured as Google", async () => {
    const v = await googleWorkspaceVerifier({ id: "x", provider: "microsoft365" })(
      await parseMail(mail([GOOGLE_PASS])),
      "alice@example.com",
    );
    expect(v.ok).to.equal(false);
  });
});
