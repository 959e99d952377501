import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatImportSummary, runImport, terminalProgress, type ImportSummary } from "../../src/cli/import.js";
import { MailReceipt, Message, Ticket } from "../../src/db/entities.js";
import { ENGINES } from "../helpers/databases.js";
import { createTestGateway, type TestGateway } from "../helpers/context.js";

interface MailFields {
  from?: string | null;
  subject: string;
  id: string;
  date: string;
  inReplyTo?: string;
  body: string;
  eol?: string;
}

/** A small mail as a client writes it; Maildir and mbox files on Unix hold LF, .eml from Windows CRLF. */
function mail(m: MailFields): string {
  return [
    ...(m.from === null ? [] : [`From: ${m.from ?? "Carla Customer <carla@customer.test>"}`]),
    "To: ACME Support <support@example.test>",
    `Subject: ${m.subject}`,
    `Message-ID: <${m.id}>`,
    ...(m.inReplyTo ? [`In-Reply-To: <${m.inReplyTo}>`, `References: <${m.inReplyTo}>`] : []),
    `Date: ${m.date}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    m.body,
    "",
  ].join(m.eol ?? "\n");
}

const printer: MailFields = {
  subject: "Printer on floor 2 is jammed",
  id: "printer-1@customer.test",
  date: "Mon, 02 Nov 2026 08:12:00 +0100",
  body: "It shows error E-42 since this morning.",
};
const broken: MailFields = {
  from: null,
  subject: "Forwarded without a sender",
  id: "nosender-1@customer.test",
  date: "Mon, 02 Nov 2026 09:00:00 +0100",
  body: "Somebody's script lost the From line.",
};
const vpn: MailFields = {
  from: "Dan Driver <dan@customer.test>",
  subject: "VPN drops every hour",
  id: "vpn-1@customer.test",
  date: "Tue, 03 Nov 2026 14:30:00 +0100",
  body: "The tunnel drops at :00 each hour.",
};
const drive: MailFields = {
  from: "Erik Engel <erik@customer.test>",
  subject: "Shared drive is full",
  id: "drive-1@customer.test",
  date: "Wed, 04 Nov 2026 10:00:00 +0100",
  body: "Drive S: has 0 bytes free.",
};
const laptop: MailFields = {
  from: "Frida Frost <frida@customer.test>",
  subject: "New laptop for Frida",
  id: "laptop-1@customer.test",
  date: "Wed, 04 Nov 2026 11:15:00 +0100",
  body: "Starting on Monday, needs a laptop.\nFrom the list: the 14-inch model.",
};
const driveReply: MailFields = {
  from: "Erik Engel <erik@customer.test>",
  subject: "Re: Shared drive is full",
  id: "drive-2@customer.test",
  inReplyTo: "drive-1@customer.test",
  date: "Wed, 04 Nov 2026 16:40:00 +0100",
  body: "Now it is the T: drive too.",
};

const sum = (s: ImportSummary) => s.created + s.replies + s.duplicates + s.alreadyImported + s.ignored + s.reports.length + s.failed.length;

for (const engine of ENGINES) {
  describe(`ticketpost import: Maildir and mbox through the pipeline (${engine})`, () => {
    let gw: TestGateway;
    let dir: string;
    let maildir: string;
    let mbox: string;
    const write = (rel: string, content: string) => {
      const file = path.join(dir, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    };
    const tickets = () => gw.ctx.db.getRepository(Ticket).find({ order: { id: "ASC" } });

    before(async () => {
      gw = await createTestGateway(engine);
      dir = mkdtempSync(path.join(os.tmpdir(), "tp-import-"));
      maildir = path.join(dir, "Maildir");
      write("Maildir/cur/1793603520.M1P4711.mx1:2,S", mail(printer));
      write("Maildir/cur/1793606400.M2P4711.mx1:2,S", mail(broken));
      write("Maildir/new/1793712600.M3P4711.mx1", mail(vpn));
      mkdirSync(path.join(maildir, "tmp"));
      // mboxrd: the body line "From the list" is stored quoted as ">From the list".
      const quoted = (m: MailFields) => mail(m).replace(/^(>*From )/gm, ">$1");
      mbox = write(
        "archive/support.mbox",
        [
          `From erik@customer.test Wed Nov  4 10:00:00 2026\n${mail(drive)}`,
          `From frida@customer.test Wed Nov  4 11:15:00 2026\n${quoted(laptop)}`,
          `From erik@customer.test Wed Nov  4 16:40:00 2026\n${mail(driveReply)}`,
        ].join("\n"),
      );
    });
    after(async () => {
      await gw?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("creates a ticket for each request, threads the reply, and reports the mail without a sender", async () => {
      const seen: Array<[number, string]> = [];
      const s = await runImport(gw.ctx, [maildir, mbox], { progress: (done, current) => seen.push([done, current]) });

      expect(s.failed).to.have.length(1);
      expect(s.failed[0].origin).to.equal(path.join(maildir, "cur", "1793606400.M2P4711.mx1:2,S"));
      expect(s.failed[0].code).to.equal("EPARSE");
      expect(s.failed[0].reason).to.contain("no sender");
      expect({
        files: s.files,
        created: s.created,
        replies: s.replies,
        duplicates: s.duplicates,
        alreadyImported: s.alreadyImported,
        ignored: s.ignored,
        stoppedBy: s.stoppedBy,
      }).to.deep.equal({ files: 6, created: 4, replies: 1, duplicates: 0, alreadyImported: 0, ignored: 0, stoppedBy: null });
      expect(seen.map(([done]) => done)).to.deep.equal([1, 2, 3, 4, 5, 6]);
      expect(seen[5][1]).to.equal(`${mbox}#3`);

      const all = await tickets();
      expect(all.map((t) => [t.title, t.requesterAddress])).to.deep.equal([
        ["Printer on floor 2 is jammed", "carla@customer.test"],
        ["VPN drops every hour", "dan@customer.test"],
        ["Shared drive is full", "erik@customer.test"],
        ["New laptop for Frida", "frida@customer.test"],
      ]);
      expect(all[3].description).to.contain("From the list: the 14-inch model.");
      expect(all[3].description).not.to.contain(">From the list");

      const driveMessages = await gw.ctx.db
        .getRepository(Message)
        .find({ where: { ticketId: all[2].id, direction: "inbound" }, order: { id: "ASC" } });
      expect(driveMessages.map((m) => m.messageId)).to.deep.equal(["drive-1@customer.test", "drive-2@customer.test"]);

      const failedReceipt = await gw.ctx.db.getRepository(MailReceipt).findOneByOrFail({ outcome: "failed" });
      expect([failedReceipt.mailbox, failedReceipt.uidValidity, failedReceipt.errorCode]).to.deep.equal(["import", 0, "EPARSE"]);
    });

    it("changes nothing when the same paths are imported again", async () => {
      const before = await tickets();
      const messages = await gw.ctx.db.getRepository(Message).count();
      const s = await runImport(gw.ctx, [maildir, mbox], {});
      expect(s).to.deep.equal({
        files: 6,
        created: 0,
        replies: 0,
        duplicates: 0,
        alreadyImported: 6,
        ignored: 0,
        reports: [],
        failed: [],
        stoppedBy: null,
      });
      expect(await tickets()).to.deep.equal(before);
      expect(await gw.ctx.db.getRepository(Message).count()).to.equal(messages);
    });

    it("knows the same bytes under another name, and a known Message-ID in other bytes as a duplicate", async () => {
      const copy = write("elsewhere/printer-copy.eml", mail(printer));
      const crlf = write("windows-export/vpn.eml", mail({ ...vpn, eol: "\r\n" }));
      const s = await runImport(gw.ctx, [copy, crlf], {});
      expect(s).to.include({ files: 2, created: 0, alreadyImported: 1, duplicates: 1 });
      expect(s.failed).to.deep.equal([]);
      expect(await tickets()).to.have.length(4);
    });

    it("reports a path it cannot read and imports the others", async () => {
      const missing = path.join(dir, "no-such.mbox");
      const fresh = write(
        "more/keyboard.eml",
        mail({
          subject: "Keyboard misses the Q key",
          id: "kbd-1@customer.test",
          date: "Thu, 05 Nov 2026 09:00:00 +0100",
          body: "Q does nothing.",
          eol: "\r\n",
        }),
      );
      const s = await runImport(gw.ctx, [missing, fresh], {});
      expect(s.failed).to.deep.equal([{ origin: missing, code: "EREAD", reason: "no such file or folder" }]);
      expect(s.created).to.equal(1);
      expect(sum(s)).to.equal(s.files);
      expect((await tickets()).at(-1)!.title).to.equal("Keyboard misses the Q key");
    });

    it("stops, recording nothing, when the database cannot be reached, so that a rerun continues there", async () => {
      const down = await createTestGateway(engine);
      try {
        await down.ctx.db.destroy();
        const s = await runImport(down.ctx, [maildir, mbox], {});
        expect(s.files).to.equal(1);
        expect(s.stoppedBy).to.not.equal(null);
        expect(s.stoppedBy!.origin).to.equal(path.join(maildir, "cur", "1793603520.M1P4711.mx1:2,S"));
        expect(s.failed).to.deep.equal([s.stoppedBy]);
        expect(formatImportSummary(s)).to.contain("run the same import again");
      } finally {
        await down.close();
      }
    });
  });
}

