import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, readFile, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import type { Readable } from "node:stream";
import type { MailPosition } from "../tickets/pipeline.js";

/**
 * Mail from files, for `ticketpost import`: single-message files (.eml), Maildir folders, mbox
 * files and folders of .eml files. Like the IMAP source it only hands out raw bytes with a
 * position; unlike it, nothing is moved afterwards: the position itself makes a second import of
 * the same bytes a no-op, wherever the file lives then.
 */

export type FileMail =
  | { position: MailPosition; raw: Buffer; /** "file.eml", "Maildir/cur/123:2,S", "box.mbox#17" */ origin: string }
  | { error: string; origin: string };

export const IMPORT_MAILBOX = "import";

/** mbox-reader is CommonJS without types; this is the part of it we use. */
interface MboxMessage {
  content: Buffer;
}
const { mboxReader } = createRequire(import.meta.url)("mbox-reader") as {
  mboxReader: (input: Readable) => AsyncGenerator<MboxMessage>;
};

/**
 * The first 6 bytes of the SHA-256 of the raw mail: a safe integer (< 2^48), so the same bytes get
 * the same position however they are named or wherever they lie. 48 bits make a collision
 * unlikely but not impossible in a very large import; runImport checks the stored hash.
 */
export function importPosition(raw: Buffer, mailbox = IMPORT_MAILBOX): MailPosition {
  const uid = createHash("sha256").update(raw).digest().readUIntBE(0, 6);
  return { mailbox, uidValidity: 0, uid };
}

function readError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case "ENOENT":
      return "no such file or folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a folder";
    default:
      return e?.message ?? String(err);
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Sorts "2.eml" before "10.eml", and Maildir names (which start with the delivery time) by time. */
const byName = new Intl.Collator("en", { numeric: true }).compare;

async function startsLikeMbox(file: string): Promise<boolean> {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(5);
    const { bytesRead } = await fh.read(head, 0, 5, 0);
    return bytesRead === 5 && head.toString("latin1") === "From ";
  } finally {
    await fh.close();
  }
}

async function* readSingleFile(file: string): AsyncGenerator<FileMail> {
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    yield { error: readError(err), origin: file };
    return;
  }
  if (raw.length === 0) {
    yield { error: "file is empty", origin: file };
    return;
  }
  yield { position: importPosition(raw), raw, origin: file };
}

/** Streams the messages of an mbox file; one message at a time is held in memory. */
async function* readMbox(file: string): AsyncGenerator<FileMail> {
  const input = createReadStream(file);
  let n = 0;
  try {
    // mbox-reader splits on the "From " separator lines and undoes mboxrd quoting (">From " → "From "),
    // and gives messages with LF line ends (mailparser takes either).
    for await (const message of mboxReader(input)) {
      n++;
      const raw = message.content;
      if (raw.length === 0) yield { error: "message is empty", origin: `${file}#${n}` };
      else yield { position: importPosition(raw), raw, origin: `${file}#${n}` };
    }
  } catch (err) {
    yield { error: `mbox read stopped: ${readError(err)}`, origin: `${file}#${n + 1}` };
  } finally {
    input.destroy();
  }
}

async function* readFileOrMbox(file: string): AsyncGenerator<FileMail> {
  let mbox: boolean;
  try {
    mbox = await startsLikeMbox(file);
  } catch (err) {
    yield { error: readError(err), origin: file };
    return;
  }
  yield* mbox ? readMbox(file) : readSingleFile(file);
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort(byName);
}

/**
 * A Maildir: `new` (not yet seen by a client) and `cur`, in delivery order so that an original
 * comes before the replies to it; `tmp` holds deliveries still being written and is never read.
 * Maildir++ subfolders (.Sent, .Trash, .Junk, ...) are deliberately not descended into: importing
 * them into the helpdesk is rarely wanted; name one explicitly to import it.
 */
async function* readMaildir(dir: string): AsyncGenerator<FileMail> {
  const files: Array<{ sub: string; name: string }> = [];
  for (const sub of ["new", "cur"]) {
    const subDir = path.join(dir, sub);
    if (!(await isDir(subDir))) continue;
    try {
      for (const name of await listFiles(subDir)) files.push({ sub, name });
    } catch (err) {
      yield { error: readError(err), origin: subDir };
    }
  }
  files.sort((a, b) => byName(a.name, b.name));
  for (const f of files) yield* readSingleFile(path.join(dir, f.sub, f.name));
}

async function* readEmlFolder(dir: string): AsyncGenerator<FileMail> {
  let names: string[];
  try {
    names = (await listFiles(dir)).filter((n) => n.toLowerCase().endsWith(".eml"));
  } catch (err) {
    yield { error: readError(err), origin: dir };
    return;
  }
  if (names.length === 0) {
    yield { error: "folder is neither a Maildir (no cur/ or new/) nor holds .eml files", origin: dir };
    return;
  }
  for (const name of names) yield* readFileOrMbox(path.join(dir, name));
}

async function* readPath(p: string): AsyncGenerator<FileMail> {
  let st;
  try {
    st = await stat(p);
  } catch (err) {
    yield { error: readError(err), origin: p };
    return;
  }
  if (st.isDirectory()) {
    const maildir = (await isDir(path.join(p, "cur"))) || (await isDir(path.join(p, "new")));
    yield* maildir ? readMaildir(p) : readEmlFolder(p);
  } else if (st.isFile()) {
    yield* readFileOrMbox(p);
  } else {
    yield { error: "neither a file nor a folder", origin: p };
  }
}

/**
 * Every mail under the given paths, in the order given and, within a path, in file order. A path
 * or file that cannot be read yields an `{ error, origin }` item; nothing here throws for bad input.
 */
export async function* readMailFiles(paths: string[]): AsyncGenerator<FileMail> {
  for (const p of paths) yield* readPath(p);
}
