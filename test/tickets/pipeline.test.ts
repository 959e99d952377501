import { expect } from "chai";
import { MailReceipt, Message, OutboxMail, Participant, Ticket, TrailEntry, Attachment } from "../../src/db/entities.js";
import { processMail } from "../../src/tickets/pipeline.js";
import { ENGINES } from "../helpers/databases.js";
import { createTestGateway, nextPosition, rawMail, type TestGateway } from "../helpers/context.js";

for (const engine of ENGINES) {
  describe(`mail pipeline: parse → classify → thread → apply (${engine})`, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await createTestGateway(engine);
    });
    after(async () => gw?.close());

    const count = (entity: new () => object, where: object = {}) => gw.ctx.db.getRepository(entity as never).count({ where } as never);

    it("turns a new mail into a ticket with its message, participants, receipt, trail and an acknowledgement", async () => {
      const pos = nextPosition();
      const res = await processMail(
        gw.ctx,
        pos,
        rawMail({
          messageId: "first@customer.test",
          subject: "AW: WG: Printer on floor 2 is jammed",
          cc: "Dan <dan@customer.test>, support@example.test",
        }),
      );
      expect(res.outcome).to.equal("ticket_created");
      const ticket = await gw.ctx.db.getRepository(Ticket).findOneByOrFail({ id: res.ticketId! });
      expect(ticket.title).to.equal("Printer on floor 2 is jammed");
      expect(ticket.description).to.contain("error E-42");
      expect(ticket.requesterAddress).to.equal("carla@customer.test");
      expect(ticket.status).to.equal("new");
      const people = await gw.ctx.db.getRepository(Participant).find({ where: { ticketId: ticket.id }, order: { id: "ASC" } });
      expect(people.map((p) => [p.address, p.role])).to.deep.equal([
        ["carla@customer.test", "requester"],
        ["dan@customer.test", "cc"],
      ]);
      const receipt = await gw.ctx.db.getRepository(MailReceipt).findOneByOrFail({ id: res.receiptId });
      expect([receipt.mailbox, receipt.uidValidity, receipt.uid]).to.deep.equal([pos.mailbox, pos.uidValidity, pos.uid]);
      const trail = await gw.ctx.db.getRepository(TrailEntry).find({ where: { receiptId: res.receiptId }, order: { seq: "ASC" } });
      expect(trail.map((t) => t.stage)).to.deep.equal([
        "receive",
        "parse",
        "classify",
        "dedup",
        "thread",
        "fields",
        "route",
        "apply",
        "notify",
      ]);
      const out = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ ticketId: ticket.id });
      expect(out.toAddress).to.equal("carla@customer.test");
      expect(out.subject).to.equal(`[#T-${ticket.id}] We received your request: Printer on floor 2 is jammed`);
      expect(out.inReplyTo).to.equal("first@customer.test");
      expect(out.status).to.equal("pending");
      expect(out.messageId).to.match(/^ticketpost\..+@tickets\.example\.test$/);
    });

    it("handles the same position twice only once (the second run just learns it is done)", async () => {
      const pos = nextPosition();
      const raw = rawMail({});
      const first = await processMail(gw.ctx, pos, raw);
      const before = await count(Ticket);
      const again = await processMail(gw.ctx, pos, raw);
      expect(again.alreadyDone).to.equal(true);
      expect(again.receiptId).to.equal(first.receiptId);
      expect(await count(Ticket)).to.equal(before);
    });

    it("makes one ticket from one Message-ID delivered twice (two of our addresses, two positions)", async () => {
      const raw = rawMail({ messageId: "twice@customer.test", to: "support@example.test, help@example.test" });
      const a = await processMail(gw.ctx, nextPosition(), raw);
      const b = await processMail(gw.ctx, nextPosition(), raw);
      expect(a.outcome).to.equal("ticket_created");
      expect(b.outcome).to.equal("duplicate");
      expect(b.ticketId).to.equal(a.ticketId);
      expect(await count(Message, { messageId: "twice@customer.test" })).to.equal(1);
    });

    it("threads a reply by the tag in the subject, after any prefixes", async () => {
      const a = await processMail(gw.ctx, nextPosition(), rawMail({}));
      const r = await processMail(
        gw.ctx,
        nextPosition(),
        rawMail({ subject: `AW: [#T-${a.ticketId}] We received your request: Printer`, body: "It is a HP." }),
      );
      expect(r.outcome).to.equal("reply_added");
      expect(r.ticketId).to.equal(a.ticketId);
      expect(await count(Message, { ticketId: a.ticketId!, direction: "inbound" })).to.equal(2);
    });

    it("threads a reply by In-Reply-To alone (subject tag removed by the client)", async () => {
      const a = await processMail(gw.ctx, nextPosition(), rawMail({}));
      const ack = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ ticketId: a.ticketId! });
      const r = await processMail(gw.ctx, nextPosition(), rawMail({ subject: "Re: the printer", inReplyTo: ack.messageId }));
      expect(r.outcome).to.equal("reply_added");
      expect(r.ticketId).to.equal(a.ticketId);
    });

    it("threads by References when In-Reply-To names a mail we never saw", async () => {
      const a = await processMail(gw.ctx, nextPosition(), rawMail({ messageId: "orig-ref@customer.test" }));
      const r = await processMail(
        gw.ctx,
        nextPosition(),
        rawMail({ subject: "more", inReplyTo: "unknown@elsewhere.test", references: "<orig-ref@customer.test> <unknown@elsewhere.test>" }),
      );
      expect(r.ticketId).to.equal(a.ticketId);
    });

    it("makes a new ticket of a mail whose subject starts with Re: but has no reference", async () => {
      const before = await count(Ticket);
      const r = await processMail(gw.ctx, nextPosition(), rawMail({ subject: "Re: lunch on Friday?" }));
      expect(r.outcome).to.equal("ticket_created");
      expect(await count(Ticket)).to.equal(before + 1);
      const t = await gw.ctx.db.getRepository(Ticket).findOneByOrFail({ id: r.ticketId! });
      expect(t.title).to.equal("lunch on Friday?");
    });

    it("does not acknowledge an automatic mail (Auto-Submitted), but still records it", async () => {
      const r = await processMail(
        gw.ctx,
        nextPosition(),
        rawMail({ subject: "Nightly backup report", extra: ["Auto-Submitted: auto-generated"] }),
      );
      expect(r.outcome).to.equal("ticket_created");
      expect(await count(OutboxMail, { ticketId: r.ticketId! })).to.equal(0);
      const notify = r.trail.find((s) => s.stage === "notify")!;
      expect(notify.detail).to.contain("automatic mail: no acknowledgement (RFC 3834").and.to.contain("Auto-Submitted");
    });

    it("drops our own mail coming back, without an answer", async () => {
      const r = await processMail(
        gw.ctx,
        nextPosition(),
        rawMail({
          from: "support@example.test",
          subject: "[#T-1] We received your request",
          extra: ["X-Ticketpost-Loop: received; ticket=1"],
        }),
      );
      expect(r.outcome).to.equal("ignored");
      expect(r.ticketId).to.equal(null);
    });

    it("honours Reply-To for the requester", async () => {
      const r = await processMail(
        gw.ctx,
        nextPosition(),
        rawMail({ from: "noreply@portal.test", replyTo: "Real Person <real@customer.test>" }),
      );
      const t = await gw.ctx.db.getRepository(Ticket).findOneByOrFail({ id: r.ticketId! });
      expect(t.requesterAddress).to.equal("real@customer.test");
      expect(t.requesterName).to.equal("Real Person");
    });

    it("stores attachments content-addressed, with name, type and size", async () => {
      const raw = Buffer.from(
        [
          "From: carla@customer.test",
          "To: support@example.test",
          "Subject: screenshot",
          "Message-ID: <att@customer.test>",
          "MIME-Version: 1.0",
          'Content-Type: multipart/mixed; boundary="b1"',
          "",
          "--b1",
          "Content-Type: text/plain",
          "",
          "see attached",
          "--b1",
          'Content-Type: application/pdf; name="report.pdf"',
          'Content-Disposition: attachment; filename="report.pdf"',
          "Content-Transfer-Encoding: base64",
          "",
          Buffer.from("%PDF-1.4 fake").toString("base64"),
          "--b1--",
          "",
        ].join("\r\n"),
      );
      const r = await processMail(gw.ctx, nextPosition(), raw);
      const msg = await gw.ctx.db.getRepository(Message).findOneByOrFail({ messageId: "att@customer.test" });
      const [att] = await gw.ctx.db.getRepository(Attachment).find({ where: { messageRowId: msg.id } });
      expect(r.outcome).to.equal("ticket_created");
      expect([att.filename, att.contentType, att.size]).to.deep.equal(["report.pdf", "application/pdf", 13]);
      expect((await gw.ctx.blobs.get(att.sha256)).toString()).to.equal("%PDF-1.4 fake");
      expect((await gw.ctx.blobs.get(msg.rawSha256!)).equals(raw)).to.equal(true);
    });

    it("records a mail that cannot be used as failed, with the reason, and keeps its bytes", async () => {
      const raw = Buffer.from("Subject: no sender at all\r\n\r\nhello\r\n");
      const r = await processMail(gw.ctx, nextPosition(), raw);
      expect(r.outcome).to.equal("failed");
      expect(r.errorCode).to.equal("EPARSE");
      const receipt = await gw.ctx.db.getRepository(MailReceipt).findOneByOrFail({ id: r.receiptId });
      expect(receipt.reason).to.contain("no sender");
      expect((await gw.ctx.blobs.get(receipt.rawSha256!)).equals(raw)).to.equal(true);
    });

    it("fails an oversized mail with EOVERSIZE", async () => {
      const small = await createTestGateway(engine, { maxMessageBytes: 1024 });
      try {
        const r = await processMail(small.ctx, nextPosition(), rawMail({ body: "x".repeat(5000) }));
        expect(r.outcome).to.equal("failed");
        expect(r.errorCode).to.equal("EOVERSIZE");
      } finally {
        await small.close();
      }
    });

    it("withholds acknowledgements to one address beyond the per-address limit, and says so on the trail", async () => {
      const limited = await createTestGateway(engine, { safety: { autoReplyPerAddress: 2, autoReplyWindowMinutes: 60 } });
      try {
        const results = [];
        for (let i = 0; i < 3; i++)
          results.push(await processMail(limited.ctx, nextPosition(), rawMail({ from: "robot@customer.test", subject: `Auto ${i}` })));
        expect(results.map((r) => r.outcome)).to.deep.equal(["ticket_created", "ticket_created", "ticket_created"]);
        expect(await limited.ctx.db.getRepository(OutboxMail).count({ where: { toAddress: "robot@customer.test" } })).to.equal(2);
        const last = results[2].trail.find((t) => t.stage === "notify")!;
        expect(last.detail).to.match(/withheld: 2 automatic answers to this address/);
      } finally {
        await limited.close();
      }
    });
  });
}
