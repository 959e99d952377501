import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { drainDeps } from "../../src/cli/gateway.js";
import { BlobStore } from "../../src/db/blob-store.js";
import { MailReceipt, Message, Ticket } from "../../src/db/entities.js";
import { drainMailbox, type DrainDeps } from "../../src/mailbox/drain.js";
import type { FetchedMail, MailSource } from "../../src/mailbox/imap-mailbox.js";
import { processMails } from "../../src/tickets/batch.js";
import type { GatewayContext } from "../../src/tickets/context.js";
import { Directory } from "../../src/tickets/directory.js";
import { processMail } from "../../src/tickets/pipeline.js";
import { readInProcess, ReadingThread, type ReadResult } from "../../src/tickets/read-thread.js";
import { silentLogger } from "../../src/shared/logger.js";
import { createTestGateway, nextPosition, rawMail, type TestGateway } from "../helpers/context.js";
import { ENGINES } from "../helpers/databases.js";
import { makeDirectory } from "../helpers/workflow-world.js";

/*
 * Attempts to break the reading thread, group commit and the drain with mails and situations
 * written here, as a newcomer would. Four of them broke when written, and were fixed: a forwarded
 * mail with an unreadable Date got the time of parsing (a new text and fingerprint on each read);
 * a read pending when the thread was closed never settled; on PostgreSQL a NUL in a Subject
 * stopped the mailbox (text columns cannot hold it); a blob folder removed after it was made
 * turned the next mail into a permanent parse failure. Each has its test below.
 */

const crlf = (lines: string[]) => Buffer.from(lines.join("\r\n"));
const b64 = (b: Buffer) => (b.toString("base64").match(/.{1,76}/g) ?? []).join("\r\n");
const HEAD = ["From: Ana <ana@customer.test>", "To: support@example.test", "Subject: Odd mail", "MIME-Version: 1.0"];

/** A TNEF stream built by hand ([MS-OXTNEF]): a body and one file whose title is "__proto__". */
function tnef(): Buffer {
  const attr = (level: number, id: number, type: number, value: Buffer) => {
    const head = Buffer.alloc(9);
    head[0] = level;
    head.writeUInt32LE(((type << 16) | id) >>> 0, 1);
    head.writeUInt32LE(value.length, 5);
    const sum = Buffer.alloc(2);
    sum.writeUInt16LE(value.reduce((s, x) => (s + x) & 0xffff, 0));
    return Buffer.concat([head, value, sum]);
  };
  const sig = Buffer.alloc(6);
  sig.writeUInt32LE(0x223e9f78, 0);
  sig.writeUInt16LE(1, 4);
  return Buffer.concat([
    sig,
    attr(1, 0x800c, 0x0001, Buffer.from("Body inside winmail.dat\0")),
    attr(2, 0x9002, 0x0006, Buffer.alloc(14)),
    attr(2, 0x8010, 0x0001, Buffer.from("__proto__\0")),
    attr(2, 0x800f, 0x0006, Buffer.from("bytes of the file in TNEF")),
  ]);
}

/** A mail that forwards another whose Date header cannot be read. */
function forwardWithBadDate(messageId: string | null): Buffer {
  return crlf([
    "From: Ana <ana@customer.test>",
    "To: support@example.test",
    "Subject: Fwd: the error",
    ...(messageId ? [`Message-ID: <${messageId}>`] : []),
    "Date: Thu, 26 Nov 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="fw"',
    "",
    "--fw",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "See the mail below.",
    "--fw",
    "Content-Type: message/rfc822",
    "",
    "From: Bob <bob@vendor.test>",
    "Subject: the error",
    "Date: sometime last week",
    "",
    "E-42 again.",
    "--fw--",
    "",
  ]);
}

