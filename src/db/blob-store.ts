import { createHash, randomBytes } from "node:crypto";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

/**
 * Content-addressed files under the data directory: raw mails and attachments, named by their
 * SHA-256. Written before the transaction that refers to them (write to a temp name, then
 * rename, so a file under its hash is always whole); a crash leaves at worst an unused file,
 * never a row pointing at nothing. The same content is stored once.
 */
export class BlobStore {
  constructor(readonly root: string) {}

  pathFor(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(content: Buffer, knownSha256?: string): Promise<string> {
    const sha = knownSha256 ?? createHash("sha256").update(content).digest("hex");
    const target = this.pathFor(sha);
    try {
      await access(target);
      return sha;
    } catch {
      // not stored yet
    }
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    await writeFile(tmp, content);
    await rename(tmp, target);
    return sha;
  }

  async get(sha256: string): Promise<Buffer> {
    return readFile(this.pathFor(sha256));
  }
}
