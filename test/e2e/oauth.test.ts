import { expect } from "chai";
import { execFileSync } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { startTokenServer, type TokenServer } from "../harness/token-server.js";
import { spawn } from "node:child_process";
import { CLI, MailWorld, requireDovecot, SUPPORT, waitFor } from "../helpers/mail-world.js";

/*
 * OAuth2 end to end: a real authorization server (oidc-provider) issuing tokens that live three
 * seconds, Dovecot validating XOAUTH2 / OAUTHBEARER by introspection and refusing the support
 * user's password, the SMTP relay accepting only XOAUTH2 for it, and `ticketpost start` as a
 * real process answering mail across many token lifetimes.
 */
const CUSTOMER = "olga@customer.test";
const CLIENT_SECRET = `cs-${Math.random().toString(36).slice(2)}-never-logged`;
const TOKEN_SECONDS = 3;

function mailCount(world: MailWorld, user: string, folder: string): number {
  const out = execFileSync(
    "doveadm",
    ["-c", path.join(world.dovecot.dir, "dovecot.conf"), "mailbox", "status", "-u", user, "messages", folder],
    { encoding: "utf8" },
  );
  return Number(/messages=(\d+)/.exec(out)?.[1] ?? "0");
}

async function worldWithTokens(grant: "client_credentials" | "refresh_token"): Promise<{ world: MailWorld; tokens: TokenServer }> {
  const tokens = await startTokenServer({
    accessTokenSeconds: TOKEN_SECONDS,
    clients: [
      { clientId: "ticketpost-app", clientSecret: CLIENT_SECRET, grants: ["client_credentials"], mailbox: SUPPORT },
      {
        clientId: "ticketpost-desk",
        clientSecret: CLIENT_SECRET,
        grants: ["refresh_token", "authorization_code", "urn:ietf:params:oauth:grant-type:device_code"],
      },
    ],
  });
  const oauth2 = {
    grant,
    clientId: grant === "client_credentials" ? "ticketpost-app" : "ticketpost-desk",
    tokenEndpoint: tokens.tokenEndpoint,
    authorizationEndpoint: tokens.authorizationEndpoint,
    deviceAuthorizationEndpoint: tokens.deviceAuthorizationEndpoint,
    scope: tokens.scope,
  };
  const world = await MailWorld.start(
    [CUSTOMER],
    {},
    "sqlite",
    {},
    {
      dovecot: { oauth2: { introspectionUrl: tokens.introspectionUrlWithCredentials, scope: tokens.scope, tokenOnly: [SUPPORT] } },
      relay: { oauth2: { introspect: (t) => tokens.introspect(t), tokenOnly: [SUPPORT] } },
    },
  );
  world.updateConfig((c) => {
    c.imap = { host: world.dovecot.host, port: world.dovecot.imapPort, secure: false, user: SUPPORT, schedule: "*/10 * * * * *", oauth2 };
    c.smtp = { host: world.relay.host, port: world.relay.port, secure: false, user: SUPPORT, oauth2 };
  });
  return { world, tokens };
}

/** Every secret and every token the server issued: none may appear in what Ticketpost wrote. */
function expectNoSecrets(text: string, tokens: TokenServer): void {
  expect(text).not.to.contain(CLIENT_SECRET);
  for (const t of tokens.issued) expect(text, "an issued token appears in the output").not.to.contain(t);
}