/** Hand-built mails that could read differently in the thread or not survive the copy back. */
function oddMails(): Record<string, Buffer> {
  return {
    "0 bytes": Buffer.alloc(0),
    "only headers, no body": crlf(["From: a@customer.test", "Subject: only headers"]),
    "NUL bytes in the body": Buffer.concat([crlf([...HEAD, "", "before"]), Buffer.from([0, 0, 0]), Buffer.from("after\r\n")]),
    "30000 header fields": crlf([...HEAD, ...Array.from({ length: 30000 }, (_, i) => `X-Field-${i}: v${i}`), "", "body"]),
    "unreadable Date": crlf([...HEAD, "Date: the day before yesterday", "", "b"]),
    "Date in year 275760": crlf([...HEAD, "Date: Sat, 13 Sep 275760 00:00:00 GMT", "", "b"]),
    "Date in year -271821": crlf([...HEAD, "Date: -271821-04-20T00:00:00Z", "", "b"]),
    "hand-built TNEF": crlf([
      ...HEAD,
      'Content-Type: multipart/mixed; boundary="t"',
      "",
      "--t",
      "Content-Type: application/ms-tnef; name=winmail.dat",
      "Content-Transfer-Encoding: base64",
      "",
      b64(tnef()),
      "--t--",
      "",
    ]),
    "S/MIME-looking junk": crlf([
      ...HEAD,
      "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m",
      "Content-Transfer-Encoding: base64",
      "",
      b64(Buffer.from([0x30, 0x82, 0xff, 0xff, 1, 2, 3])),
      "",
    ]),
    "attachment named __proto__": crlf([
      ...HEAD,
      'Content-Type: multipart/mixed; boundary="p"',
      "",
      "--p",
      "Content-Type: text/plain",
      "",
      "x",
      "--p",
      'Content-Type: application/octet-stream; name="__proto__"',
      "Content-Disposition: attachment; filename=__proto__",
      "",
      "data",
      "--p--",
      "",
    ]),
    "message/rfc822 in message/rfc822 with a 300 kB image": crlf([
      ...HEAD,
      'Content-Type: multipart/mixed; boundary="o"',
      "",
      "--o",
      "Content-Type: message/rfc822",
      "",
      "From: x@vendor.test",
      "Subject: level 1",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="i"',
      "",
      "--i",
      "Content-Type: message/rfc822",
      "",
      "From: z@vendor.test",
      "Subject: level 2",
      "",
      "deep",
      "--i",
      "Content-Type: image/png; name=a.png",
      "Content-Transfer-Encoding: base64",
      "",
      b64(Buffer.alloc(300_000, 5)),
      "--i--",
      "",
      "--o--",
      "",
    ]),
    "3.9 MB, just under the spool threshold": crlf([
      ...HEAD,
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "big",
      "--b",
      "Content-Type: application/octet-stream; name=big.bin",
      "Content-Transfer-Encoding: base64",
      "",
      b64(Buffer.alloc(2_900_000, 9)),
      "--b--",
      "",
    ]),
  };
}

function threadFor(ctx: GatewayContext, blobsRoot: string): ReadingThread {
  return new ReadingThread({ ...ctx, blobs: new BlobStore(blobsRoot) }, ctx.logger);
}

function comparable(r: ReadResult): unknown {
  const { buffer: _b, ...received } = r.received;
  const read = structuredClone(r.read);
  if (read.kind === "mail") for (const a of read.msg.attachments) delete a.content;
  return { received, read };
}

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  try {
    walk(root);
  } catch {
    // no store yet
  }
  return out.sort();
}

/** An in-memory IMAP folder set: INBOX, Processed, Failed. */
class MemoryMailbox implements MailSource {
  readonly mailbox = "INBOX";
  readonly folders: Record<string, Map<number, Buffer>> = { INBOX: new Map(), Processed: new Map(), Failed: new Map() };

  constructor(raws: Buffer[]) {
    raws.forEach((r, i) => this.folders.INBOX.set(i + 1, r));
  }
  async listUids(): Promise<number[]> {
    return [...this.folders.INBOX.keys()];
  }
  async fetch(uids: number[]): Promise<FetchedMail[]> {
    return uids
      .filter((u) => this.folders.INBOX.has(u))
      .map((uid) => ({ position: { mailbox: this.mailbox, uidValidity: 7, uid }, raw: this.folders.INBOX.get(uid)! }));
  }
  async move(uids: number[], folder: string): Promise<void> {
    for (const u of uids) {
      this.folders[folder].set(u, this.folders.INBOX.get(u)!);
      this.folders.INBOX.delete(u);
    }
  }
  async close(): Promise<void> {}
}

