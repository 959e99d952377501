import { expect } from "chai";
import { MailReceipt, Message, OutboxMail, Participant, Ticket, TrailEntry } from "../../src/db/entities.js";
import { processMails } from "../../src/tickets/batch.js";
import { Directory } from "../../src/tickets/directory.js";
import { processMail, type MailPosition, type ProcessResult } from "../../src/tickets/pipeline.js";
import { ReadingThread } from "../../src/tickets/read-thread.js";
import { createTestGateway, nextPosition, rawMail, type TestGateway } from "../helpers/context.js";
import { ENGINES } from "../helpers/databases.js";
import { makeDirectory } from "../helpers/workflow-world.js";

/*
 * Group commit must decide exactly what one mail at a time decides, also when the mails of one
 * batch refer to each other (the same mail twice, a reply to a mail earlier in the batch, the
 * per-address limit reached inside the batch), and one bad mail must roll back only itself.
 * The fault is injected through the test's own directory, as a bug in one lookup would be.
 */

const BAD = "bug@customer.test";

class FaultyDirectory extends Directory {
  override languageFor(address: string, departmentId?: string | null): string {
    if (address === BAD) throw new TypeError("Cannot read properties of undefined (reading 'language')");
    return super.languageFor(address, departmentId);
  }
}

function faultyDirectory(): Directory {
  const d = makeDirectory();
  return new FaultyDirectory(
    d.departments,
    d.defaultDepartmentId,
    d.departments.flatMap((x) => x.members).map((address) => ({ address, name: d.agent(address)?.name ?? null })),
    {},
    "en",
    d.supportAddress,
  );
}

/** Mails that depend on each other inside one batch. */
function mails(tag: string): Buffer[] {
  const id = (n: number) => `${tag}.${n}@customer.test`;
  return [
    rawMail({ messageId: id(1), from: "Carla <carla@customer.test>", subject: "VPN drops" }),
    // The same mail again (a second delivery): a duplicate of the first.
    rawMail({ messageId: id(1), from: "Carla <carla@customer.test>", subject: "VPN drops" }),
    // A follow-up that answers the first mail: it threads into that ticket.
    rawMail({
      messageId: id(2),
      from: "Carla <carla@customer.test>",
      subject: "Re: VPN drops",
      inReplyTo: id(1),
      cc: "Dan <dan@customer.test>",
      body: "Also on the laptop.",
    }),
    // Dan, added as a participant by the mail before, answers the first mail too.
    rawMail({ messageId: id(3), from: "Dan <dan@customer.test>", subject: "Re: VPN drops", inReplyTo: id(1), references: `<${id(1)}>` }),
    // Three new requests from one address: the per-address limit (2) is reached inside the batch.
    ...[4, 5, 6].map((n) => rawMail({ messageId: id(n), from: "Eve <eve@customer.test>", subject: `Question ${n}` })),
    // No Message-ID: known by its fingerprint, twice.
    rawMail({ messageId: null, from: "Finn <finn@customer.test>", subject: "No id", body: "same body" }),
    rawMail({ messageId: null, from: "Finn <finn@customer.test>", subject: "No id", body: "same body" }),
  ];
}

/** What a user could see, without ids and Message-IDs that differ between two runs. */
async function snapshot(gw: TestGateway) {
  const db = gw.ctx.db;
  const tickets = await db.getRepository(Ticket).find({ order: { id: "ASC" } });
  const tIndex = new Map(tickets.map((t, i) => [t.id, i]));
  const messages = await db.getRepository(Message).find({ order: { id: "ASC" } });
  return {
    tickets: tickets.map((t) => [t.title, t.status, t.requesterAddress]),
    participants: (await db.getRepository(Participant).find({ order: { id: "ASC" } })).map((p) => [
      tIndex.get(p.ticketId),
      p.address,
      p.role,
    ]),
    messages: messages.map((m) => [
      tIndex.get(m.ticketId),
      m.direction,
      m.visibility,
      m.direction === "inbound" ? m.messageId : "",
      m.text,
    ]),
    outbox: (await db.getRepository(OutboxMail).find({ order: { id: "ASC" } })).map((o) => [tIndex.get(o.ticketId!), o.event, o.toAddress]),
    receipts: (await db.getRepository(MailReceipt).find({ order: { uid: "ASC" } })).map((r) => [
      r.outcome,
      r.errorCode,
      r.ticketId === null ? null : tIndex.get(r.ticketId),
    ]),
    trails: (await db.getRepository(TrailEntry).find({ order: { receiptId: "ASC", seq: "ASC" } })).map((s) => `${s.stage}/${s.verdict}`),
  };
}