describe("end to end: OAuth2 client credentials (Microsoft 365 app-only style)", function () {
  let world: MailWorld;
  let tokens: TokenServer;
  const env = { TICKETPOST_OAUTH_CLIENT_SECRET: CLIENT_SECRET };

  before(async function () {
    requireDovecot(this);
    ({ world, tokens } = await worldWithTokens("client_credentials"));
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => {
    await world?.stop();
    await tokens?.stop();
  });

  it("the support user's password is refused by IMAP and SMTP; check passes with tokens", async () => {
    const withPassword = world.user(SUPPORT);
    const err = await withPassword.count("INBOX").then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/auth/i);
    const sent = await withPassword.send({ to: CUSTOMER, subject: "by password", text: "x" }).then(
      () => null,
      (e: Error) => e,
    );
    expect(sent?.message).to.contain("OAuth2");

    const r = await world.cli(["check"], env);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^ok\s+oauth2\s+client_credentials token for support@example\.test/m);
    expect(r.stdout).to.match(/^ok\s+imap\s+logged in as support@example\.test .* with OAuth2/m);
    expect(r.stdout).to.match(/^ok\s+smtp\s+greeting ok .* and XOAUTH2 as support@example\.test/m);
    expectNoSecrets(r.stdout + r.stderr, tokens);
  });

  it("the daemon answers mail across many token lifetimes and reconnects with a fresh token", async () => {
    const olga = world.user(CUSTOMER);
    const daemon = world.startDaemon(env);
    try {
      await waitFor("the daemon's IDLE", async () => daemon.log().includes("IMAP connected"), 20_000);
      const rounds = 5;
      for (let i = 0; i < rounds; i++) {
        await olga.send({ to: SUPPORT, subject: `Printer ${i}`, text: `Request ${i}` });
        await olga.waitForMail((m) => m.subject.includes(`Printer ${i}`), { timeoutMs: 30_000 });
        // Let the token expire, and drop the IMAP session as a server restart would: the login after it needs a new token.
        await new Promise((r) => setTimeout(r, TOKEN_SECONDS * 1000 + 500));
        if (i % 2 === 1) world.kickImapUser(SUPPORT);
      }
      expect(tokens.counts.client_credentials ?? 0, "tokens issued across the run").to.be.at.least(3);
      expect(mailCount(world, SUPPORT, "Processed")).to.equal(rounds);
      expectNoSecrets(daemon.log(), tokens);
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
    }
  });

  it("a wrong client secret: check names the problem and the fix; the mail waits in the inbox", async () => {
    await world.user(CUSTOMER).send({ to: SUPPORT, subject: "Waiting for a fix", text: "x" });
    const r = await world.cli(["check"], { TICKETPOST_OAUTH_CLIENT_SECRET: "wrong-secret" });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(
      /^FAIL\s+oauth2\s+wrong-client: imap: the token endpoint refused the client credentials of client ticketpost-app: invalid_client/m,
    );
    expect(r.stdout).to.contain("→ fix: check imap.oauth2.clientId");
    const poll = await world.cli(["poll-once", "--json"], { TICKETPOST_OAUTH_CLIENT_SECRET: "wrong-secret" });
    expect(poll.code).to.equal(1);
    expect(JSON.parse(poll.stdout).stoppedBy.code).to.equal("EOAUTH_REFUSED");
    await waitFor("the mail in the inbox", async () => mailCount(world, SUPPORT, "INBOX") === 1);
    const ok = await world.cli(["poll-once", "--json"], env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(JSON.parse(ok.stdout).byOutcome).to.deep.equal({ ticket_created: 1 });
  });
});

