import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import path from "node:path";
import { TicketpostError } from "../shared/errors.js";

/**
 * Content-addressed files under the data directory: raw mails and attachments, named by their
 * SHA-256. Written before the transaction that refers to them (write to a temp name, then
 * rename, so a file under its hash is always whole); a crash leaves at worst an unused file,
 * never a row pointing at nothing. The same content is stored once.
 */
const SMALL_BLOB = 256 * 1024;

export class BlobStore {
  constructor(
    readonly root: string,
    /** Fan-out folders known to exist (shared by the views of one store). */
    protected readonly knownDirs = new Set<string>(),
  ) {}

  /**
   * A view of this store whose small writes run in libuv's thread pool while the caller goes on
   * (parsing the mail they belong to); `flush` waits for them and throws the first failure. For
   * the reading thread, which flushes before it hands a mail on: the rule that a blob is whole on
   * disk before a row can name it holds.
   */
  deferring(): DeferredBlobWrites {
    return new DeferredBlobWrites(this.root, this.knownDirs);
  }

  pathFor(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  /** Stores bytes under their SHA-256 (hex), returned. Throws ESTORE (retryable) when they cannot be written. */
  async put(content: Buffer, knownSha256?: string): Promise<string> {
    const sha = knownSha256 ?? createHash("sha256").update(content).digest("hex");
    const target = this.pathFor(sha);
    const dir = path.dirname(target);
    const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    if (content.length <= SMALL_BLOB) {
      // A typical mail or attachment: four synchronous calls cost less than four trips through
      // libuv's thread pool (measured: the async version took as long as fetch and parse together).
      if (existsSync(target)) return sha;
      return storing(target, () => {
        // A folder known from before may have been removed meanwhile (a restore, an operator):
        // when the write finds no folder, it is made and the write tried once more.
        for (let attempt = 1; ; attempt++) {
          try {
            if (!this.knownDirs.has(dir)) {
              mkdirSync(dir, { recursive: true });
              this.knownDirs.add(dir);
            }
            writeFileSync(tmp, content);
            break;
          } catch (err) {
            if (attempt > 1 || (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
            this.knownDirs.delete(dir);
          }
        }
        renameSync(tmp, target);
        return sha;
      });
    }
    try {
      await access(target);
      return sha;
    } catch {
      // not stored yet
    }
    return storing(target, async () => {
      await mkdir(dir, { recursive: true });
      await writeFile(tmp, content);
      await rename(tmp, target);
      return sha;
    });
  }

  /** Whether the blob is stored. */
  async has(sha256: string): Promise<boolean> {
    try {
      await access(this.pathFor(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async get(sha256: string): Promise<Buffer> {
    return readFile(this.pathFor(sha256));
  }

  open(sha256: string): Readable {
    return createReadStream(this.pathFor(sha256));
  }

  /** Stores a stream without holding it in memory: written to a temp file while hashed, then renamed. */
  async putStream(input: Readable): Promise<{ sha256: string; size: number }> {
    const tmp = path.join(this.root, `incoming.${randomBytes(8).toString("hex")}.tmp`);
    const hash = createHash("sha256");
    let size = 0;
    try {
      await mkdir(this.root, { recursive: true });
      await pipeline(
        input,
        async function* (source) {
          for await (const chunk of source) {
            hash.update(chunk as Buffer);
            size += (chunk as Buffer).length;
            yield chunk;
          }
        },
        createWriteStream(tmp),
      );
      const sha256 = hash.digest("hex");
      await this.adopt(tmp, sha256);
      return { sha256, size };
    } catch (err) {
      // A system call of the store failed (the disk, the folder): ESTORE. Anything else came from
      // the stream being stored (the mail being parsed) and stays what it is.
      if ((err as NodeJS.ErrnoException).syscall) return storing(tmp, () => Promise.reject(err));
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Takes over a file (moved, not copied) under its hash; the file is gone afterwards. */
  async putFile(file: string): Promise<{ sha256: string; size: number }> {
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const sha256 = hash.digest("hex");
    await this.adopt(file, sha256);
    await rm(file, { force: true });
    return { sha256, size };
  }

  /**
   * Removes what a killed process left half-done in the store's top folder: big mails spooled
   * from IMAP and partial stream writes. Only files older than `maxAgeMs`, so a file another
   * process is still writing is never touched. The mails themselves are safe in the mailbox.
   */
  async sweep(maxAgeMs = 3_600_000, now = Date.now()): Promise<number> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of entries) {
      if (!/^(spool\..*\.eml|incoming\..*\.tmp)$/.test(name)) continue;
      const file = path.join(this.root, name);
      try {
        if (now - (await stat(file)).mtimeMs > maxAgeMs) {
          await rm(file, { force: true });
          removed++;
        }
      } catch {
        // gone meanwhile
      }
    }
    return removed;
  }

  private async adopt(file: string, sha256: string): Promise<void> {
    const target = this.pathFor(sha256);
    try {
      await access(target);
      return;
    } catch {
      // not stored yet
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file, target);
  }
}

/** See BlobStore.deferring. */
export class DeferredBlobWrites extends BlobStore {
  private readonly writes: Array<Promise<void>> = [];

  override async put(content: Buffer, knownSha256?: string): Promise<string> {
    if (content.length > SMALL_BLOB) return super.put(content, knownSha256);
    const sha = knownSha256 ?? createHash("sha256").update(content).digest("hex");
    const write = this.write(content, sha);
    // Awaited by flush; until then a failure must not count as unhandled.
    write.catch(() => {});
    this.writes.push(write);
    return sha;
  }

  /** Waits for every write started so far; throws the first that failed. */
  async flush(): Promise<void> {
    await Promise.all(this.writes.splice(0));
  }

  private async write(content: Buffer, sha: string): Promise<void> {
    const target = this.pathFor(sha);
    const dir = path.dirname(target);
    if (existsSync(target)) return;
    const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    await storing(target, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          if (!this.knownDirs.has(dir)) {
            await mkdir(dir, { recursive: true });
            this.knownDirs.add(dir);
          }
          await writeFile(tmp, content);
          break;
        } catch (err) {
          // As in put: a folder removed since it was made is made again, once.
          if (attempt > 1 || (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
          this.knownDirs.delete(dir);
        }
      }
      await rename(tmp, target);
    });
  }
}

/** Runs a write of the store; any failure becomes ESTORE (retryable: a full disk or a missing folder can be fixed). */
function storing<T>(target: string, write: () => T): T {
  const fail = (err: unknown): never => {
    if (err instanceof TicketpostError) throw err;
    throw new TicketpostError("ESTORE", `could not store ${path.basename(target)} in ${path.dirname(target)}: ${(err as Error).message}`, {
      cause: err,
    });
  };
  try {
    const out = write();
    return (out instanceof Promise ? out.catch(fail) : out) as T;
  } catch (err) {
    return fail(err);
  }
}
