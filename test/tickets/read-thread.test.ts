import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BlobStore } from "../../src/db/blob-store.js";
import { Ticket } from "../../src/db/entities.js";
import { processMails } from "../../src/tickets/batch.js";
import { Directory, type DirectorySpec } from "../../src/tickets/directory.js";
import { processMail } from "../../src/tickets/pipeline.js";
import { readInProcess, ReadingThread, type ReadResult } from "../../src/tickets/read-thread.js";
import type { Logger } from "../../src/shared/logger.js";
import { silentLogger } from "../../src/shared/logger.js";
import { createTestGateway, nextPosition, rawMail } from "../helpers/context.js";
import { makeDirectory } from "../helpers/workflow-world.js";

/*
 * The drain reads each batch in a second thread (read-thread.ts) while the batch before is
 * committed. What the thread reads must be what the main thread reads, for every kind of mail
 * we have (the shared corpora and cases, our own cases); the files it stores must be whole on
 * disk when it answers; and when the thread fails, no mail may be lost.
 */

const SHARED = path.resolve(process.cwd(), "../shared");

/** Every .eml below these folders. */
function emlsUnder(dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".eml")) out.push(p);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return out.sort();
}

function envFor(blobsRoot: string, directory: Directory) {
  return { blobs: new BlobStore(blobsRoot), maxMessageBytes: 25 * 1024 * 1024, messageIdDomain: "tickets.example.test", directory };
}

/** A read as plain data, the way it would be compared by a person: without the bytes held in memory. */
function comparable(r: ReadResult): unknown {
  const { buffer: _b, ...received } = r.received;
  const read = structuredClone(r.read);
  if (read.kind === "mail") for (const a of read.msg.attachments) delete a.content;
  return { received, read };
}

function recordingLogger(lines: string[]): Logger {
  const log = (msg: string, fields?: Record<string, unknown>) => lines.push(`${msg} ${JSON.stringify(fields ?? {})}`);
  return { debug: log, info: log, warn: log, error: log, child: () => recordingLogger(lines) } as unknown as Logger;
}

describe("the reading thread", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-read-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads every mail of the shared corpora and cases, and of our own cases, exactly as the main thread does", async function () {
    if (!existsSync(SHARED)) {
      if (process.env.CI) throw new Error(`${SHARED} is missing; CI needs ../shared`);
      console.warn(`    skipped: ${SHARED} is missing (tests that need ../shared skip outside CI)`);
      return this.skip();
    }
    const files = emlsUnder([path.join(SHARED, "corpora"), path.join(SHARED, "cases"), path.resolve("test/cases")]);
    expect(files.length).to.be.greaterThan(500);
    const directory = makeDirectory();
    const main = readInProcess(envFor(path.join(dir, "main"), directory));
    const thread = new ReadingThread(envFor(path.join(dir, "thread"), directory), silentLogger);
    const differ: string[] = [];
    try {
      for (const file of files) {
        const raw = readFileSync(file);
        const pos = nextPosition();
        const [a, b] = await Promise.all([main.read(pos, raw), thread.read(pos, raw)]);
        try {
          expect(comparable(b)).to.deep.equal(comparable(a));
        } catch {
          differ.push(path.relative(path.dirname(SHARED), file));
        }
      }
    } finally {
      await thread.close();
    }
    expect(differ, `read differently in the thread: ${differ.join(", ")}`).to.deep.equal([]);
    // The same files, whole, in both stores.
    const stored = (root: string) => emlsOrBlobs(root).map((f) => [path.basename(f), statSync(f).size]);
    expect(stored(path.join(dir, "thread"))).to.deep.equal(stored(path.join(dir, "main")));
  });

  it("has a mail's files on disk when it answers", async () => {
    const directory = Directory.empty("support@example.test", "en");
    const thread = new ReadingThread(envFor(dir, directory), silentLogger);
    try {
      const png = Buffer.alloc(50_000, 7);
      const raw = Buffer.from(
        [
          "From: Ana <ana@customer.test>",
          "To: support@example.test",
          "Subject: Screenshot",
          "Message-ID: <files.1@customer.test>",
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="b1"',
          "",
          "--b1",
          "Content-Type: text/plain; charset=utf-8",
          "",
          "The error, as a picture.",
          "--b1",
          "Content-Type: image/png",
          'Content-Disposition: attachment; filename="shot.png"',
          "Content-Transfer-Encoding: base64",
          "",
          ...(png.toString("base64").match(/.{1,76}/g) ?? []),
          "--b1--",
          "",
        ].join("\r\n"),
      );
      const { received, read } = await thread.read(nextPosition(), raw);
      const store = new BlobStore(dir);
      expect((await store.get(received.sha256)).equals(raw)).to.equal(true);
      expect(read.kind).to.equal("mail");
      if (read.kind !== "mail") return;
      expect(read.msg.attachments).to.have.length(1);
      expect((await store.get(read.msg.attachments[0].sha256)).equals(png)).to.equal(true);
      // No temporary file is left behind.
      expect(emlsOrBlobs(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    } finally {
      await thread.close();
    }
  });

  it("loses no mail when the thread fails: the batch leaves its mails to the single-mail path, which makes them tickets", async () => {
    const gw = await createTestGateway("sqlite");
    const lines: string[] = [];
    // A thread that cannot start (its directory is not data it can read) fails every read.
    const directory = makeDirectory();
    const unreadable = Object.assign(Object.create(directory) as Directory, { spec: () => null as unknown as DirectorySpec });
    gw.ctx.reader = new ReadingThread({ ...gw.ctx, directory: unreadable }, recordingLogger(lines));
    try {
      const raws = [1, 2, 3].map((n) =>
        rawMail({ messageId: `broken.${n}@customer.test`, from: `C${n} <c${n}@customer.test>`, subject: `Request ${n}` }),
      );
      const positions = raws.map(() => nextPosition());
      const results = await processMails(
        gw.ctx,
        raws.map((raw, i) => ({ position: positions[i], raw })),
      );
      expect(results).to.deep.equal([null, null, null]);
      expect(lines.some((l) => l.startsWith("the reading thread failed"))).to.equal(true);
      // What the drain then does with each: one at a time, in this thread.
      for (const [i, raw] of raws.entries()) expect((await processMail(gw.ctx, positions[i], raw)).outcome).to.equal("ticket_created");
      expect(await gw.ctx.db.getRepository(Ticket).count()).to.equal(3);
      // After three failures the thread is given up: mails are read in the main thread, and the batch works again.
      for (let i = 0; i < 3; i++)
        await processMails(gw.ctx, [{ position: nextPosition(), raw: rawMail({ messageId: `x${i}.${Date.now()}@c.test` }) }]);
      const raw = rawMail({ messageId: "after.1@customer.test", from: "Dora <dora@customer.test>", subject: "After the crashes" });
      const [after] = await processMails(gw.ctx, [{ position: nextPosition(), raw }]);
      expect(after?.outcome).to.equal("ticket_created");
      expect(lines.some((l) => l.includes('"givenUp":true'))).to.equal(true);
    } finally {
      await gw.ctx.reader?.close();
      await gw.close();
    }
  });
});

function emlsOrBlobs(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}
