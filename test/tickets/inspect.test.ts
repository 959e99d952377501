import { expect } from "chai";
import { MailReceipt, Message, OutboxMail, Ticket } from "../../src/db/entities.js";
import { inspectMail, printInspection, type Inspection } from "../../src/tickets/inspect.js";
import { trustFromAddress } from "../../src/tickets/agent-auth.js";
import { ENGINES } from "../helpers/databases.js";
import { rawMail } from "../helpers/context.js";
import { ALICE, DAVE, DAY, IT, SUPPORT, useWorld } from "../helpers/workflow-world.js";

/*
 * What `inspect` says for the mails where a hand-written copy of the pipeline used to disagree
 * with processing (issue 10): it now prints the plan processing would write.
 */

for (const engine of ENGINES) {
  describe(`inspect prints the plan processing would write (${engine})`, () => {
    const t = useWorld(engine);
    const { open, reply, db } = t;
    afterEach(() => (t.w.gw.ctx.verifyAgent = trustFromAddress));

    async function inspect(h: Parameters<typeof rawMail>[0]): Promise<Inspection> {
      const qr = db().createQueryRunner();
      await qr.startTransaction();
      try {
        return await inspectMail(t.w.gw.ctx, rawMail(h), qr.manager);
      } finally {
        await qr.rollbackTransaction();
        await qr.release();
      }
    }
    const counts = async () => [
      await db().getRepository(Ticket).count(),
      await db().getRepository(Message).count(),
      await db().getRepository(OutboxMail).count(),
      await db().getRepository(MailReceipt).count(),
    ];

    it("a new request: its department and fields, who gets mail; nothing is written", async () => {
      const before = await counts();
      const i = await inspect({ from: `Dave Doe <${DAVE}>`, to: IT, subject: "VPN drops", body: "Priority: high\n\nEvery ten minutes." });
      expect(i).to.include({ verdict: "new-ticket", outcome: "ticket_created", newTicket: true });
      expect(i.fields).to.include({ department: "it", priority: "high" });
      expect(i.notifications.map((n) => `${n.event}→${n.to}`))
        .to.include(`received→${DAVE}`)
        .and.to.include(`new-ticket→${ALICE}`);
      expect(printInspection(i)).to.match(/^department: it +priority: high/m);
      expect(await counts()).to.deep.equal(before);
    });

    it("a reply: the ticket and what changes, and no routing line", async () => {
      const id = await open();
      const i = await inspect({ from: `Dave Doe <${DAVE}>`, to: SUPPORT, subject: `Re: [#T-${id}] Printer`, body: "It is an HP." });
      expect(i).to.include({ verdict: "reply", outcome: "reply_added", ticket: `T-${id}`, newTicket: false, fields: null });
      expect(i.trail.map((s) => s.stage)).not.to.include("route");
      const text = printInspection(i);
      expect(text).not.to.match(/^department:/m);
      expect(text).to.contain("mail: answer-received to alice@example.test");
    });

    it("an automatic request: a new ticket without acknowledgement, and the trail says why", async () => {
      const i = await inspect({
        from: "monitor@customer.test",
        to: IT,
        subject: "Disk 91% full",
        extra: ["Auto-Submitted: auto-generated"],
      });
      expect(i).to.include({ verdict: "new-ticket", outcome: "ticket_created" });
      expect(i.notifications.map((n) => n.event)).not.to.include("received");
      expect(i.trail.find((s) => s.stage === "notify")!.detail).to.contain("RFC 3834");
    });

    it("a late reply to a resolved ticket: a new linked ticket", async () => {
      const id = await open();
      await reply(id, ALICE, "#resolve\nDone.");
      t.w.now += 30 * DAY;
      const i = await inspect({ from: `Dave Doe <${DAVE}>`, to: SUPPORT, subject: `Re: [#T-${id}] Printer`, body: "It jams again." });
      expect(i).to.include({ verdict: "late-reply", outcome: "ticket_created", newTicket: true });
    });

    it("an unauthenticated plain answer in an agent's name: kept internal", async () => {
      const id = await open();
      t.w.gw.ctx.verifyAgent = () => ({ ok: false, reason: "no trusted Authentication-Results" });
      const i = await inspect({
        from: `Alice Admin <${ALICE}>`,
        to: SUPPORT,
        subject: `Re: [#T-${id}] Printer`,
        body: "Send us the serial number.",
      });
      expect(i).to.include({ verdict: "unverified-agent", outcome: "reply_added" });
      expect(i.message).to.include({ visibility: "internal" });
      expect(i.notifications.map((n) => n.to)).not.to.include(DAVE);
    });

    it("a command processing refuses: command-error, only the agent hears of it", async () => {
      const id = await open();
      const i = await inspect({ from: `Wendy Web <wendy@example.test>`, to: SUPPORT, subject: `Re: [#T-${id}] Printer`, body: "#take" });
      expect(i.verdict).to.equal("command-error");
      expect(i.notifications.map((n) => `${n.event}→${n.to}`)).to.deep.equal(["command-error→wendy@example.test"]);
    });

    it("a mail with no sender: Failed, with the reason", async () => {
      const qr = db().createQueryRunner();
      await qr.startTransaction();
      try {
        const i = await inspectMail(t.w.gw.ctx, Buffer.from("Subject: who am I\r\n\r\nhello\r\n"), qr.manager);
        expect(i).to.include({ verdict: "failed", outcome: "failed", errorCode: "EPARSE" });
      } finally {
        await qr.rollbackTransaction();
        await qr.release();
      }
    });
  });
}
