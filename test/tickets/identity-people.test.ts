import { expect } from "chai";
import { Message, Participant, TrailEntry } from "../../src/db/entities.js";
import { processMail } from "../../src/tickets/pipeline.js";
import { ENGINES } from "../helpers/databases.js";
import { nextPosition, rawMail } from "../helpers/context.js";
import { ALICE, DAVE, IT, SUPPORT, sorted, useWorld, who } from "../helpers/workflow-world.js";

/*
 * Identity (a duplicate is the same Message-ID and the same content) and people (whom a
 * participant copies in joins the ticket), through processMail on both engines.
 */

const TOM = "tom@customer.test";

for (const engine of ENGINES) {
  describe(`identity and people (${engine})`, () => {
    const t = useWorld(engine, { safety: { maxParticipants: 4 } });
    const { open, reply, deliver, stored, queuedFor, db } = t;
    const ctx = () => t.w.gw.ctx;
    const trailOf = async (receiptId: number) =>
      (
        await db()
          .getRepository(TrailEntry)
          .find({ where: { receiptId }, order: { seq: "ASC" } })
      ).map((s) => `${s.stage}/${s.verdict}`);
    const participants = async (id: number) =>
      (
        await db()
          .getRepository(Participant)
          .find({ where: { ticketId: id }, order: { id: "ASC" } })
      ).map((p) => p.address);

    describe("identity", () => {
      it("a different mail that reuses a Message-ID is a new mail, and the trail says so", async () => {
        const id = `reused.${engine}@carrier.test`;
        const a = await deliver({
          messageId: id,
          from: "notices@carrier.test",
          to: IT,
          subject: "Shipment 1 delivered",
          body: "Your shipment 1 was delivered.",
        });
        const b = await deliver({
          messageId: id,
          from: "notices@carrier.test",
          to: IT,
          subject: "Shipment 2 held at customs",
          body: "Send the commercial invoice within 5 days.",
        });
        expect([a.outcome, b.outcome]).to.deep.equal(["ticket_created", "ticket_created"]);
        expect(b.ticketId).not.to.equal(a.ticketId);
        expect(await trailOf(b.receiptId)).to.include("dedup/reused-message-id");
        expect(
          await db()
            .getRepository(Message)
            .count({ where: { messageId: id } }),
        ).to.equal(2);
      });

      it("the same mail with that Message-ID a third time is a duplicate of the one it equals", async () => {
        const id = `reused3.${engine}@carrier.test`;
        const first = { messageId: id, from: "notices@carrier.test", to: IT, subject: "Shipment 3 delivered", body: "Delivered." };
        const a = await deliver(first);
        await deliver({ ...first, subject: "Shipment 4 delayed", body: "Delayed." });
        const again = await processMail(ctx(), nextPosition(), rawMail(first));
        expect(again.outcome).to.equal("duplicate");
        expect(again.ticketId).to.equal(a.ticketId);
      });

      it("one mail without a Message-ID delivered to two of our addresses (only trace headers differ) is one ticket", async () => {
        const mail = (deliveredTo: string, hop: string) =>
          rawMail({
            messageId: null,
            from: "scanner@customer.test",
            to: `${IT}, web@example.test`,
            subject: "Scanner error E-204",
            body: "Paper jam in tray 2.",
            extra: [
              `Received: from ${hop} by mx.example.test; Thu, 26 Nov 2026 10:00:0${hop.length % 10} +0000`,
              `Delivered-To: ${deliveredTo}`,
            ],
          });
        const a = await processMail(ctx(), nextPosition(), mail(IT, "relay-a.customer.test"));
        const b = await processMail(ctx(), nextPosition(), mail("web@example.test", "relay-bb.customer.test"));
        expect(a.outcome).to.equal("ticket_created");
        expect(b.outcome).to.equal("duplicate");
        expect(b.ticketId).to.equal(a.ticketId);
        expect(await trailOf(b.receiptId)).to.include("dedup/duplicate");
      });

      it("two different mails without a Message-ID are two tickets", async () => {
        const a = await processMail(
          ctx(),
          nextPosition(),
          rawMail({ messageId: null, from: "scanner@customer.test", subject: "Scanner error E-311", body: "Lamp failure." }),
        );
        const b = await processMail(
          ctx(),
          nextPosition(),
          rawMail({ messageId: null, from: "scanner@customer.test", subject: "Scanner error E-312", body: "Lid open." }),
        );
        expect([a.outcome, b.outcome]).to.deep.equal(["ticket_created", "ticket_created"]);
        expect(a.ticketId).not.to.equal(b.ticketId);
      });
    });

    describe("people", () => {
      it("whom the requester copies into a reply becomes a participant; their reply-all is a public reply, not a stranger's", async () => {
        const id = await open();
        await reply(id, `Dave Doe <${DAVE}>`, "Adding my team lead.", { cc: `Tom Lead <${TOM}>, ${SUPPORT}, Alice <${ALICE}>` });
        expect(await participants(id))
          .to.include(TOM)
          .and.not.to.include(SUPPORT)
          .and.not.to.include(ALICE);
        const r = await reply(id, `Tom Lead <${TOM}>`, "He needs the CAD package and a second monitor.", { cc: DAVE });
        expect(r.outcome).to.equal("reply_added");
        const msg = await stored(r.messageId);
        expect(msg.visibility).to.equal("public");
        expect(msg.text).to.contain("CAD package");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`answer-received→${ALICE}`, "answer-received→bob@example.test"]));
      });

      it("a stranger's copies do not join: only a participant invites", async () => {
        const id = await open();
        await deliver({
          from: "mallory@elsewhere.test",
          to: SUPPORT,
          cc: "eve@elsewhere.test",
          subject: `Re: [#T-${id}] Printer`,
          body: "Let me in.",
        });
        expect(await participants(id))
          .not.to.include("eve@elsewhere.test")
          .and.not.to.include("mallory@elsewhere.test");
      });

      it("no more than limits.maxParticipants join", async () => {
        const id = await open();
        const cc = ["a", "b", "c", "d", "e"].map((x) => `${x}@customer.test`).join(", ");
        const r = await reply(id, `Dave Doe <${DAVE}>`, "Copying the whole team.", { cc });
        expect(await participants(id)).to.have.length(4);
        expect(await trailOf(r.receiptId)).to.include("people/limit");
      });
    });
  });
}
