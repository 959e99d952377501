import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DataSource } from "typeorm";
import { AccountLogins } from "../../src/auth/logins.js";
import { CLOCK_SKEW_LIMIT_MS, diagnoseTokenError } from "../../src/auth/problems.js";
import { OAuth2TokenSource } from "../../src/auth/token-source.js";
import { databaseGrantStore } from "../../src/auth/token-store.js";
import type { OAuth2Config } from "../../src/config/schema.js";
import { openDatabase } from "../../src/db/data-source.js";
import { silentLogger } from "../../src/shared/logger.js";
import { startTokenServer, type TokenServer } from "../harness/token-server.js";
import { createTestDatabase, ENGINES, type TestDatabase } from "../helpers/databases.js";

const SECRET = "unit-secret";

function oauth2(tokens: TokenServer, grant: OAuth2Config["grant"], extra: Partial<OAuth2Config> = {}): OAuth2Config {
  return {
    provider: null,
    grant,
    tokenEndpoint: tokens.tokenEndpoint,
    authorizationEndpoint: null,
    deviceAuthorizationEndpoint: null,
    clientId: grant === "client_credentials" ? "app" : "desk",
    clientSecret: SECRET,
    certificateFile: null,
    scope: tokens.scope,
    refreshToken: null,
    env: { clientSecret: "TICKETPOST_IMAP_CLIENT_SECRET", refreshToken: "TICKETPOST_IMAP_REFRESH_TOKEN" },
    key: "imap",
    ...extra,
  };
}

describe("OAuth2 token sources against a real authorization server", function () {
  let tokens: TokenServer;
  before(async () => {
    tokens = await startTokenServer({
      accessTokenSeconds: 4,
      clients: [
        { clientId: "app", clientSecret: SECRET, grants: ["client_credentials"], mailbox: "support@example.test" },
        { clientId: "desk", clientSecret: SECRET, grants: ["refresh_token"] },
      ],
    });
  });
  after(async () => tokens.stop());

  it("client credentials: one token while it is fresh, a new one when renew is asked (after a refusal)", async () => {
    const source = new AccountLogins().sourceFor({
      user: "support@example.test",
      password: null,
      oauth2: oauth2(tokens, "client_credentials"),
      passwordEnv: "",
    })!;
    const a = await source.accessToken();
    expect(await source.accessToken()).to.equal(a);
    const b = await source.accessToken(true);
    expect(b).not.to.equal(a);
    expect((await tokens.introspect(b)).username).to.equal("support@example.test");
  });

  it("a token is fetched anew before it expires (less than a quarter of its life left)", async () => {
    let now = Date.now();
    const source = new OAuth2TokenSource(
      oauth2(tokens, "client_credentials"),
      "support@example.test",
      databaseGrantStoreless(),
      silentLogger,
      () => now,
    );
    const a = await source.accessToken();
    now += 2500; // 4 s token: 1.5 s left, more than a quarter
    expect(await source.accessToken()).to.equal(a);
    now += 700; // 0.8 s left
    expect(await source.accessToken()).not.to.equal(a);
  });

  for (const engine of ENGINES) {
    describe(`refresh token with rotation, stored in ${engine}`, () => {
      let tdb: TestDatabase;
      let db: DataSource;
      before(async () => {
        tdb = await createTestDatabase(engine);
        db = await openDatabase(tdb.options, { migrate: true });
      });
      after(async () => {
        await db.destroy();
        await tdb.drop();
      });

      it("two instances refreshing at once never replay a spent refresh token (which would revoke the grant)", async () => {
        const first = await tokens.issueRefreshToken("desk", "web@example.test");
        const cfg = oauth2(tokens, "refresh_token", { refreshToken: first });
        // Two processes: two sources over one database, each asked for a fresh token many times.
        const a = new OAuth2TokenSource(cfg, "web@example.test", databaseGrantStore(db), silentLogger);
        // SQLite: one process holds one connection (better-sqlite3 waits synchronously on a lock,
        // so two connections in one process would wait on each other); two processes is the
        // daemon and `check`, which the end-to-end tests run.
        const db2 = engine === "postgres" ? await openDatabase(tdb.options) : db;
        try {
          const b = new OAuth2TokenSource(cfg, "web@example.test", databaseGrantStore(db2), silentLogger);
          const got = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).accessToken(true)));
          for (const t of got) expect((await tokens.introspect(t)).active, "every token still active").to.equal(true);
          const stored = await databaseGrantStore(db).read(a.key);
          expect(stored?.refreshToken).to.be.a("string").and.not.equal(first);
          expect(a.problem).to.equal(null);
          expect(b.problem).to.equal(null);
        } finally {
          if (db2 !== db) await db2.destroy();
        }
      });

      it("a revoked grant: EOAUTH_REFUSED, the problem is 'consent' and the fix says ticketpost auth", async () => {
        const cfg = oauth2(tokens, "refresh_token", { refreshToken: await tokens.issueRefreshToken("desk", "gone@example.test") });
        const source = new OAuth2TokenSource(cfg, "gone@example.test", databaseGrantStore(db), silentLogger);
        await source.accessToken();
        await tokens.revokeGrants("gone@example.test");
        const err = await source.accessToken(true).then(
          () => null,
          (e: { code: string; message: string }) => e,
        );
        expect(err?.code).to.equal("EOAUTH_REFUSED");
        expect(source.problem?.kind).to.equal("consent");
        expect(source.problem?.fix).to.contain("ticketpost auth imap");
        expect(err?.message).not.to.contain(SECRET);
      });
    });
  }
});

