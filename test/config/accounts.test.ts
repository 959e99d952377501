import { expect } from "chai";
import { parseConfig } from "../../src/config/load.js";
import { TicketpostError } from "../../src/shared/errors.js";

type Json = Record<string, unknown>;

function base(extra: Json): Json {
  return { supportAddress: "support@contoso.com", smtp: { host: "smtp.example.net" }, ...extra };
}

function configError(fn: () => unknown): TicketpostError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(TicketpostError);
    expect((err as TicketpostError).code).to.equal("ECONFIG");
    return err as TicketpostError;
  }
  expect.fail("expected ECONFIG, nothing was thrown");
}

describe("config: accounts, OAuth2 presets and several mailboxes", () => {
  describe("provider presets", () => {
    it("microsoft365 with a tenant: Exchange Online hosts, the tenant's token endpoint, app-only scope", () => {
      const c = parseConfig(
        base({
          imap: {
            provider: "microsoft365",
            user: "support@contoso.com",
            oauth2: { tenant: "contoso.onmicrosoft.com", clientId: "11111111-2222-3333-4444-555555555555" },
          },
          smtp: {
            provider: "microsoft365",
            user: "support@contoso.com",
            oauth2: { tenant: "contoso.onmicrosoft.com", clientId: "11111111-2222-3333-4444-555555555555" },
          },
        }),
        { env: { TICKETPOST_OAUTH_CLIENT_SECRET: "shared-secret" } },
      );
      expect(c.imap).to.include({ host: "outlook.office365.com", port: 993, secure: true, password: null });
      expect(c.imap.oauth2).to.include({
        grant: "client_credentials",
        tokenEndpoint: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
        scope: "https://outlook.office365.com/.default",
        clientSecret: "shared-secret",
      });
      expect(c.smtp).to.include({ host: "smtp.office365.com", port: 587, secure: false, user: "support@contoso.com" });
      expect(c.smtp.oauth2?.scope).to.equal("https://outlook.office365.com/.default");
    });

    it("microsoft365 delegated (refresh token): the user scopes with offline_access, the refresh token from the environment", () => {
      const c = parseConfig(
        base({
          imap: {
            provider: "microsoft365",
            user: "support@contoso.com",
            oauth2: { tenant: "contoso.com", clientId: "app", grant: "refresh_token" },
          },
        }),
        { env: { TICKETPOST_IMAP_REFRESH_TOKEN: "rt-1", TICKETPOST_IMAP_CLIENT_SECRET: "own" } },
      );
      expect(c.imap.oauth2?.scope).to.equal(
        "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access",
      );
      expect(c.imap.oauth2?.refreshToken).to.equal("rt-1");
      expect(c.imap.oauth2?.clientSecret).to.equal("own");
      expect(c.imap.oauth2?.deviceAuthorizationEndpoint).to.equal("https://login.microsoftonline.com/contoso.com/oauth2/v2.0/devicecode");
    });

    it("google: Gmail hosts, refresh-token grant, scope https://mail.google.com/, no device flow", () => {
      const c = parseConfig(
        base({ imap: { provider: "google", user: "support@contoso.com", oauth2: { clientId: "x.apps.googleusercontent.com" } } }),
        { env: {} },
      );
      expect(c.imap).to.include({ host: "imap.gmail.com", port: 993 });
      expect(c.imap.oauth2).to.include({
        grant: "refresh_token",
        scope: "https://mail.google.com/",
        tokenEndpoint: "https://oauth2.googleapis.com/token",
        deviceAuthorizationEndpoint: null,
      });
    });

    const bad: Array<[string, Json, string]> = [
      [
        "microsoft365 without a tenant",
        { imap: { provider: "microsoft365", user: "s@contoso.com", oauth2: { clientId: "app" } } },
        "imap.oauth2.tenant",
      ],
      ["an unknown provider", { imap: { provider: "yahoo", host: "h", user: "s@contoso.com" } }, "imap.provider"],
      ["oauth2 without clientId", { imap: { provider: "google", user: "s@contoso.com", oauth2: {} } }, "imap.oauth2.clientId"],
      [
        "oauth2 without a token endpoint or provider",
        { imap: { host: "h", user: "s@contoso.com", oauth2: { clientId: "a", scope: "x" } } },
        "imap.oauth2.tokenEndpoint",
      ],
      [
        "a plain-http token endpoint off loopback",
        {
          imap: { host: "h", user: "s@contoso.com", oauth2: { clientId: "a", scope: "x", tokenEndpoint: "http://idp.example.net/token" } },
        },
        "https://",
      ],
      [
        "an unknown grant",
        { imap: { provider: "google", user: "s@contoso.com", oauth2: { clientId: "a", grant: "password" } } },
        "imap.oauth2.grant",
      ],
      [
        "a secret in the file",
        { imap: { provider: "google", user: "s@contoso.com", oauth2: { clientId: "a", clientSecret: "s3cret" } } },
        "imap.oauth2.clientSecret",
      ],
      [
        "smtp oauth2 without user",
        { imap: { host: "h", user: "s@contoso.com" }, smtp: { provider: "google", oauth2: { clientId: "a" } } },
        "smtp.user",
      ],
    ];
    for (const [name, cfg, key] of bad) {
      it(`${name} → ECONFIG naming ${key}`, () => {
        const err = configError(() => parseConfig(base(cfg), { env: {} }));
        expect(err.message).to.contain(key);
        expect(err.message).not.to.contain("s3cret");
      });
    }
  });

  describe("mailboxes", () => {
    const two = (extra: Json = {}) =>
      base({
        departments: [{ id: "it" }, { id: "web" }],
        mailboxes: [
          { id: "it", host: "imap.example.net", user: "it@contoso.com" },
          {
            id: "web",
            host: "imap.example.net",
            user: "webteam",
            address: "web@contoso.com",
            defaultDepartment: "web",
            schedule: "*/5 * * * *",
            idle: false,
            smtp: { host: "smtp.example.net", user: "web@contoso.com" },
          },
        ],
        ...extra,
      });

    it("each mailbox is its own account with id, address, folders, schedule, IDLE, department and secrets by id", () => {
      const c = parseConfig(two(), {
        env: {
          TICKETPOST_MAILBOX_IT_PASSWORD: "it-pw",
          TICKETPOST_MAILBOX_WEB_PASSWORD: "web-pw",
          TICKETPOST_MAILBOX_WEB_SMTP_PASSWORD: "web-smtp",
        },
      });
      expect(c.mailboxes.map((m) => [m.id, m.address, m.password, m.defaultDepartment, m.idle, m.schedule])).to.deep.equal([
        ["it", "it@contoso.com", "it-pw", null, true, "* * * * *"],
        ["web", "web@contoso.com", "web-pw", "web", false, "*/5 * * * *"],
      ]);
      expect(c.imap.id).to.equal("it");
      expect(c.mailboxes[1].smtp).to.include({ user: "web@contoso.com", password: "web-smtp" });
      expect(c.mailboxes[0].smtp).to.equal(null);
    });

    it("the single imap block is one mailbox whose id is its folder (as older receipts have it) and whose address is supportAddress", () => {
      const c = parseConfig(base({ imap: { host: "h", user: "support" } }), { env: {} });
      expect(c.mailboxes).to.have.length(1);
      expect(c.imap).to.include({ id: "INBOX", address: "support@contoso.com", key: "imap" });
    });

    const bad: Array<[string, Json, string]> = [
      [
        "imap and mailboxes both",
        { imap: { host: "h", user: "u@x.net" }, mailboxes: [{ id: "a", host: "h", user: "a@x.net" }] },
        "mailboxes",
      ],
      ["a mailbox without id", { mailboxes: [{ host: "h", user: "a@x.net" }] }, "mailboxes[0].id"],
      [
        "two mailboxes with one id",
        {
          mailboxes: [
            { id: "a", host: "h", user: "a@x.net" },
            { id: "a", host: "h", user: "b@x.net" },
          ],
        },
        "used twice",
      ],
      ["a login that is no address, without address", { mailboxes: [{ id: "a", host: "h", user: "alogin" }] }, "mailboxes[0].address"],
      [
        "an unknown default department",
        { mailboxes: [{ id: "a", host: "h", user: "a@x.net", defaultDepartment: "sales" }] },
        "mailboxes[0].defaultDepartment",
      ],
      ["an empty list", { mailboxes: [] }, "at least one"],
    ];
    for (const [name, cfg, key] of bad) {
      it(`${name} → ECONFIG naming ${key}`, () => {
        const input = { ...base({}), departments: [{ id: "it" }], ...cfg };
        expect(configError(() => parseConfig(input, { env: {} })).message).to.contain(key);
      });
    }

    it("with a sending account on every mailbox, the shared smtp block may be left out", () => {
      const c = parseConfig(
        {
          supportAddress: "support@contoso.com",
          mailboxes: [{ id: "a", host: "h", user: "a@contoso.com", smtp: { host: "s", user: "a@contoso.com" } }],
        },
        { env: {} },
      );
      expect(c.smtp.host).to.equal("s");
    });
  });
});
