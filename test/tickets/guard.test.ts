import { expect } from "chai";
import { OutboxMail, TrailEntry } from "../../src/db/entities.js";
import { runTerminalAction } from "../../src/tickets/terminal.js";
import { ENGINES } from "../helpers/databases.js";
import { ALICE, BOB, DAVE, SUPPORT, sorted, useWorld, who } from "../helpers/workflow-world.js";

/*
 * The guard: no mail to a requester carries a ticket's internal text, whatever path turns an
 * agent's words into a public mail. Quote stripping already cuts our own mails (the note's
 * notification among them) wherever a run of ten of their words shows up in a reply; what it
 * leaves is a shorter fragment copied into the agent's own sentence. The fragments here are eight
 * or nine words of the internal text, woven into the agent's words: only the guard stands between
 * them and the requester.
 */

const NOTE = "Client has two unpaid invoices; finance says no free visit until they pay.";
const NOTE_FRAGMENT = "two unpaid invoices; finance says no free visit";
if (!NOTE.includes(NOTE_FRAGMENT)) throw new Error("the fragment must be the note's own words");
const STRANGER_WORDS = "I am their landlord and they owe me three months of rent.";
const STRANGER_FRAGMENT = "landlord and they owe me three months of rent";

for (const engine of ENGINES) {
  describe(`internal text never reaches a requester: the guard (${engine})`, () => {
    const t = useWorld(engine);
    const { open, reply, deliver, ticket, stored, queuedFor, queuedForTicket, one, db } = t;

    /** A ticket with Bob's internal note on it. */
    async function withNote(): Promise<number> {
      const id = await open();
      await reply(id, `Bob Berger <${BOB}>`, `#note\n${NOTE}`);
      return id;
    }

    /** The agent's mail was held back: nothing changed, nothing reached Dave, the agent was told how to resend. */
    async function expectHeldBack(id: number, r: { messageId: string; receiptId: number }, agent: string) {
      const rows = await queuedFor(r.messageId);
      expect(who(rows), "only the agent hears of it").to.deep.equal([`command-error→${agent}`]);
      expect(rows[0].textBody).to.contain("internal text").and.to.contain("Send your answer again").and.to.contain("unpaid invoices");
      expect((await stored(r.messageId)).visibility).to.equal("internal");
      const toDave = (await queuedForTicket(id)).filter((m) => m.toAddress === DAVE);
      for (const m of toDave) expect(m.textBody).not.to.contain("unpaid invoices");
      const trail = await db()
        .getRepository(TrailEntry)
        .find({ where: { receiptId: r.receiptId }, order: { seq: "ASC" } });
      expect(trail.map((s) => `${s.stage}/${s.verdict}`)).to.include("guard/held-back");
    }

    it("a plain answer that carries a note's words is held back, and the agent is told how to send it again", async () => {
      const id = await withNote();
      const before = await ticket(id);
      const r = await reply(id, `Alice Admin <${ALICE}>`, `Hello Dave, we saw ${NOTE_FRAGMENT} yet.\nA technician comes on Monday.`);
      await expectHeldBack(id, r, ALICE);
      expect(await ticket(id)).to.deep.equal(before);
    });

    it("a whole note pasted into an answer never reaches the requester (cut as our own text, or held back)", async () => {
      const id = await withNote();
      for (const body of [
        `Hello Dave, a technician comes on Monday.\n\n${NOTE}`,
        `Hello Dave,\n\n${NOTE}\n\nA technician comes on Monday.`,
      ]) {
        const r = await reply(id, `Alice Admin <${ALICE}>`, body);
        const toDave = (await queuedFor(r.messageId)).filter((m) => m.toAddress === DAVE);
        for (const m of toDave) expect(m.textBody).not.to.contain("unpaid invoices");
      }
    });

    it("a plain answer that quotes only the requester's own words goes out", async () => {
      const id = await withNote();
      const r = await reply(
        id,
        `Alice Admin <${ALICE}>`,
        "You wrote:\n> It shows error E-42 since this morning.\nPlease switch it off and on again.",
      );
      const rows = await queuedFor(r.messageId);
      expect(who(rows)).to.deep.equal([`agent-reply→${DAVE}`]);
      expect(rows[0].textBody).to.contain("switch it off and on again");
    });

    it("#ask with the note's words: held back, the ticket does not wait", async () => {
      const id = await withNote();
      const r = await reply(id, `Alice Admin <${ALICE}>`, `#ask\nCan you confirm there are ${NOTE_FRAGMENT} yet?`);
      await expectHeldBack(id, r, ALICE);
      expect((await ticket(id)).status).to.equal("new");
    });

    it("#resolve with the note's words as resolution: held back, the ticket stays open", async () => {
      const id = await withNote();
      const r = await reply(id, `Alice Admin <${ALICE}>`, `#resolve\nClosed: ${NOTE_FRAGMENT} before that.`);
      await expectHeldBack(id, r, ALICE);
      expect(await ticket(id)).to.include({ status: "new", resolution: null });
    });

    it("#take with an answer carrying the note: held back, nobody took the ticket", async () => {
      const id = await withNote();
      const r = await reply(id, `Alice Admin <${ALICE}>`, `#take\nWe are on it, but ${NOTE_FRAGMENT} first.`);
      await expectHeldBack(id, r, ALICE);
      expect((await ticket(id)).assigneeAddress).to.equal(null);
    });

    it("#assign text with the note's words goes to the colleague only; the requester gets nothing", async () => {
      const id = await withNote();
      const r = await reply(id, `Alice Admin <${ALICE}>`, `#assign bob@example.test\nBob, mind this: ${NOTE}\n${NOTE}`);
      const rows = await queuedFor(r.messageId);
      expect(who(rows)).to.deep.equal(sorted([`assigned→${BOB}`, `command-confirmation→${ALICE}`]));
      expect(one(rows, "assigned", BOB).textBody).to.contain("unpaid invoices");
      expect((await ticket(id)).assigneeAddress).to.equal(BOB);
    });

    it("a stranger's mail kept internal counts as internal text too", async () => {
      const id = await open();
      await deliver({ from: "Lars Landlord <lars@elsewhere.test>", to: SUPPORT, subject: `Re: [#T-${id}] Printer`, body: STRANGER_WORDS });
      const r = await reply(id, `Alice Admin <${ALICE}>`, `Dear Dave, your ${STRANGER_FRAGMENT}, he says.`);
      const rows = await queuedFor(r.messageId);
      expect(who(rows)).to.deep.equal([`command-error→${ALICE}`]);
      expect(rows[0].textBody).to.contain("three months of rent");
      expect(STRANGER_WORDS).to.contain(STRANGER_FRAGMENT);
    });

    it("at the terminal: an #ask carrying the note is refused, nothing is written or mailed", async () => {
      const id = await withNote();
      const before = await ticket(id);
      const outboxBefore = await db().getRepository(OutboxMail).count();
      const raw = Buffer.from(
        `From: ${ALICE}\r\nTo: ${SUPPORT}\r\nSubject: [#T-${id}] ask (terminal)\r\nMessage-ID: <terminal.guard.${engine}@tickets.example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n#ask\nCan you confirm there are ${NOTE_FRAGMENT} yet?\r\n`,
      );
      const out = await runTerminalAction(t.w.gw.ctx, id, raw);
      expect(out.commandErrors.join(" ")).to.contain("internal text").and.to.contain("unpaid invoices");
      expect(out.notified).to.deep.equal([]);
      expect(await ticket(id)).to.deep.equal(before);
      expect(await db().getRepository(OutboxMail).count()).to.equal(outboxBefore);
    });
  });
}
