import { expect } from "chai";
import path from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { directoryOf } from "../../src/cli/gateway.js";

describe("config/ticketpost.example.json", () => {
  it("loads and validates with the passwords from the environment, and describes the three departments; SMTP without login", () => {
    const config = loadConfig(path.resolve("config/ticketpost.example.json"), {
      TICKETPOST_IMAP_PASSWORD: "x",
      TICKETPOST_SMTP_PASSWORD: "y",
    });
    expect(config.departments.map((d) => d.id)).to.deep.equal(["it", "web", "consulting"]);
    expect(config.defaultDepartment).to.equal("it");
    expect(config.imap.tls.rejectUnauthorized).to.equal(true);
    expect(config.smtp.user, "no user: no SMTP authentication").to.equal(null);
    const dir = directoryOf(config);
    expect(dir.departmentForAddress("support+web@example.com")?.department?.id).to.equal("web");
    expect(dir.departmentForAddress("beratung@example.com")?.department?.id).to.equal("consulting");
    expect(dir.isAgent("conny@example.com")).to.equal(true);
    expect(dir.languageFor("conny@example.com")).to.equal("de");
  });
});

describe("config/ticketpost.microsoft365.json and config/ticketpost.google.json", () => {
  it("Microsoft 365: two mailboxes, app-only OAuth2 with one client secret, web@ sending as itself, exchange-online agents", () => {
    const c = loadConfig(path.resolve("config/ticketpost.microsoft365.json"), { TICKETPOST_OAUTH_CLIENT_SECRET: "s" });
    expect(c.mailboxes.map((m) => [m.id, m.host, m.oauth2?.grant, m.oauth2?.clientSecret])).to.deep.equal([
      ["it", "outlook.office365.com", "client_credentials", "s"],
      ["web", "outlook.office365.com", "client_credentials", "s"],
    ]);
    expect(c.mailboxes[1].smtp?.host).to.equal("smtp.office365.com");
    expect(c.agentAuth.mode).to.equal("exchange-online");
  });

  it("Google: refresh-token grant with the Gmail scope, google-workspace agents", () => {
    const c = loadConfig(path.resolve("config/ticketpost.google.json"), {});
    expect(c.imap.oauth2).to.include({ grant: "refresh_token", scope: "https://mail.google.com/" });
    expect(c.smtp).to.include({ host: "smtp.gmail.com", port: 465 });
    expect(c.agentAuth.mode).to.equal("google-workspace");
  });
});