const CFG = { batchSize: 4, processedFolder: "Processed", failedFolder: "Failed" };

/** What a user checks after a drain: the inbox is empty, and each mail has exactly one receipt, a ticket or a reasoned failure. */
async function expectNothingLost(gw: TestGateway, box: MemoryMailbox, count: number) {
  expect([...box.folders.INBOX.keys()], "mails left in the inbox").to.deep.equal([]);
  expect(box.folders.Processed.size + box.folders.Failed.size).to.equal(count);
  const receipts = await gw.ctx.db.getRepository(MailReceipt).find({ order: { uid: "ASC" } });
  expect(receipts.map((r) => r.uid)).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
  for (const r of receipts) {
    if (r.outcome === "failed") {
      expect(box.folders.Failed.has(r.uid), `uid ${r.uid} failed but is not in Failed`).to.equal(true);
      expect(r.reason, `uid ${r.uid} failed without a reason`).to.be.a("string").and.not.equal("");
    } else expect(box.folders.Processed.has(r.uid), `uid ${r.uid} is not in Processed`).to.equal(true);
  }
  return receipts;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("breaking the reading thread, group commit and the drain", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-break-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads hand-built odd mails in the thread exactly as the main thread does, and stores the same files", async () => {
    const directory = makeDirectory();
    const env = (root: string) => ({
      blobs: new BlobStore(root),
      maxMessageBytes: 25 * 1024 * 1024,
      messageIdDomain: "tickets.example.test",
      directory,
    });
    const main = readInProcess(env(path.join(dir, "main")));
    const thread = new ReadingThread(env(path.join(dir, "thread")), silentLogger);
    const differ: string[] = [];
    try {
      for (const [name, raw] of Object.entries(oddMails())) {
        const pos = nextPosition();
        const [a, b] = await Promise.all([main.read(pos, raw), thread.read(pos, raw)]);
        if (!isDeepStrictEqual(comparable(a), comparable(b))) differ.push(name);
      }
    } finally {
      await thread.close();
    }
    expect(differ).to.deep.equal([]);
    const stored = (root: string) => filesUnder(root).map((f) => [path.relative(root, f), statSync(f).size]);
    expect(stored(path.join(dir, "thread"))).to.deep.equal(stored(path.join(dir, "main")));
  });

  it("a mail forwarding a message with an unreadable Date reads the same in the thread a second later (no Date rather than the time of parsing)", async function () {
    this.timeout(30_000);
    const directory = Directory.empty("support@example.test", "en");
    const env = { blobs: new BlobStore(dir), maxMessageBytes: 25 * 1024 * 1024, messageIdDomain: "tickets.example.test", directory };
    const thread = new ReadingThread(env, silentLogger);
    try {
      const raw = forwardWithBadDate("fwd.read@customer.test");
      const pos = nextPosition();
      const inMain = await readInProcess(env).read(pos, raw);
      await delay(1100);
      const inThread = await thread.read(pos, raw);
      const text = (r: ReadResult) => (r.read.kind === "mail" ? r.read.msg.text : null);
      expect(text(inThread)).to.equal(text(inMain));
      expect(comparable(inThread)).to.deep.equal(comparable(inMain));
    } finally {
      await thread.close();
    }
  });

  it("a read pending when the thread is closed is rejected (it does not hang), and the thread starts again for later reads", async () => {
    const directory = Directory.empty("support@example.test", "en");
    const env = { blobs: new BlobStore(dir), maxMessageBytes: 25 * 1024 * 1024, messageIdDomain: "tickets.example.test", directory };
    const thread = new ReadingThread(env, silentLogger);
    await thread.read(nextPosition(), rawMail({}));
    const pending = thread.read(nextPosition(), rawMail({ body: "x".repeat(3_000_000) })).then(
      () => "answered",
      () => "rejected",
    );
    await thread.close();
    const outcome = await Promise.race([pending, delay(5000).then(() => "still pending after 5 s")]);
    expect(outcome).to.equal("rejected");
    // The thread starts again for later reads.
    expect((await thread.read(nextPosition(), rawMail({}))).read.kind).to.equal("mail");
    await thread.close();
  });

  for (const engine of ENGINES) {
    describe(`on ${engine}`, () => {
      let gw: TestGateway;
      beforeEach(async () => {
        gw = await createTestGateway(engine, { directory: makeDirectory() });
        gw.ctx.reader = threadFor(gw.ctx, path.join(gw.dataDir, "blobs"));
      });
      afterEach(async () => {
        await gw.ctx.reader?.close();
        await gw.close();
      });

      it("drains the odd mails through the thread: each one a ticket or a reasoned failure, in Processed or Failed", async () => {
        const raws = Object.values(oddMails());
        const box = new MemoryMailbox(raws);
        const summary = await drainMailbox(box, CFG, drainDeps(gw.ctx));
        expect(summary.stoppedBy).to.equal(null);
        await expectNothingLost(gw, box, raws.length);
      });

      it("the same mail delivered twice, forwarding a message with an unreadable Date, is one ticket", async function () {
        this.timeout(60_000);
        for (const id of [null, "fwd.twice@customer.test"]) {
          const before = await gw.ctx.db.getRepository(Ticket).count();
          const [first] = await processMails(gw.ctx, [{ position: nextPosition(), raw: forwardWithBadDate(id) }]);
          expect(first?.outcome).to.equal("ticket_created");
          await delay(1100);
          const [second] = await processMails(gw.ctx, [{ position: nextPosition(), raw: forwardWithBadDate(id) }]);
          expect(second?.outcome, `second delivery (${id ?? "no Message-ID"})`).to.equal("duplicate");
          expect(await gw.ctx.db.getRepository(Ticket).count()).to.equal(before + 1);
        }
      });

      it("loses no mail and commits each position once when the thread is terminated while batches are read ahead", async () => {
        const raws = Array.from({ length: 14 }, (_, i) =>
          rawMail({ messageId: `term.${engine}.${i}@customer.test`, from: `C${i} <c${i}@customer.test>`, subject: `Request ${i}` }),
        );
        // One mail twice (a second delivery) across batches.
        raws.push(raws[2]);
        const box = new MemoryMailbox(raws);
        const deps = drainDeps(gw.ctx);
        let calls = 0;
        const readAhead = deps.readAhead!;
        const terminating: DrainDeps = {
          ...deps,
          readAhead: (mails) => {
            const ahead = readAhead(mails);
            // Kill the thread while batches 2 and 3 are in it.
            if (++calls === 2 || calls === 3)
              setImmediate(
                () => void (gw.ctx.reader as unknown as { worker: { terminate(): Promise<number> } | null }).worker?.terminate(),
              );
            return ahead;
          },
        };
        const summary = await drainMailbox(box, CFG, terminating);
        expect(summary.stoppedBy).to.equal(null);
        const receipts = await expectNothingLost(gw, box, raws.length);
        expect(receipts.filter((r) => r.outcome === "ticket_created")).to.have.length(14);
        expect(receipts.filter((r) => r.outcome === "duplicate")).to.have.length(1);
        expect(await gw.ctx.db.getRepository(Ticket).count()).to.equal(14);
        // No half-written blob is left where sweep() would never look.
        expect(filesUnder(path.join(gw.dataDir, "blobs")).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
      });

      it("processMails with one position twice writes one receipt; the second copy replays the first", async () => {
        const pos = nextPosition();
        const a = rawMail({ messageId: `pos.a.${engine}@customer.test`, from: "A <a@customer.test>", subject: "A" });
        const b = rawMail({ messageId: `pos.b.${engine}@customer.test`, from: "B <b@customer.test>", subject: "B" });
        const other = { position: nextPosition(), raw: rawMail({ subject: "Other" }) };
        const mails = [{ position: pos, raw: a }, { position: pos, raw: b }, other];
        let results = await processMails(gw.ctx, mails).catch(() => mails.map(() => null));
        // What the drain does with a mail the batch left: it goes alone.
        results = await Promise.all(results.map(async (r, i) => r ?? (await processMail(gw.ctx, mails[i].position, mails[i].raw))));
        expect(await gw.ctx.db.getRepository(MailReceipt).count({ where: { uid: pos.uid } })).to.equal(1);
        expect(results[0]!.receiptId).to.equal(results[1]!.receiptId);
        expect(results[2]!.outcome).to.equal("ticket_created");
        expect(await gw.ctx.db.getRepository(Ticket).count()).to.equal(2);
      });

      it("one mail whose planning throws fails alone (EINTERNAL, in Failed); the rest of its batch are tickets", async () => {
        const d = makeDirectory();
        class FaultyDirectory extends Directory {
          override languageFor(address: string, departmentId?: string | null): string {
            if (address === "bug@customer.test") throw new TypeError("lookup broke");
            return super.languageFor(address, departmentId);
          }
        }
        gw.ctx.directory = new FaultyDirectory(d.departments, d.defaultDepartmentId, d.agents, {}, "en", d.supportAddress);
        const raws = [
          rawMail({ messageId: `f1.${engine}@customer.test`, from: "G <g@customer.test>", subject: "one" }),
          rawMail({ messageId: `f2.${engine}@customer.test`, from: "Bug <bug@customer.test>", subject: "two" }),
          rawMail({
            messageId: `f3.${engine}@customer.test`,
            from: "H <h@customer.test>",
            subject: "three",
            inReplyTo: `f1.${engine}@customer.test`,
          }),
        ];
        const box = new MemoryMailbox(raws);
        const summary = await drainMailbox(box, CFG, drainDeps(gw.ctx));
        expect(summary.stoppedBy).to.equal(null);
        const receipts = await expectNothingLost(gw, box, 3);
        expect(receipts.map((r) => [r.outcome, r.errorCode])).to.deep.equal([
          ["ticket_created", null],
          ["failed", "EINTERNAL"],
          ["reply_added", null],
        ]);
      });

      it("a mail whose Subject decodes to a NUL byte is a ticket (the NUL taken out, on PostgreSQL too), and the mails after it are processed", async () => {
        const raws = [
          rawMail({ subject: "Before" }),
          rawMail({ subject: "=?utf-8?Q?Invoice=00attached?=" }),
          rawMail({ subject: "After", from: "Ivo <ivo@customer.test>" }),
        ];
        const box = new MemoryMailbox(raws);
        const summary = await drainMailbox(box, CFG, drainDeps(gw.ctx));
        expect(summary.stoppedBy?.message ?? null).to.equal(null);
        const receipts = await expectNothingLost(gw, box, 3);
        expect(receipts.map((r) => r.outcome)).to.deep.equal(["ticket_created", "ticket_created", "ticket_created"]);
        const titles = (await gw.ctx.db.getRepository(Ticket).find({ order: { id: "ASC" } })).map((t) => t.title);
        expect(titles).to.include("Invoiceattached");
      });

      it("a mail with a NUL byte in its body is a ticket (the NUL taken out), and its batch's other mails are tickets", async () => {
        const raws = [
          rawMail({ subject: "Before" }),
          rawMail({ subject: "NUL in the text", body: "before\u0000after" }),
          rawMail({ subject: "After", from: "Ivo <ivo@customer.test>" }),
        ];
        const box = new MemoryMailbox(raws);
        const summary = await drainMailbox(box, CFG, drainDeps(gw.ctx));
        expect(summary.stoppedBy).to.equal(null);
        const receipts = await expectNothingLost(gw, box, 3);
        expect(receipts.map((r) => r.outcome)).to.deep.equal(["ticket_created", "ticket_created", "ticket_created"]);
        const texts = (await gw.ctx.db.getRepository(Message).find({ where: { direction: "inbound" }, order: { id: "ASC" } })).map(
          (m) => m.text,
        );
        expect(texts).to.include("beforeafter");
      });

      it("a blob store that cannot be written mid-run: those mails fail with a reason, nothing is lost, and mails after it are tickets", async () => {
        const blobs = path.join(gw.dataDir, "blobs");
        const raws = Array.from({ length: 8 }, (_, i) =>
          rawMail({ messageId: `disk.${engine}.${i}@customer.test`, from: `D${i} <d${i}@customer.test>`, subject: `Disk ${i}` }),
        );
        const box = new MemoryMailbox(raws);
        const deps = drainDeps(gw.ctx);
        let batches = 0;
        const summary = await drainMailbox(box, CFG, {
          ...deps,
          // The store is taken away (a file in its place) for the second batch, and back after it.
          processBatch: async (mails, ahead) => {
            batches++;
            if (batches === 2) {
              rmSync(blobs, { recursive: true, force: true });
              writeFileSync(blobs, "not a folder");
            }
            return deps.processBatch!(mails, ahead);
          },
          afterBatch: () => {
            if (batches === 2) {
              rmSync(blobs, { force: true });
              mkdirSync(blobs);
            }
          },
        });
        expect(summary.stoppedBy).to.equal(null);
        const receipts = await expectNothingLost(gw, box, 8);
        expect(receipts.slice(0, 4).every((r) => r.outcome === "ticket_created")).to.equal(true);
        for (const r of receipts.slice(4)) expect(r.outcome).to.be.oneOf(["ticket_created", "failed"]);
      });

      /** A mail with a 20 kB attachment that every such mail shares (one blob, one fan-out folder). */
      const withFile = (n: number) =>
        crlf([
          `From: P${n} <p${n}@customer.test>`,
          "To: support@example.test",
          `Subject: Screenshot ${n}`,
          `Message-ID: <shot.${engine}.${n}@customer.test>`,
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="s"',
          "",
          "--s",
          "Content-Type: text/plain",
          "",
          `Screenshot number ${n}.`,
          "--s",
          'Content-Type: image/png; name="shot.png"',
          "Content-Transfer-Encoding: base64",
          "",
          b64(Buffer.alloc(20_000, 3)),
          "--s--",
          "",
        ]);

      it("after the blob store was emptied mid-run, a mail whose file lands in a folder the thread stored before still becomes a ticket", async () => {
        const blobs = path.join(gw.dataDir, "blobs");
        const [one] = await processMails(gw.ctx, [{ position: nextPosition(), raw: withFile(1) }]);
        expect(one?.outcome).to.equal("ticket_created");
        // The store's folder is emptied (restored from a backup, moved to a new disk) and is writable again.
        rmSync(blobs, { recursive: true, force: true });
        mkdirSync(blobs);
        const pos = nextPosition();
        const [batched] = await processMails(gw.ctx, [{ position: pos, raw: withFile(2) }]);
        const two = batched ?? (await processMail(gw.ctx, pos, withFile(2)));
        expect([two.outcome, two.errorCode]).to.deep.equal(["ticket_created", null]);
        expect((await gw.ctx.blobs.get(sha256(Buffer.alloc(20_000, 3)))).equals(Buffer.alloc(20_000, 3))).to.equal(true);
      });

      it("single-mail path (the fallback, and the gateway on one core): after the store was emptied, a mail whose file lands in a folder stored before becomes a ticket", async () => {
        gw.ctx.reader = undefined;
        const blobs = path.join(gw.dataDir, "blobs");
        expect((await processMail(gw.ctx, nextPosition(), withFile(3))).outcome).to.equal("ticket_created");
        rmSync(blobs, { recursive: true, force: true });
        mkdirSync(blobs);
        const two = await processMail(gw.ctx, nextPosition(), withFile(4));
        expect([two.outcome, two.errorCode, two.reason]).to.deep.equal(["ticket_created", null, null]);
      });
    });
  }
});
