import { expect } from "chai";
import { Message, OutboxMail, Participant, Ticket } from "../../src/db/entities.js";
import { showTicket } from "../../src/tickets/queries.js";
import { sendDigests } from "../../src/tickets/digests.js";
import { ENGINES } from "../helpers/databases.js";
import { ALICE, BOB, CARLA, DAVE, IT, SUPPORT, WENDY, useWorld, who } from "../helpers/workflow-world.js";

/*
 * Issue 12 through processMail against real databases: participants in Cc of every public mail,
 * #cc, #merge, #queue and the digest claim, checked on the outbox rows, the ticket rows and
 * what `tickets show` prints.
 */

const BOSS = "boss@customer.test";
const PEER = "peer@customer.test";

for (const engine of ENGINES) {
  describe(`people in the loop, merging and the queue (${engine})`, () => {
    const t = useWorld(engine);
    const { deliver, open, reply, ticket, queuedFor, one, db } = t;
    const cc = (row: OutboxMail) =>
      row.ccAddresses ? (JSON.parse(row.ccAddresses) as Array<{ address: string }>).map((c) => c.address) : [];
    const people = async (id: number) =>
      (
        await db()
          .getRepository(Participant)
          .find({ where: { ticketId: id }, order: { id: "ASC" } })
      ).map((p) => `${p.address}${p.removedAt ? " (off)" : ""}`);

    it("copies the people the requester copied on every public mail, in one mail; #cc remove and add change it", async () => {
      const first = await deliver({
        from: `Dave Doe <${DAVE}>`,
        to: IT,
        cc: `Boss <${BOSS}>`,
        subject: "Printer on floor 2 is jammed",
        body: "Error E-42.",
      });
      const id = first.ticketId!;
      expect(await people(id)).to.deep.equal([DAVE, BOSS]);
      expect(cc(one(await queuedFor(first.messageId), "received", DAVE))).to.deep.equal([BOSS]);

      const ask = await reply(id, ALICE, "#ask\nWhich floor exactly?");
      const question = one(await queuedFor(ask.messageId), "question", DAVE);
      expect(cc(question)).to.deep.equal([BOSS]);
      expect(
        who(await queuedFor(ask.messageId)).filter((w) => w.includes(BOSS)),
        "Boss gets the question in Cc, no mail of his own",
      ).to.deep.equal([]);
      const shown = await showTicket(db(), { prefix: "T" }, id);
      expect(shown!.messages.find((m) => m.id === question.messageRowId)).to.deep.include({ to: [DAVE], cc: [BOSS] });

      // The manager's reply-all threads in as a participant's public reply.
      const fromBoss = await reply(id, BOSS, "Floor 2, next to the kitchen.", { cc: DAVE });
      expect(fromBoss.outcome).to.equal("reply_added");
      expect((await db().getRepository(Message).findOneByOrFail({ messageId: fromBoss.messageId })).visibility).to.equal("public");

      const off = await reply(id, ALICE, "#cc remove boss@customer.test\nThanks, we are on it.");
      expect(cc(one(await queuedFor(off.messageId), "agent-reply", DAVE))).to.deep.equal([]);
      expect(await people(id)).to.deep.equal([DAVE, `${BOSS} (off)`]);
      // Dave's reply-all still copies the manager: taken off stays off.
      await reply(id, DAVE, "Great.", { cc: BOSS });
      expect(await people(id)).to.deep.equal([DAVE, `${BOSS} (off)`]);

      const back = await reply(id, ALICE, "#cc add peer@customer.test\n#resolve\nNew toner.");
      expect(cc(one(await queuedFor(back.messageId), "resolved", DAVE))).to.deep.equal([PEER]);
    });

    it("holds back a public mail that would carry internal text to a participant, as to the requester", async () => {
      const first = await deliver({ from: `Dave Doe <${DAVE}>`, to: IT, cc: BOSS, subject: "VPN drops", body: "Every hour." });
      const id = first.ticketId!;
      await reply(id, ALICE, "#note\nThe VPN concentrator license expired, finance has not paid the renewal yet.");
      const leak = await reply(id, ALICE, "The VPN concentrator license expired, finance has not paid the renewal yet.");
      expect(who(await queuedFor(leak.messageId))).to.deep.equal([`command-error→${ALICE}`]);
    });

    it("#merge folds a ticket into another: messages and people move, replies to either tag land there, both requesters told once", async () => {
      const a = await open({ subject: "Printer jammed" });
      const second = await deliver({ from: `Carla <${CARLA}>`, to: IT, cc: BOSS, subject: "Printer still jammed", body: "Same printer." });
      const b = second.ticketId!;
      const m = await reply(b, ALICE, `#merge T-${a}\nSame printer as T-${a}.`);
      const rows = await db()
        .getRepository(OutboxMail)
        .find({ where: { event: "merged" }, order: { id: "ASC" } });
      const merged = rows.filter((r) => r.ticketId === a);
      expect(merged.map((r) => `${r.toAddress}|${cc(r).join(",")}`)).to.deep.equal([`${DAVE}|`, `${CARLA}|${BOSS}`]);
      expect(merged.every((r) => r.subject.startsWith(`[#T-${a}]`))).to.equal(true);
      expect(await ticket(b)).to.include({ status: "resolved", mergedIntoId: a });
      expect(
        await db()
          .getRepository(Message)
          .count({ where: { ticketId: b, direction: "inbound" } }),
        "Carla's mail and the command mail moved",
      ).to.equal(0);
      expect(
        await db()
          .getRepository(Message)
          .count({ where: { ticketId: a, fromAddress: CARLA } }),
      ).to.equal(1);
      expect(await people(a)).to.include.members([DAVE, CARLA, BOSS]);
      expect(who(await queuedFor(m.messageId))).to.deep.equal([`command-confirmation→${ALICE}`]);

      const late = await reply(b, CARLA, "Now it prints again.");
      expect(late.ticketId).to.equal(a);
      const viaA = await reply(a, DAVE, "Confirmed.");
      expect(viaA.ticketId).to.equal(a);
      const self = await reply(a, ALICE, `#merge T-${b}`);
      expect(who(await queuedFor(self.messageId))).to.deep.equal([`command-error→${ALICE}`]);
    });

    it("#queue from an agent is answered with the open tickets of their departments in work order; no ticket is made", async () => {
      const low = await open({ subject: "Mouse squeaks", body: "Urgency: 1\n\nIt squeaks." });
      const down = await open({ subject: "Mail server down", body: "Urgency: system-down\n\nNobody can mail." });
      await deliver({ from: DAVE, to: "web@example.test", subject: "Web only" });
      const tickets = await db().getRepository(Ticket).count();
      const q = await deliver({ from: ALICE, to: SUPPORT, subject: "queue", body: "#queue" });
      expect(q.outcome).to.equal("answered");
      expect(await db().getRepository(Ticket).count()).to.equal(tickets);
      const answer = one(await queuedFor(q.messageId), "queue", ALICE);
      const order = [...answer.textBody.matchAll(/\[#T-(\d+)\]/g)].map((x) => Number(x[1]));
      expect(order.indexOf(down)).to.be.lessThan(order.indexOf(low));
      expect(order.indexOf(down)).to.equal(0);
      expect(answer.textBody).not.to.contain("Web only");
      expect(answer.textBody).to.contain(`mailto:${SUPPORT}?subject=${encodeURIComponent(`[#T-${down}] Mail server down`)}&body=%23take`);
    });

    it("sends one digest per department and period, however many runs claim it", async () => {
      await open({ subject: "Digest me" });
      const at = new Date("2026-11-30T06:30:00Z");
      // PostgreSQL: two runs at once, as two instances; SQLite has one writer (one process per file): one after the other.
      const run = () => sendDigests(db(), t.w.gw.ctx, at);
      const runs = engine === "postgres" ? await Promise.all([run(), run()]) : [await run(), await run()];
      expect(runs.flatMap((r) => r.sent).sort()).to.deep.equal(["consulting", "it", "web"]);
      expect(runs.flatMap((r) => r.skipped).sort()).to.deep.equal(["consulting", "it", "web"]);
      const digests = await db()
        .getRepository(OutboxMail)
        .find({ where: { event: "digest" } });
      const to = digests.map((d) => d.toAddress).sort();
      expect(to, "one digest per member, however many runs").to.deep.equal([...new Set(to)]);
      expect(to).to.include.members([ALICE, BOB, WENDY]);
      const alice = digests.find((d) => d.toAddress === ALICE)!;
      expect(alice.textBody).to.contain("Digest me").and.to.contain("mailto:");
      const again = await sendDigests(db(), t.w.gw.ctx, new Date("2026-12-01T06:30:00Z"));
      expect(again.sent).to.include("it");
    });
  });
}
