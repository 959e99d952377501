import { expect } from "chai";
import Database from "better-sqlite3";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { runCli } from "../helpers/mail-world.js";
import { customerMail, deliveryReport, ScratchInstall } from "./scratch-install.js";

const LIMIT = 4096;

/** A mail of exactly `size` bytes: the body is padded to fill it. */
function mailOfSize(size: number, id: string): string {
  const head = customerMail({ from: "Dora Driver <dora@customer.test>", subject: `Sized mail ${id}`, id, body: "" });
  const room = size - Buffer.byteLength(head);
  if (room < 0) throw new Error("size too small for the headers");
  const line = "x".repeat(70) + "\r\n";
  const body = line.repeat(Math.floor(room / line.length)) + "y".repeat(room % line.length);
  return head + body;
}

describe("ticketpost ingest as a mail server's pipe runs it", () => {
  let install: ScratchInstall;
  const db = () => new Database(path.join(install.dataDir, "ticketpost.sqlite"), { readonly: true });
  const count = (table: string) => {
    const d = db();
    try {
      return (d.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      d.close();
    }
  };
  const blobs = () => {
    const dir = path.join(install.dataDir, "blobs");
    return existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((f) => !String(f).endsWith("/")).length : 0;
  };

  before(async () => {
    install = new ScratchInstall({ maxMessageBytes: LIMIT });
    expect((await install.cli(["migrate"])).code).to.equal(0);
  });
  after(() => install?.remove());

  it("refuses a mail over maxMessageBytes with 65 and one line, having read it to the end and created nothing", async () => {
    // Far beyond a pipe's buffer: a program that stops reading early makes the mail server's write fail.
    const big = mailOfSize(300 * 1024, "big-1@customer.test");
    const r = await install.cli(["ingest", "--no-send"], big);
    expect(r.code).to.equal(65);
    expect(r.stderr).to.equal(`ticketpost: EOVERSIZE: mail is ${Buffer.byteLength(big)} bytes; the limit is ${LIMIT} (maxMessageBytes)\n`);
    expect(r.stdout).to.equal("");
    expect({ receipts: count("mail_receipt"), tickets: count("ticket"), blobs: blobs() }).to.deep.equal({
      receipts: 0,
      tickets: 0,
      blobs: 0,
    });
    expect(await install.json(["failed", "list"])).to.deep.equal([]);
  });

  it("accepts a mail of exactly maxMessageBytes and refuses one byte more", async () => {
    const over = await install.cli(["ingest", "--no-send"], mailOfSize(LIMIT + 1, "edge-2@customer.test"));
    expect(over.code).to.equal(65);
    expect(over.stderr).to.contain("EOVERSIZE");
    const exact = await install.cli(["ingest", "--no-send"], mailOfSize(LIMIT, "edge-1@customer.test"));
    expect(exact.code, exact.stderr).to.equal(0);
    const list = await install.json<Array<{ title: string }>>(["tickets", "list"]);
    expect(list.map((t) => t.title)).to.deep.equal(["Sized mail edge-1@customer.test"]);
    expect(count("mail_receipt")).to.equal(1);
  });

  it("takes a delivery report about our acknowledgement as a report: exit 0, no ticket, nothing in failed list", async () => {
    const ticket = await install.json<{ messages: Array<{ direction: string; messageId: string; to: string[]; subject: string }> }>([
      "tickets",
      "show",
      "1",
    ]);
    const ack = ticket.messages.find((m) => m.direction === "outbound" && m.to.includes("dora@customer.test"))!;
    expect(ack, "the acknowledgement to the requester").to.not.equal(undefined);
    const dsn = deliveryReport(
      { messageId: ack.messageId, recipient: "dora@customer.test", subject: ack.subject },
      { id: "dsn-ingest-1@mx.customer.test", action: "failed", mta: "mx.customer.test" },
    );
    const r = await install.cli(["ingest", "--no-send"], dsn);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.not.contain("ticketpost:");
    expect(await install.json<unknown[]>(["tickets", "list"])).to.have.length(1);
    expect(await install.json(["failed", "list"])).to.deep.equal([]);
    const flags = await install.json<Array<{ address: string; permanent: boolean }>>(["addresses", "list"]);
    expect(flags.map((f) => [f.address, f.permanent])).to.deep.equal([["dora@customer.test", true]]);
  });

  it("keeps the mail queued (75) when the alias line or the configuration is broken, rather than bouncing it", async () => {
    const mail = customerMail({
      from: "Dora Driver <dora@customer.test>",
      subject: "Broken alias",
      id: "alias-1@customer.test",
      body: "Hello.",
    });
    const typo = await install.cli(["ingest", "--no-sned"], mail);
    expect(typo.code).to.equal(75);
    expect(typo.stderr).to.match(/^ticketpost: EUSAGE: ingest: unknown option --no-sned/);
    const badConfig = install.file("broken.json", "{ not json");
    const r = await runCli(["ingest", "--config", badConfig], { env: { TICKETPOST_CONFIG: "" }, input: mail });
    expect(r.code).to.equal(75);
    expect(r.stderr.trim().split("\n")).to.have.length(1);
    expect(r.stderr).to.match(/^ticketpost: ECONFIG: /);
  });
});
