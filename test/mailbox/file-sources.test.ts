import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { importPosition, readMailFiles, type FileMail } from "../../src/mailbox/file-sources.js";

/** A small mail as a client saves it; `eol` picks CRLF (.eml from Windows clients) or LF (Unix). */
function mail(subject: string, opts: { id?: string; body?: string; eol?: string; inReplyTo?: string } = {}): string {
  const eol = opts.eol ?? "\r\n";
  return [
    "From: Carla Customer <carla@customer.test>",
    "To: support@example.test",
    `Subject: ${subject}`,
    `Message-ID: <${opts.id ?? subject.toLowerCase().replace(/\W+/g, "-")}@customer.test>`,
    ...(opts.inReplyTo ? [`In-Reply-To: <${opts.inReplyTo}>`] : []),
    "Date: Thu, 26 Nov 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    opts.body ?? "Hello, please help.",
    "",
  ].join(eol);
}

async function readAll(paths: string[]): Promise<FileMail[]> {
  const out: FileMail[] = [];
  for await (const m of readMailFiles(paths)) out.push(m);
  return out;
}

const mails = (items: FileMail[]) => items.filter((m): m is Extract<FileMail, { raw: Buffer }> => "raw" in m);
const subjects = (items: FileMail[]) => mails(items).map((m) => /^Subject: (.*)$/m.exec(m.raw.toString())![1].trim());

describe("mail file sources for import", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-files-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (rel: string, content: string | Buffer) => {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  };

  it("reads a single .eml file byte for byte, with a position in the import mailbox", async () => {
    const text = mail("VPN drops every hour");
    const file = write("single/vpn.eml", text);
    const [item] = await readAll([file]);
    expect(item).to.have.property("raw");
    const m = item as Extract<FileMail, { raw: Buffer }>;
    expect(m.raw.toString()).to.equal(text);
    expect(m.origin).to.equal(file);
    expect(m.position.mailbox).to.equal("import");
    expect(m.position.uidValidity).to.equal(0);
    expect(Number.isSafeInteger(m.position.uid)).to.equal(true);
    expect(m.position.uid).to.be.greaterThan(0);
  });

  it("reads new/ and cur/ of a Maildir in delivery order and never tmp/", async () => {
    const md = path.join(dir, "Maildir");
    write("Maildir/cur/1764151200.M1P100.mx1:2,S", mail("Laptop will not boot", { eol: "\n" }));
    write("Maildir/new/1764151800.M2P100.mx1", mail("Re: Laptop will not boot", { id: "laptop-2", eol: "\n" }));
    write("Maildir/cur/1764150000.M9P100.mx1:2,RS", mail("Printer jammed", { eol: "\n" }));
    write("Maildir/tmp/1764152000.M3P100.mx1", mail("Half-written delivery"));
    const items = await readAll([md]);
    expect(items.every((i) => "raw" in i)).to.equal(true);
    expect(subjects(items)).to.deep.equal(["Printer jammed", "Laptop will not boot", "Re: Laptop will not boot"]);
    expect(items.map((i) => i.origin)).to.deep.equal([
      path.join(md, "cur", "1764150000.M9P100.mx1:2,RS"),
      path.join(md, "cur", "1764151200.M1P100.mx1:2,S"),
      path.join(md, "new", "1764151800.M2P100.mx1"),
    ]);
  });

  it("splits an mbox into its messages and undoes mboxrd quoting of body lines starting with From", async () => {
    const box = [
      "From carla@customer.test Thu Nov 26 10:00:00 2026",
      mail("Shared drive is full", { eol: "\n" }),
      "From dan@customer.test Thu Nov 26 11:00:00 2026",
      mail("Quoting problem", {
        eol: "\n",
        body: "As I wrote yesterday:\n>From now on the backup runs at noon.\n>>From the old plan, nothing is left.",
      }),
      "From carla@customer.test Thu Nov 26 12:00:00 2026",
      mail("Re: Shared drive is full", { id: "drive-2", eol: "\n", inReplyTo: "shared-drive-is-full@customer.test" }),
    ].join("\n");
    const file = write("boxes/support.mbox", box);
    const items = await readAll([file]);
    expect(items.map((i) => i.origin)).to.deep.equal([`${file}#1`, `${file}#2`, `${file}#3`]);
    expect(subjects(items)).to.deep.equal(["Shared drive is full", "Quoting problem", "Re: Shared drive is full"]);
    const quoted = mails(items)[1].raw.toString();
    expect(quoted).to.contain("\nFrom now on the backup runs at noon.");
    expect(quoted).to.contain("\n>From the old plan, nothing is left.");
    expect(quoted).not.to.match(/^From carla@/m);
    for (const m of mails(items)) expect(m.raw.toString()).to.match(/^From: Carla Customer/);
  });

  it("reads an mbox written with CRLF line ends", async () => {
    const box = [
      "From carla@customer.test Thu Nov 26 10:00:00 2026",
      mail("Monitor flickers"),
      "From carla@customer.test Thu Nov 26 10:05:00 2026",
      mail("Keyboard missing keys"),
    ].join("\r\n");
    const items = await readAll([write("boxes/crlf.mbox", box)]);
    expect(subjects(items)).to.deep.equal(["Monitor flickers", "Keyboard missing keys"]);
  });

  it("takes an .eml that starts with a From_ envelope line as a one-message mbox", async () => {
    const file = write("envelope/saved.eml", "From - Thu Nov 26 10:00:00 2026\n" + mail("Saved by a desktop client", { eol: "\n" }));
    const items = await readAll([file]);
    expect(items.map((i) => i.origin)).to.deep.equal([`${file}#1`]);
    expect(mails(items)[0].raw.toString()).to.match(/^From: Carla/);
  });

  it("reads a folder of .eml files in name order and leaves other files alone", async () => {
    const folder = path.join(dir, "export");
    write("export/10.eml", mail("Tenth"));
    write("export/2.eml", mail("Second"));
    write("export/1.EML", mail("First"));
    write("export/notes.txt", "not a mail");
    write("export/.DS_Store", "junk");
    const items = await readAll([folder]);
    expect(subjects(items)).to.deep.equal(["First", "Second", "Tenth"]);
    expect(items).to.have.length(3);
  });

  it("yields an error item for a missing path, an empty file and a folder with no mail, and goes on", async () => {
    const ok = write("mixed/ok.eml", mail("Still imported"));
    const empty = write("mixed/empty.eml", "");
    const nothing = path.join(dir, "nothing-here");
    mkdirSync(nothing);
    const missing = path.join(dir, "does-not-exist.mbox");
    const items = await readAll([missing, empty, nothing, ok]);
    expect(items.map((i) => ("error" in i ? [i.origin, i.error] : [i.origin, "mail"]))).to.deep.equal([
      [missing, "no such file or folder"],
      [empty, "file is empty"],
      [nothing, "folder is neither a Maildir (no cur/ or new/) nor holds .eml files"],
      [ok, "mail"],
    ]);
  });

  it("gives the same bytes the same position wherever they lie, and different bytes another", async () => {
    const text = mail("Same mail twice");
    const a = write("copies/a/one.eml", text);
    const b = write("copies/b/renamed.eml", text);
    const c = write("copies/c/other.eml", mail("Same mail twice", { body: "One byte off." }));
    const [ma, mb, mc] = mails(await readAll([a, b, c]));
    expect(ma.position).to.deep.equal(mb.position);
    expect(mc.position.uid).not.to.equal(ma.position.uid);
    expect(importPosition(Buffer.from(text))).to.deep.equal(ma.position);
  });
});
