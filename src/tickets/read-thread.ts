import { Worker } from "node:worker_threads";
import type { Logger } from "../shared/logger.js";
import type { DirectorySpec } from "./directory.js";
import type { ReadMail } from "./facts.js";
import type { MailPosition } from "./persist.js";
import type { ReadEnv, Received } from "./read.js";

/*
 * Reading a mail (stages 1 to 3: the bytes stored, parsed, classified) needs no database. The
 * gateway's drain reads a fetched batch in a second thread while the main thread commits the
 * batch before it, so parsing (the largest share of the work on each mail) no longer waits for
 * the database, nor the database for parsing.
 *
 * Nothing is lost when the thread fails: a mail whose reading fails for any reason (the thread
 * crashed, ran out of memory, could not write the blob) comes back as an error, and the batch
 * hands that mail to the single-mail path, which reads it again in the main thread with its
 * retries and records a failure with its evidence if it must.
 */

/** What one read gives back: the stored bytes' identity and the parsed, classified mail. */
export interface ReadResult {
  received: Received;
  read: ReadMail;
}

/** Reads mails held in memory; `read` rejects when the mail could not be read here (the caller reads it again alone). */
export interface MailReader {
  read(pos: MailPosition, raw: Buffer): Promise<ReadResult>;
  /** Stops the thread, if there is one; reads asked for later start a new one. */
  close(): Promise<void>;
}

/** What the reading thread is started with: plain data only (it is copied into the thread). */
export interface ReadingThreadData {
  blobsRoot: string;
  maxMessageBytes: number;
  messageIdDomain: string;
  /** Reading asks the directory one thing, isOwn, which no mailbox's default department changes. */
  directory: DirectorySpec;
}

export interface ReadRequest {
  id: number;
  pos: MailPosition;
  /** The mail's bytes, in a buffer of their own (transferred, not copied). */
  raw: Uint8Array;
}

export type ReadResponse =
  { id: number; ok: true; received: Omit<Received, "buffer">; read: ReadMail } | { id: number; ok: false; message: string };

/** Reads in the calling thread (inspect, tests, and a machine with one core). */
export function readInProcess(env: ReadEnv): MailReader {
  return {
    async read(pos, raw) {
      // Loaded by the first mail: a command that reads none does not load the parsers.
      const { readMail, receiveMail } = await import("./read.js");
      const received = await receiveMail(env, pos, raw);
      return { received, read: await readMail(env, received, { store: true }) };
    },
    async close() {},
  };
}

/** After this many crashes of the thread, mails are read in the main thread only (and the log says why). */
const MAX_CRASHES = 3;

/**
 * One worker thread (node:worker_threads) that reads mails. It is started by the first read, holds
 * the process open only while reads are pending, and is restarted after a crash, up to MAX_CRASHES
 * times; after that every read runs in the calling thread.
 */
export class ReadingThread implements MailReader {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve(r: ReadResult): void; reject(e: Error): void; raw: Buffer }>();
  private nextId = 1;
  private crashes = 0;
  private readonly fallback: MailReader;
  /** The reading env as plain data, copied into each thread started. */
  private readonly data: ReadingThreadData;

  constructor(
    env: ReadEnv,
    private readonly logger: Logger,
  ) {
    this.fallback = readInProcess(env);
    this.data = {
      blobsRoot: env.blobs.root,
      maxMessageBytes: env.maxMessageBytes,
      messageIdDomain: env.messageIdDomain,
      directory: env.directory.spec(),
    };
  }

  read(pos: MailPosition, raw: Buffer): Promise<ReadResult> {
    if (this.crashes >= MAX_CRASHES) return this.fallback.read(pos, raw);
    const worker = this.start();
    const id = this.nextId++;
    // A buffer of its own: a Buffer is often a view into a larger one, which would be copied whole.
    const copy = new Uint8Array(raw);
    return new Promise<ReadResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, raw });
      // Held open while it has reads to answer; let go (unref) when it has none.
      worker.ref();
      worker.postMessage({ id, pos, raw: copy } satisfies ReadRequest, [copy.buffer]);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    // Reads still pending fail (their mails stay where they are, or are read alone), never hang.
    const closed = new Error("the reading thread was closed");
    for (const p of this.pending.values()) p.reject(closed);
    this.pending.clear();
    if (w) await w.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./read-worker.js", import.meta.url), { workerData: this.data });
    worker.unref();
    worker.on("message", (res: ReadResponse) => this.answer(res));
    worker.on("error", (err: Error) => this.lost(worker, err));
    worker.on("exit", (code: number) => this.lost(worker, new Error(`the reading thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private answer(res: ReadResponse): void {
    const p = this.pending.get(res.id);
    if (!p) return;
    this.pending.delete(res.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (res.ok) p.resolve({ received: { ...res.received, buffer: p.raw }, read: res.read });
    else p.reject(new Error(res.message));
  }

  /** The thread is gone: every read it held fails (their mails are read again alone). */
  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    // Not closed by us (close() lets go of the worker first): a crash, or the thread ran out of memory.
    this.crashes++;
    this.logger.warn("the reading thread failed; its mails are read again in the main thread", {
      error: err.message,
      pending: this.pending.size,
      crashes: this.crashes,
      givenUp: this.crashes >= MAX_CRASHES || undefined,
    });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
