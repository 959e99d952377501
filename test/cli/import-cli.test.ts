import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../helpers/mail-world.js";

const ticketpost = (args: string[]) => runCli(args);

const eml = (n: number, extra = "") =>
  `From: Old Customer <old${n}@customer.test>\nTo: support@example.test\nSubject: Backlog request ${n}\nMessage-ID: <backlog-${n}@customer.test>\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n${extra}\nRequest ${n}.\n`;

describe("ticketpost import as a real process: a Maildir and an mbox, twice", () => {
  let dir: string;
  let config: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-import-"));
    for (const sub of ["new", "cur", "tmp"]) mkdirSync(path.join(dir, "Maildir", sub), { recursive: true });
    writeFileSync(path.join(dir, "Maildir", "cur", "1700000001.M1P1.host:2,S"), eml(1));
    writeFileSync(path.join(dir, "Maildir", "new", "1700000002.M2P1.host"), eml(2));
    writeFileSync(path.join(dir, "Maildir", "tmp", "1700000003.M3P1.host"), eml(3));
    writeFileSync(
      path.join(dir, "archive.mbox"),
      [
        "From old4@customer.test Mon Mar  3 10:00:00 2025",
        eml(4),
        "",
        "From old1@customer.test Mon Mar  3 11:00:00 2025",
        eml(5, "In-Reply-To: <backlog-1@customer.test>\n"),
        "",
      ].join("\n"),
    );
    config = path.join(dir, "ticketpost.json");
    writeFileSync(
      config,
      JSON.stringify({
        supportAddress: "support@example.test",
        dataDir: path.join(dir, "data"),
        imap: { host: "127.0.0.1", user: "support@example.test", password: "x" },
        smtp: { host: "127.0.0.1", port: 1 },
      }),
    );
    expect((await ticketpost(["migrate", "--config", config])).code).to.equal(0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("imports the mails (tmp/ skipped), threads the reply, queues no mail to old customers, and says what it did", async () => {
    const r = await ticketpost(["import", path.join(dir, "Maildir"), path.join(dir, "archive.mbox"), "--json", "--config", config]);
    expect(r.code, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout);
    expect(s).to.include({ created: 3, replies: 1, alreadyImported: 0 });
    expect(s.failed).to.deep.equal([]);
    const list = JSON.parse((await ticketpost(["tickets", "list", "--json", "--config", config])).stdout);
    expect(list.map((t: { title: string }) => t.title)).to.deep.equal(["Backlog request 1", "Backlog request 2", "Backlog request 4"]);
    const first = JSON.parse((await ticketpost(["tickets", "show", "1", "--json", "--config", config])).stdout);
    expect(first.messages.filter((m: { direction: string }) => m.direction === "inbound")).to.have.length(2);
    expect(first.messages.filter((m: { direction: string }) => m.direction === "outbound")).to.have.length(0);
  });

  it("importing the same paths again changes nothing", async () => {
    const r = await ticketpost(["import", path.join(dir, "Maildir"), path.join(dir, "archive.mbox"), "--config", config]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/0 tickets created/);
    expect(r.stdout).to.match(/4 already imported/);
    const list = JSON.parse((await ticketpost(["tickets", "list", "--json", "--config", config])).stdout);
    expect(list).to.have.length(3);
  });

  it("reports a path that cannot be read, with exit code 1", async () => {
    const r = await ticketpost(["import", path.join(dir, "missing.mbox"), "--config", config]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.contain("EREAD");
  });
});