describe("end to end: OAuth2 refresh token with rotation, revocation and restart (Google / delegated style)", function () {
  let world: MailWorld;
  let tokens: TokenServer;
  let env: Record<string, string>;

  before(async function () {
    requireDovecot(this);
    ({ world, tokens } = await worldWithTokens("refresh_token"));
    expect((await world.cli(["migrate"])).code).to.equal(0);
    env = {
      TICKETPOST_OAUTH_CLIENT_SECRET: CLIENT_SECRET,
      TICKETPOST_IMAP_REFRESH_TOKEN: await tokens.issueRefreshToken("ticketpost-desk", SUPPORT),
    };
  });
  after(async () => {
    await world?.stop();
    await tokens?.stop();
  });

  const storedRefreshTokens = (): string[] => {
    const db = new Database(path.join(world.dir, "data", "ticketpost.sqlite"), { readonly: true });
    try {
      return (db.prepare(`SELECT value FROM gateway_setting WHERE key LIKE 'oauth2:%'`).all() as Array<{ value: string }>).map(
        (r) => JSON.parse(r.value).refreshToken,
      );
    } finally {
      db.close();
    }
  };

  it("keeps answering across refreshes; the rotated refresh token is stored and used after a restart", async () => {
    const olga = world.user(CUSTOMER);
    let daemon = world.startDaemon(env);
    try {
      for (let i = 0; i < 3; i++) {
        await olga.send({ to: SUPPORT, subject: `Laptop ${i}`, text: "x" });
        await olga.waitForMail((m) => m.subject.includes(`Laptop ${i}`), { timeoutMs: 30_000 });
        await new Promise((r) => setTimeout(r, TOKEN_SECONDS * 1000 + 500));
        world.kickImapUser(SUPPORT);
      }
      const stored = storedRefreshTokens();
      expect(stored).to.have.length(1);
      expect(stored[0], "the refresh token was rotated and stored").not.to.equal(env.TICKETPOST_IMAP_REFRESH_TOKEN);
      expect(daemon.log()).to.contain("OAuth2 refresh token rotated; the new one is stored");
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
    }
    // The environment still holds the first token, long spent: reusing it would revoke the grant.
    daemon = world.startDaemon(env);
    try {
      await olga.send({ to: SUPPORT, subject: "After the restart", text: "x" });
      await olga.waitForMail((m) => m.subject.includes("After the restart"), { timeoutMs: 30_000 });
      expect(daemon.log()).not.to.contain("OAuth2 token not obtained");
      expectNoSecrets(daemon.log(), tokens);
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
    }
  });

  it("a revoked grant: a clear line in the log, in status and in check; no mail is lost; a new consent carries on", async () => {
    const olga = world.user(CUSTOMER);
    const daemon = world.startDaemon(env);
    try {
      await waitFor("the daemon's IDLE", async () => daemon.log().includes("IMAP connected"), 20_000);
      expect(await tokens.revokeGrants(SUPPORT)).to.be.at.least(1);
      await new Promise((r) => setTimeout(r, TOKEN_SECONDS * 1000 + 500));
      world.kickImapUser(SUPPORT);
      await olga.send({ to: SUPPORT, subject: "During the revocation", text: "x" });
      await waitFor("the log line", async () => /OAuth2 token not obtained.*"kind":"consent"/.test(daemon.log()), 30_000);
      expect(daemon.log()).to.contain("ticketpost auth imap");

      const status = await world.cli(["status"], env);
      expect(status.code).to.equal(1);
      expect(status.stdout).to.match(/^mailbox\s+FAIL\s+EOAUTH_REFUSED: imap: the token endpoint refused the refresh token/m);
      const check = await world.cli(["check"], env);
      expect(check.stdout).to.match(/^FAIL\s+oauth2\s+consent:/m);
      expect(check.stdout).to.contain('→ fix: consent again: run "ticketpost auth imap"');
      expectNoSecrets(daemon.log() + status.stdout + check.stdout, tokens);
      await waitFor("the mail in the inbox", async () => mailCount(world, SUPPORT, "INBOX") === 1);
    } finally {
      daemon.child.kill("SIGTERM");
      await daemon.exited;
    }
    // A new consent (a new token in the environment) is taken over the stored, revoked one.
    env.TICKETPOST_IMAP_REFRESH_TOKEN = await tokens.issueRefreshToken("ticketpost-desk", SUPPORT);
    const again = world.startDaemon(env);
    try {
      await olga.waitForMail((m) => m.subject.includes("During the revocation"), { timeoutMs: 30_000 });
      expect(mailCount(world, SUPPORT, "INBOX")).to.equal(0);
    } finally {
      again.child.kill("SIGTERM");
      await again.exited;
    }
  });

  it("ticketpost auth: the device-code consent (Microsoft's way) is stored", async () => {
    await tokens.revokeGrants(SUPPORT);
    const noToken = { TICKETPOST_OAUTH_CLIENT_SECRET: CLIENT_SECRET };
    const child = spawn(process.execPath, [CLI, "auth", "imap", "--config", world.configPath], {
      env: { ...process.env, ...noToken },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    expect(
      await waitFor(
        "the code",
        async () => /enter the code (\S+)/.exec(err)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(err)) : null),
        20_000,
      ),
    ).to.match(/^[A-Z-]+$/);
    const complete = /\(or open (\S+)\)/.exec(err)![1];
    await tokens.signIn(complete, SUPPORT);
    expect(await exited, err).to.equal(0);
    expect(out).to.contain("consent stored for support@example.test (imap)");
    const check = await world.cli(["check"], noToken);
    expect(check.stdout).to.match(/^ok\s+oauth2\s+refresh_token token for support@example\.test/m);
  });

  for (const way of ["pasted", "loopback"] as const) {
    it(`ticketpost auth: the browser consent (address ${way}) is stored and used by the gateway, with no token in the environment`, async () => {
      await tokens.revokeGrants(SUPPORT);
      const noToken = { TICKETPOST_OAUTH_CLIENT_SECRET: CLIENT_SECRET };
      const child = spawn(process.execPath, [CLI, "auth", "imap", "--browser", "--config", world.configPath], {
        env: { ...process.env, ...noToken },
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (err += d));
      const exited = new Promise<number | null>((r) => child.on("close", r));
      const authUrl = await waitFor(
        "the printed address",
        async () => /^\s+(http\S+)$/m.exec(err)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(err)) : null),
        20_000,
      );
      const back = await tokens.signIn(authUrl, SUPPORT);
      expect(back).to.match(/^http:\/\/127\.0\.0\.1:\d+\/\?code=/);
      if (way === "pasted") child.stdin!.write(`${back}\n`);
      else await fetch(back);
      expect(await exited, err).to.equal(0);
      expect(out).to.contain("consent stored for support@example.test (imap)");
      expectNoSecrets(out + err, tokens);

      const daemon = world.startDaemon(noToken);
      try {
        await world.user(CUSTOMER).send({ to: SUPPORT, subject: `After consent ${way}`, text: "x" });
        await world.user(CUSTOMER).waitForMail((m) => m.subject.includes(`After consent ${way}`), { timeoutMs: 30_000 });
      } finally {
        daemon.child.kill("SIGTERM");
        await daemon.exited;
      }
    });
  }
});
