import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli, MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";

/** The real `ticketpost` process; no config from the environment unless a test sets one. */
const ticketpost = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { TICKETPOST_CONFIG: "", ...env } });

describe("ticketpost command line", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const writeConfig = (name: string, config: object) => {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(config));
    return file;
  };
  const minimal = () => ({
    supportAddress: "support@example.test",
    dataDir: path.join(dir, "data"),
    imap: { host: "127.0.0.1", port: 1, secure: false, user: "support@example.test", password: "imap-pw-never-logged" },
    smtp: { host: "127.0.0.1", port: 1 },
  });

  for (const cmd of [
    "start",
    "poll-once",
    "migrate",
    "tickets",
    "failed",
    "import",
    "ingest",
    "status",
    "check",
    "backup",
    "inspect",
    "addresses",
  ]) {
    it(`prints help for "${cmd} --help" and exits 0`, async () => {
      const r = await ticketpost([cmd, "--help"]);
      expect(r.code).to.equal(0);
      expect(r.stdout).to.contain(`ticketpost ${cmd}`);
    });
  }

  it("prints the command list for --help and exits 2 without a command", async () => {
    expect((await ticketpost(["--help"])).stdout).to.contain("poll-once");
    expect((await ticketpost([])).code).to.equal(2);
  });

  it("rejects an unknown command and an unknown option with exit code 2", async () => {
    const a = await ticketpost(["frobnicate", "--config", writeConfig("ok.json", minimal())]);
    expect(a.code).to.equal(2);
    expect(a.stderr).to.contain('unknown command "frobnicate"');
    const b = await ticketpost(["migrate", "--colour"]);
    expect(b.code).to.equal(2);
    expect(b.stderr).to.contain("--colour");
  });

  it("stops on a bad configuration value with one line naming the key", async () => {
    const cfg = minimal();
    (cfg.imap as Record<string, unknown>).port = 99999;
    const r = await ticketpost(["migrate", "--config", writeConfig("bad.json", cfg)]);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split("\n")).to.have.length(1);
    expect(r.stderr).to.contain("imap.port");
  });

  it("finds the config through TICKETPOST_CONFIG and asks for the IMAP password only where IMAP is used", async () => {
    const cfg = minimal();
    delete (cfg.imap as Record<string, unknown>).password;
    const file = writeConfig("env.json", cfg);
    const ok = await ticketpost(["migrate"], { TICKETPOST_CONFIG: file });
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.contain("up to date");
    const list = await ticketpost(["tickets", "list"], { TICKETPOST_CONFIG: file });
    expect(list.code, list.stderr).to.equal(0);
    const poll = await ticketpost(["poll-once"], { TICKETPOST_CONFIG: file });
    expect(poll.code).to.equal(1);
    expect(poll.stderr).to.contain("TICKETPOST_IMAP_PASSWORD");
  });

  it("says which ticket does not exist, with exit code 1", async () => {
    const file = writeConfig("ok2.json", minimal());
    expect((await ticketpost(["migrate", "--config", file])).code).to.equal(0);
    const r = await ticketpost(["tickets", "show", "T-404", "--config", file]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain("no ticket T-404");
    const list = await ticketpost(["tickets", "list", "--json", "--config", file]);
    expect(JSON.parse(list.stdout)).to.deep.equal([]);
  });

  it("refuses to run before `ticketpost migrate`, saying so", async () => {
    const cfg = minimal();
    cfg.dataDir = path.join(dir, "fresh");
    const r = await ticketpost(["tickets", "list", "--config", writeConfig("fresh.json", cfg)]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain("ticketpost migrate");
  });
});

describe("ticketpost command line against a real IMAP server", function () {
  let world: MailWorld;
  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start([]);
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  it("poll-once with a wrong IMAP password fails with EIMAP_AUTH, exit 1, and never prints the password", async () => {
    const r = await world.cli(["poll-once"], { TICKETPOST_IMAP_PASSWORD: "wrong-password-xyz" });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain("EIMAP_AUTH");
    expect(r.stderr).not.to.contain("wrong-password-xyz");
    expect(r.stderr).not.to.contain(world.dovecot.password);
  });

  it("poll-once creates the Processed and Failed folders when they are missing", async () => {
    const r = await world.cli(["poll-once"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(await world.user(SUPPORT).folders()).to.include.members(["INBOX", "Processed", "Failed"]);
  });
});