describe("import summary and progress output", () => {
  it("prints the counts and one line per failed mail", () => {
    const text = formatImportSummary({
      files: 13,
      created: 9,
      replies: 2,
      duplicates: 1,
      alreadyImported: 0,
      ignored: 0,
      stoppedBy: null,
      reports: [],
      failed: [
        {
          origin: "Maildir/cur/1793606400.M2P4711.mx1:2,S",
          code: "EPARSE",
          reason: "mail names no sender (no usable From or Reply-To address)",
        },
      ],
    });
    expect(text).to.equal(
      [
        "read 13 mail(s): 9 tickets created, 2 replies threaded, 1 skipped as duplicate, 0 already imported; 1 failed:",
        "  Maildir/cur/1793606400.M2P4711.mx1:2,S: EPARSE mail names no sender (no usable From or Reply-To address)",
        "",
      ].join("\n"),
    );
    expect(
      formatImportSummary({
        files: 1,
        created: 1,
        replies: 0,
        duplicates: 0,
        alreadyImported: 0,
        ignored: 0,
        reports: [],
        failed: [],
        stoppedBy: null,
      }),
    ).to.equal("read 1 mail(s): 1 ticket created, 0 replies threaded, 0 skipped as duplicate, 0 already imported; none failed\n");
  });

  it("draws progress only on a terminal, on one line, and clears it at the end", () => {
    const written: string[] = [];
    const fake = (isTTY: boolean) => ({ isTTY, columns: 40, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
    expect(terminalProgress(fake(false))).to.equal(undefined);

    const progress = terminalProgress(fake(true))!;
    progress(1, "/srv/migration/old-helpdesk/Maildir/cur/1793603520.M1P4711.mx1:2,S");
    progress.finish();
    expect(written[0].startsWith("\r")).to.equal(true);
    expect(written[0]).not.to.contain("\n");
    const visible = written[0].replaceAll("\x1b[K", "").replaceAll("\r", "");
    expect(visible.length).to.be.at.most(39);
    expect(visible).to.match(/^importing: 1 mail\(s\) …/);
    expect(visible.endsWith("mx1:2,S")).to.equal(true);
    expect(written.at(-1)).to.equal("\r\x1b[K");
  });
});
