import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { BlobStore, DeferredBlobWrites } from "../../src/db/blob-store.js";

/** The deferred writes are done once flushed; a plain put is done when it returns. */
const flushed = async (w: BlobStore) => {
  if (w instanceof DeferredBlobWrites) await w.flush();
};

describe("BlobStore: content-addressed files under the data directory", () => {
  let dir: string;
  let store: BlobStore;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-blobs-"));
    store = new BlobStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

  it("stores bytes, a stream and a file under their SHA-256, once", async () => {
    const a = Buffer.from("small mail");
    expect(await store.put(a)).to.equal(sha(a));
    expect(await store.put(a)).to.equal(sha(a));
    const big = Buffer.alloc(600 * 1024, 7);
    expect(await store.putStream(Readable.from([big.subarray(0, 1000), big.subarray(1000)]))).to.deep.equal({
      sha256: sha(big),
      size: big.length,
    });
    const file = path.join(dir, "spool.1.2.ab.eml");
    writeFileSync(file, "spooled");
    expect((await store.putFile(file)).sha256).to.equal(sha(Buffer.from("spooled")));
    expect(existsSync(file), "the spooled file is taken over").to.equal(false);
    expect((await store.get(sha(a))).toString()).to.equal("small mail");
  });

  it("sweeps only old leftovers of killed processes, never a file being written now", async () => {
    const old = [path.join(dir, "spool.7.42.beef.eml"), path.join(dir, "incoming.0123abcd.tmp")];
    const fresh = path.join(dir, "spool.7.43.cafe.eml");
    const other = path.join(dir, "notes.txt");
    for (const f of [...old, fresh, other]) writeFileSync(f, "x");
    const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
    for (const f of [...old, other]) utimesSync(f, twoHoursAgo, twoHoursAgo);
    expect(await store.sweep()).to.equal(2);
    expect(old.map((f) => existsSync(f))).to.deep.equal([false, false]);
    expect(existsSync(fresh)).to.equal(true);
    expect(existsSync(other)).to.equal(true);
  });

  for (const [name, make] of [
    ["put", (st: BlobStore) => st],
    ["the reading thread's deferred writes", (st: BlobStore) => st.deferring()],
  ] as const) {
    it(`${name}: a folder removed after it was made is made again (a restore, an operator), and the write succeeds`, async () => {
      const writer = make(store);
      const first = Buffer.from("first file");
      await writer.put(first);
      await flushed(writer);
      rmSync(dir, { recursive: true, force: true });
      // Another file whose fan-out folder this store made before.
      let second = Buffer.from("second file 0");
      for (let i = 1; sha(second).slice(0, 4) !== sha(first).slice(0, 4); i++) second = Buffer.from(`second file ${i}`);
      expect(await writer.put(second)).to.equal(sha(second));
      await flushed(writer);
      expect((await store.get(sha(second))).equals(second)).to.equal(true);
    });

    it(`${name}: a store that cannot be written fails with ESTORE (retryable), naming the file`, async () => {
      const writer = make(store);
      rmSync(dir, { recursive: true, force: true });
      writeFileSync(dir, "a file where the store's folder should be");
      let error: { code?: string; retryable?: boolean; message?: string } | null = null;
      try {
        await writer.put(Buffer.from("cannot be stored"));
        await flushed(writer);
      } catch (e) {
        error = e as typeof error;
      }
      expect(error).to.include({ code: "ESTORE", retryable: true });
      expect(error!.message).to.contain(sha(Buffer.from("cannot be stored")));
      rmSync(dir, { force: true });
    });
  }
});