/** The source stores nothing for client credentials; any store will do. */
function databaseGrantStoreless() {
  return {
    exclusive: async () => {
      throw new Error("not used");
    },
    read: async () => null,
  };
}

describe("OAuth2 problems: each with its fix", () => {
  const o = {
    ...oauth2(
      { tokenEndpoint: "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token", scope: "s" } as TokenServer,
      "client_credentials",
    ),
    provider: "microsoft365" as const,
  };
  const cases: Array<[string, unknown, number | null, string, RegExp]> = [
    [
      "a tenant that does not exist",
      { error: "invalid_request", error_description: "AADSTS90002: Tenant 'contoso.con' not found." },
      null,
      "wrong-tenant",
      /oauth2\.tenant/,
    ],
    [
      "an app not in the tenant",
      { error: "unauthorized_client", error_description: "AADSTS700016: Application with identifier 'x' was not found in the directory" },
      null,
      "wrong-client",
      /clientId/,
    ],
    [
      "a wrong secret",
      { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." },
      null,
      "client-secret",
      /new client secret/,
    ],
    [
      "an expired secret",
      { error: "invalid_client", error_description: "AADSTS7000222: The provided client secret keys are expired." },
      null,
      "client-secret",
      /new client secret/,
    ],
    [
      "no admin consent",
      { error: "invalid_grant", error_description: "AADSTS65001: The user or administrator has not consented" },
      null,
      "consent",
      /admin consent/,
    ],
    [
      "an assertion out of its time range",
      { error: "invalid_client", error_description: "AADSTS700024: Client assertion is not within its valid time range." },
      null,
      "clock-skew",
      /clock/,
    ],
    ["any refusal while our clock is 10 minutes off", { error: "invalid_grant" }, 10 * 60_000, "clock-skew", /NTP/],
    [
      "a bad scope",
      { error: "invalid_scope", error_description: "AADSTS70011: The provided value for the input parameter 'scope' is not valid." },
      null,
      "scope",
      /\.default/,
    ],
    [
      "the network",
      Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND" } }),
      null,
      "unreachable",
      /login\.microsoftonline\.com/,
    ],
  ];
  for (const [name, err, skew, kind, fix] of cases) {
    it(`${name} → ${kind}`, () => {
      const p = diagnoseTokenError(err, o, skew);
      expect(p.kind).to.equal(kind);
      expect(p.fix).to.match(fix);
    });
  }
  it("a skew under the limit is not blamed", () => {
    expect(diagnoseTokenError({ error: "invalid_grant" }, o, CLOCK_SKEW_LIMIT_MS - 1000).kind).to.equal("consent");
  });
});

describe("OAuth2 certificate credentials (private_key_jwt, as Microsoft's certificate credentials)", function () {
  let tokens: TokenServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-cert-"));
    const pemKey = path.join(dir, "key.pem");
    const pemCert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", pemKey, "-out", pemCert, "-days", "1", "-subj", "/CN=ticketpost-test"],
      { stdio: "ignore" },
    );
    writeFileSync(path.join(dir, "both.pem"), readFileSync(pemCert, "utf8") + readFileSync(pemKey, "utf8"));
    const jwk = createPublicKey(readFileSync(pemCert, "utf8")).export({ format: "jwk" });
    tokens = await startTokenServer({
      accessTokenSeconds: 60,
      clients: [
        {
          clientId: "cert-app",
          clientSecret: "",
          jwks: { keys: [{ ...jwk, use: "sig", alg: "RS256" }] },
          grants: ["client_credentials"],
          mailbox: "support@example.test",
        },
      ],
    });
  });
  after(async () => {
    await tokens?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("obtains a token with an assertion signed by the certificate's key, and no secret", async () => {
    const cfg = {
      ...oauth2(tokens, "client_credentials"),
      clientId: "cert-app",
      clientSecret: null,
      certificateFile: path.join(dir, "both.pem"),
    };
    const source = new AccountLogins().sourceFor({ user: "support@example.test", password: null, oauth2: cfg, passwordEnv: "" })!;
    const token = await source.accessToken();
    expect((await tokens.introspect(token)).username).to.equal("support@example.test");
  });
});
