import { expect } from "chai";
import path from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { directoryOf } from "../../src/cli/gateway.js";

describe("config/ticketpost.example.json", () => {
  it("loads and validates with the passwords from the environment, and describes the three departments", () => {
    const config = loadConfig(path.resolve("config/ticketpost.example.json"), { TICKETPOST_IMAP_PASSWORD: "x", TICKETPOST_SMTP_PASSWORD: "y" });
    expect(config.departments.map((d) => d.id)).to.deep.equal(["it", "web", "consulting"]);
    expect(config.defaultDepartment).to.equal("it");
    expect(config.imap.tls.rejectUnauthorized).to.equal(true);
    const dir = directoryOf(config);
    expect(dir.departmentForAddress("support+web@example.com")?.department?.id).to.equal("web");
    expect(dir.departmentForAddress("beratung@example.com")?.department?.id).to.equal("consulting");
    expect(dir.isAgent("conny@example.com")).to.equal(true);
    expect(dir.languageFor("conny@example.com")).to.equal("de");
  });
});