for (const engine of ENGINES) {
  describe(`group commit: a batch of mails in one transaction, a savepoint each (${engine})`, () => {
    let one: TestGateway;
    let batch: TestGateway;
    before(async () => {
      const opts = { directory: faultyDirectory(), safety: { autoReplyPerAddress: 2 } };
      one = await createTestGateway(engine, opts);
      batch = await createTestGateway(engine, opts);
    });
    after(async () => {
      await one?.close();
      await batch?.close();
    });

    it("decides every mail of a batch as one mail at a time would, also when they refer to each other", async () => {
      const raws = mails(`agree-${engine}`);
      const pos = raws.map(() => nextPosition());
      for (const [i, raw] of raws.entries()) await processMail(one.ctx, { ...pos[i], mailbox: "one" }, raw);
      const results = await processMails(
        batch.ctx,
        raws.map((raw, i) => ({ position: { ...pos[i], mailbox: "one" }, raw })),
      );
      expect(results.every((r) => r !== null)).to.equal(true);
      expect(results.map((r) => r!.outcome)).to.deep.equal([
        "ticket_created",
        "duplicate",
        "reply_added",
        "reply_added",
        "ticket_created",
        "ticket_created",
        "ticket_created",
        "ticket_created",
        "duplicate",
      ]);
      const [a, b] = [await snapshot(one), await snapshot(batch)];
      expect(b).to.deep.equal(a);
      // Eve got two acknowledgements, not three: the limit counted the batch's own rows.
      expect(b.outbox.filter((o) => o[2] === "eve@customer.test" && o[1] === "received")).to.have.length(2);
    });

    it("decides the same when the batch is read in the reading thread (as the daemon reads it)", async () => {
      const threaded = await createTestGateway(engine, { directory: faultyDirectory(), safety: { autoReplyPerAddress: 2 } });
      const ctx = threaded.ctx;
      ctx.reader = new ReadingThread(ctx, ctx.logger);
      try {
        const raws = mails(`thread-${engine}`);
        const pos = raws.map(() => ({ ...nextPosition(), mailbox: "one" }));
        const alone = await createTestGateway(engine, { directory: faultyDirectory(), safety: { autoReplyPerAddress: 2 } });
        try {
          for (const [i, raw] of raws.entries()) await processMail(alone.ctx, pos[i], raw);
          const results = await processMails(
            ctx,
            raws.map((raw, i) => ({ position: pos[i], raw })),
          );
          expect(results.every((r) => r !== null)).to.equal(true);
          expect(await snapshot(threaded)).to.deep.equal(await snapshot(alone));
        } finally {
          await alone.close();
        }
      } finally {
        await ctx.reader.close();
        await threaded.close();
      }
    });

    it("rolls back only the bad mail; it is then recorded in Failed with its evidence, the others stay committed", async () => {
      const before = await batch.ctx.db.getRepository(Ticket).count();
      const raws = [
        rawMail({ messageId: `good1.${engine}@customer.test`, from: "Gina <gina@customer.test>", subject: "Good one" }),
        rawMail({ messageId: `bad.${engine}@customer.test`, from: `Bug <${BAD}>`, subject: "Breaks planning" }),
        rawMail({ messageId: `good2.${engine}@customer.test`, from: "Hugo <hugo@customer.test>", subject: "Good two" }),
      ];
      const positions: MailPosition[] = raws.map(() => nextPosition());
      const results = await processMails(
        batch.ctx,
        raws.map((raw, i) => ({ position: positions[i], raw })),
      );
      expect(results.map((r) => r?.outcome ?? null)).to.deep.equal(["ticket_created", null, "ticket_created"]);
      expect(await batch.ctx.db.getRepository(Ticket).count()).to.equal(before + 2);
      // The drain loop then processes the mail the batch left alone, which records its failure.
      const alone = await processMail(batch.ctx, positions[1], raws[1]);
      expect(alone).to.include({ outcome: "failed", errorCode: "EINTERNAL" });
      const receipt = await batch.ctx.db.getRepository(MailReceipt).findOneByOrFail({ id: alone.receiptId });
      expect(receipt).to.include({ messageIdHeader: `bad.${engine}@customer.test`, fromAddress: BAD });
      expect((await batch.ctx.blobs.get(receipt.rawSha256!)).equals(raws[1])).to.equal(true);
    });

    it("when a mail's write fails (here: its position committed meanwhile, as by another instance), loses and repeats nothing", async () => {
      const raw = rawMail({ messageId: `twin.${engine}@customer.test`, from: "Jo <jo@customer.test>", subject: "Twin" });
      const other = rawMail({ messageId: `twin-other.${engine}@customer.test`, from: "Kim <kim@customer.test>", subject: "Other" });
      const pos = nextPosition();
      const otherPos = nextPosition();
      const tickets = await batch.ctx.db.getRepository(Ticket).count();
      const batchOf = [
        { position: otherPos, raw: other },
        { position: pos, raw },
        { position: pos, raw },
      ];
      let results: Array<ProcessResult | null>;
      try {
        results = await processMails(batch.ctx, batchOf);
      } catch {
        // PostgreSQL: the failed statement aborted the transaction; nothing of the batch is written.
        expect(engine).to.equal("postgres");
        expect(await batch.ctx.db.getRepository(Ticket).count()).to.equal(tickets);
        results = [null, null, null];
      }
      if (engine === "sqlite") expect(results.map((r) => r?.outcome ?? null)).to.deep.equal(["ticket_created", "ticket_created", null]);
      // The drain then processes each mail the batch did not do, alone.
      for (const [i, m] of batchOf.entries()) results[i] ??= await processMail(batch.ctx, m.position, m.raw);
      expect(results.map((r) => r!.outcome)).to.deep.equal(["ticket_created", "ticket_created", "ticket_created"]);
      expect(results[2]!.alreadyDone).to.equal(true);
      expect(results[2]!.receiptId).to.equal(results[1]!.receiptId);
      expect(await batch.ctx.db.getRepository(Ticket).count()).to.equal(tickets + 2);
    });

    it("answers mails an earlier run committed from their receipts, writing nothing again", async () => {
      const raw = rawMail({ messageId: `again.${engine}@customer.test`, from: "Ida <ida@customer.test>" });
      const pos = nextPosition();
      const [first] = await processMails(batch.ctx, [{ position: pos, raw }]);
      const count = await batch.ctx.db.getRepository(Message).count();
      const [again] = await processMails(batch.ctx, [{ position: pos, raw }]);
      expect(again).to.include({ alreadyDone: true, receiptId: first!.receiptId, outcome: "ticket_created" });
      expect(await batch.ctx.db.getRepository(Message).count()).to.equal(count);
    });
  });
}
