import { expect } from "chai";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { AccountLogins } from "../../src/auth/logins.js";
import { checkSmtp } from "../../src/auth/account-checks.js";
import type { SmtpConfig } from "../../src/config/schema.js";

/** A relay on the local network that takes mail without AUTH and refuses every login ("535 Authentication not implemented"). */
async function relayWithoutAuth(): Promise<{ port: number; stop(): Promise<void> }> {
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    allowInsecureAuth: true,
    onData: (s, _x, cb) => s.resume().on("end", () => cb()),
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.server.address() as AddressInfo).port, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("check: SMTP against a relay without authentication", () => {
  let relay: Awaited<ReturnType<typeof relayWithoutAuth>>;
  before(async () => (relay = await relayWithoutAuth()));
  after(async () => relay.stop());
  const cfg = (user: string | null): SmtpConfig => ({
    host: "127.0.0.1",
    port: relay.port,
    secure: false,
    user,
    password: user ? "pw" : null,
    tls: { rejectUnauthorized: true },
    oauth2: null,
    passwordEnv: "TICKETPOST_SMTP_PASSWORD",
  });

  it("without smtp.user: ok, and the line says that no authentication is used", async () => {
    const [line] = await checkSmtp("smtp", "smtp", cfg(null), new AccountLogins());
    expect(line.ok, line.detail).to.equal(true);
    expect(line.detail).to.contain("no authentication (smtp.user is not set)");
  });

  it("with smtp.user: FAIL, and the fix says to leave smtp.user out", async () => {
    const [line] = await checkSmtp("smtp", "smtp", cfg("support@example.com"), new AccountLogins());
    expect(line.ok).to.equal(false);
    expect(line.fix).to.contain("leave smtp.user out (no user means no authentication)");
  });

  it("with smtp.user and no password: FAIL before connecting, naming the variable", async () => {
    const [line] = await checkSmtp("smtp", "smtp", { ...cfg("support@example.com"), password: null }, new AccountLogins());
    expect(line.ok).to.equal(false);
    expect(line.fix).to.contain("TICKETPOST_SMTP_PASSWORD");
  });
});
