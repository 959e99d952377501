import { expect } from "chai";
import { drainMailbox, type DrainDeps } from "../../src/mailbox/drain.js";
import type { FetchedMail, MailSource } from "../../src/mailbox/imap-mailbox.js";
import { silentLogger } from "../../src/shared/logger.js";
import type { ProcessResult } from "../../src/tickets/pipeline.js";

/*
 * The drain loop reads batches ahead (fetched, and read in the reading thread) while the batch
 * before is committed. What must hold whatever runs ahead: a batch is processed only after the
 * one before it was committed and moved; a mail leaves the inbox only after its batch committed;
 * a run that stops leaves every mail it did not commit in the inbox; a failed fetch is reported,
 * not swallowed. The mailbox here is an in-memory one that writes down what was asked of it, in
 * order (the real one is exercised against Dovecot by the e2e tests).
 */

class RecordingMailbox implements MailSource {
  readonly mailbox = "INBOX";
  readonly log: string[] = [];
  readonly inbox: number[];
  failFetchOf: number | null = null;

  constructor(count: number) {
    this.inbox = Array.from({ length: count }, (_, i) => i + 1);
  }

  async listUids(): Promise<number[]> {
    return [...this.inbox];
  }

  async fetch(uids: number[]): Promise<FetchedMail[]> {
    await tick();
    if (this.failFetchOf !== null && uids.includes(this.failFetchOf)) throw new Error(`fetch of ${uids.join(",")} failed`);
    this.log.push(`fetch ${uids[0]}-${uids.at(-1)}`);
    return uids.map((uid) => ({ position: { mailbox: this.mailbox, uidValidity: 1, uid }, raw: Buffer.from(`mail ${uid}`) }));
  }

  async move(uids: number[], folder: string): Promise<void> {
    if (uids.length === 0) return;
    await tick();
    this.log.push(`move ${uids[0]}-${uids.at(-1)} ${folder}`);
    for (const u of uids) this.inbox.splice(this.inbox.indexOf(u), 1);
  }

  async close(): Promise<void> {}
}

const tick = () => new Promise((r) => setTimeout(r, 2));

function result(uid: number): ProcessResult {
  return {
    outcome: "ticket_created",
    receiptId: uid,
    ticketId: uid,
    alreadyDone: false,
    errorCode: null,
    reason: null,
    trail: [],
    messageId: `m${uid}@t`,
  };
}

function deps(box: RecordingMailbox, extra: Partial<DrainDeps> = {}): DrainDeps {
  return {
    readAhead: (mails) => {
      box.log.push(`read ${mails[0].position.uid}-${mails.at(-1)!.position.uid}`);
      return tick().then(() => mails.map((m) => m.position.uid));
    },
    processBatch: async (mails, ahead) => {
      const read = (await ahead) as number[];
      expect(read).to.deep.equal(mails.map((m) => m.position.uid));
      await tick();
      box.log.push(`commit ${mails[0].position.uid}-${mails.at(-1)!.position.uid}`);
      return mails.map((m) => result(m.position.uid));
    },
    process: async (pos) => result(pos.uid),
    giveUp: async (pos) => result(pos.uid),
    markMoved: async () => {},
    logger: silentLogger,
    ...extra,
  };
}

const CFG = { batchSize: 10, processedFolder: "Processed", failedFolder: "Failed" };

describe("mailbox/drain: batches read ahead", () => {
  it("commits and moves batch after batch, in order, while the next ones are already read", async () => {
    const box = new RecordingMailbox(35);
    const summary = await drainMailbox(box, CFG, deps(box));
    expect(summary.processed).to.equal(35);
    expect(box.inbox).to.deep.equal([]);
    const at = (entry: string) => box.log.indexOf(entry);
    const batches = ["1-10", "11-20", "21-30", "31-35"];
    for (const [i, b] of batches.entries()) {
      expect(at(`commit ${b}`), b).to.be.greaterThan(at(`read ${b}`));
      expect(at(`move ${b} Processed`), b).to.be.greaterThan(at(`commit ${b}`));
      if (i > 0) expect(at(`commit ${b}`), b).to.be.greaterThan(at(`move ${batches[i - 1]} Processed`));
    }
    // Reading ran ahead: the second batch was read before the first was committed.
    expect(at("read 11-20")).to.be.lessThan(at("commit 1-10"));
  });

  it("stops at a batch's end when told to hand over: the mails read ahead stay in the inbox, untouched", async () => {
    const box = new RecordingMailbox(35);
    let batches = 0;
    const summary = await drainMailbox(box, CFG, deps(box, { afterBatch: () => batches++, shouldYield: () => batches >= 1 }));
    expect(summary.processed).to.equal(10);
    expect(box.inbox).to.deep.equal(Array.from({ length: 25 }, (_, i) => i + 11));
    expect(box.log.filter((l) => l.startsWith("commit"))).to.deep.equal(["commit 1-10"]);
  });

  it("reports a fetch that failed, after committing and moving what came before it", async () => {
    const box = new RecordingMailbox(35);
    box.failFetchOf = 21;
    let error: Error | null = null;
    await drainMailbox(box, CFG, deps(box)).catch((e: Error) => (error = e));
    expect(error).to.be.an("error").with.property("message", "fetch of 21,22,23,24,25,26,27,28,29,30 failed");
    expect(box.log).to.include("move 11-20 Processed");
    expect(box.inbox[0]).to.equal(21);
  });
});
