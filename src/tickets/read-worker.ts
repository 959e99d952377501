import { parentPort, workerData } from "node:worker_threads";
import { BlobStore } from "../db/blob-store.js";
import { Directory } from "./directory.js";
import { readMail, receiveMail, type ReadEnv } from "./read.js";
import type { ReadingThreadData, ReadRequest, ReadResponse } from "./read-thread.js";

/*
 * The reading thread (see read-thread.ts): stores, parses and classifies the mails it is sent and
 * sends back plain data. Attachments go to the blob store here; their bytes are not sent back
 * (nothing after reading needs them, and copying them would cost the main thread).
 *
 * Mails are parsed one after the other, in the order they were sent, so that the batch sent first
 * is ready first; each mail's files are written by libuv's thread pool while the next mail is
 * parsed, and a mail is answered once its files are on disk.
 */

const data = workerData as ReadingThreadData;
const store = new BlobStore(data.blobsRoot);
const env: ReadEnv = {
  blobs: store,
  maxMessageBytes: data.maxMessageBytes,
  messageIdDomain: data.messageIdDomain,
  directory: Directory.fromSpec(data.directory),
};

let parsing: Promise<unknown> = Promise.resolve();

parentPort!.on("message", (req: ReadRequest) => {
  const parsed = parsing.then(() => parse(req));
  parsing = parsed.catch(() => undefined);
  void parsed
    .then(async ({ blobs, response }) => {
      await blobs.flush();
      return response;
    })
    .catch((err: unknown): ReadResponse => failed(req, err))
    .then((res) => {
      try {
        parentPort!.postMessage(res);
      } catch (err) {
        // A result that cannot be copied to the main thread: that mail is read there instead.
        parentPort!.postMessage(failed(req, err));
      }
    });
});

function failed(req: ReadRequest, err: unknown): ReadResponse {
  return { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
}

async function parse(req: ReadRequest) {
  const raw = Buffer.from(req.raw.buffer, req.raw.byteOffset, req.raw.byteLength);
  const blobs = store.deferring();
  const own = { ...env, blobs };
  const { buffer: _bytes, ...received } = await receiveMail(own, req.pos, raw);
  const read = await readMail(own, { ...received, buffer: raw }, { store: true });
  if (read.kind === "mail") for (const a of read.msg.attachments) delete a.content;
  const response: ReadResponse = { id: req.id, ok: true, received, read };
  return { blobs, response };
}
