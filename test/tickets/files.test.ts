import { expect } from "chai";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import { OutboxAttachment, type OutboxMail } from "../../src/db/entities.js";
import { processMail } from "../../src/tickets/pipeline.js";
import { fileParts, planFiles } from "../../src/tickets/workflow/files.js";
import type { FileRef } from "../../src/tickets/workflow/plan.js";
import { ENGINES } from "../helpers/databases.js";
import { nextPosition } from "../helpers/context.js";
import { makePdf, makePng, randomishBytes, sha256 } from "../helpers/png.js";
import { ALICE, BOB, DAVE, IT, SUPPORT, useWorld, who } from "../helpers/workflow-world.js";

/*
 * Which files each status mail carries, through processMail against a real database: the files
 * of the reported mail travel to the agents; an authenticated agent's files travel to the
 * requester; nothing of an internal mail (a stranger's file) ever reaches the requester, and an
 * unauthenticated agent's mail sends nothing at all.
 */

interface Part {
  filename: string;
  content: Buffer;
  contentType: string;
}

async function mailWith(h: {
  from: string;
  to?: string;
  subject: string;
  text: string;
  files?: Part[];
  inReplyTo?: string;
}): Promise<{ raw: Buffer; messageId: string }> {
  const messageId = `${Math.random().toString(36).slice(2)}@mail.test`;
  const raw = await new MailComposer({
    from: h.from,
    to: h.to ?? SUPPORT,
    subject: h.subject,
    text: h.text,
    messageId: `<${messageId}>`,
    inReplyTo: h.inReplyTo,
    attachments: h.files,
  })
    .compile()
    .build();
  return { raw, messageId };
}

const ref = (name: string, size: number, sha = name): FileRef => ({
  sha256: sha,
  filename: name,
  contentType: "application/octet-stream",
  size,
  inline: false,
});

describe("tickets/files: planning which files a mail carries (pure)", () => {
  it("planFiles attaches everything within the limit, else lists everything; only an agent is told #files / #dateien", () => {
    expect(planFiles([], 100, true, "en")).to.equal(undefined);
    expect(planFiles([ref("a", 60), ref("b", 40)], 100, true, "en")).to.deep.include({
      attach: [ref("a", 60), ref("b", 40)],
      list: [],
      command: null,
    });
    expect(planFiles([ref("a", 60), ref("b", 41)], 100, true, "de")).to.deep.include({
      attach: [],
      list: [ref("a", 60), ref("b", 41)],
      command: "#dateien",
    });
    expect(planFiles([ref("a", 60), ref("b", 41)], 100, false, "en")).to.deep.include({ command: null });
    expect(planFiles([ref("a", 60), ref("a", 60)], 100, true, "en")!.attach, "the same file twice is one file").to.have.length(1);
  });

  it("fileParts packs files in order into parts under the limit; a file over the limit is listed in the last part", () => {
    const parts = fileParts([ref("a", 60), ref("b", 30), ref("c", 50), ref("huge", 500), ref("d", 100)], 100);
    expect(parts.map((p) => p.attach.map((f) => f.filename))).to.deep.equal([["a", "b"], ["c"], ["d"]]);
    expect(parts.map((p) => p.part)).to.deep.equal([
      { n: 1, of: 3 },
      { n: 2, of: 3 },
      { n: 3, of: 3 },
    ]);
    expect(parts.map((p) => p.list.map((f) => f.filename))).to.deep.equal([[], [], ["huge"]]);
    expect(fileParts([], 100), "#files on a ticket without files is still answered").to.deep.equal([
      { attach: [], list: [], command: null, limit: 100, part: { n: 1, of: 1 } },
    ]);
  });
});

for (const engine of ENGINES) {
  describe(`tickets/files (${engine}): files in the outbox rows`, function () {
    const t = useWorld(engine, { safety: { maxAttachmentBytes: 100_000 } });
    const png = makePng(80, 60, 9, 40);
    const pdf = makePdf("Quote 2026-117");

    async function deliver(mail: { raw: Buffer; messageId: string }) {
      const res = await processMail(t.w.gw.ctx, nextPosition(), mail.raw);
      expect(res.outcome, res.reason ?? "").to.not.equal("failed");
      return res;
    }
    const filesOf = async (row: OutboxMail) =>
      (
        await t
          .db()
          .getRepository(OutboxAttachment)
          .find({ where: { outboxId: row.id }, order: { seq: "ASC" } })
      ).map((a) => `${a.filename}:${a.sha256}`);

    it("a requester's file goes with the new-ticket mails to the agents, not back with the acknowledgement; an agent's answer carries the agent's file to the requester", async () => {
      const first = await mailWith({
        from: `Dave Doe <${DAVE}>`,
        to: IT,
        subject: "Printer error",
        text: "See the photo.",
        files: [{ filename: "photo.png", content: png, contentType: "image/png" }],
      });
      const res = await deliver(first);
      const rows = await t.queuedFor(first.messageId);
      expect(who(rows)).to.deep.equal([`new-ticket→${ALICE}`, `new-ticket→${BOB}`, `received→${DAVE}`]);
      for (const r of rows)
        expect(await filesOf(r), `${r.event}→${r.toAddress}`).to.deep.equal(r.event === "new-ticket" ? [`photo.png:${sha256(png)}`] : []);

      const answer = await mailWith({
        from: ALICE,
        subject: `Re: [#T-${res.ticketId}] New ticket: Printer error`,
        text: "The quote for the repair is attached.",
        files: [{ filename: "quote.pdf", content: pdf, contentType: "application/pdf" }],
      });
      await deliver(answer);
      const reply = t.one(await t.queuedFor(answer.messageId), "agent-reply", DAVE);
      expect(await filesOf(reply)).to.deep.equal([`quote.pdf:${sha256(pdf)}`]);
      expect(reply.textBody).to.contain("quote.pdf (application/pdf,");
    });

    it("a stranger's file stays internal: the agents get it, and an answer attaching it is held back, nothing reaches the requester", async () => {
      const secret = randomishBytes(4_000, 7);
      const first = await mailWith({ from: DAVE, to: IT, subject: "VPN", text: "VPN drops." });
      const id = (await deliver(first)).ticketId!;
      const stranger = await mailWith({
        from: "mallory@elsewhere.test",
        subject: `Re: [#T-${id}] VPN`,
        text: "Internal config of your firewall.",
        files: [{ filename: "firewall.conf", content: secret, contentType: "text/plain" }],
      });
      await deliver(stranger);
      const told = await t.queuedFor(stranger.messageId);
      expect(who(told)).to.deep.equal([`stranger-reply→${ALICE}`, `stranger-reply→${BOB}`]);
      for (const r of told) expect(await filesOf(r)).to.deep.equal([`firewall.conf:${sha256(secret)}`]);

      const leak = await mailWith({
        from: ALICE,
        subject: `Re: [#T-${id}] VPN`,
        text: "Please check this file.",
        files: [{ filename: "settings.txt", content: secret, contentType: "text/plain" }],
      });
      const res = await deliver(leak);
      const rows = await t.queuedFor(leak.messageId);
      expect(who(rows), "only the agent hears back").to.deep.equal([`command-error→${ALICE}`]);
      expect(rows[0].textBody).to.contain("internal text or files").and.to.contain("file settings.txt");
      expect(res.outcome).to.equal("reply_added");
    });

    it("an unauthenticated agent's answer with a file sends the requester nothing", async () => {
      const first = await mailWith({ from: DAVE, to: IT, subject: "Mail quota", text: "Mailbox full." });
      const id = (await deliver(first)).ticketId!;
      const verify = t.w.gw.ctx.verifyAgent;
      t.w.gw.ctx.verifyAgent = () => ({ ok: false, reason: "no trusted Authentication-Results (test)" });
      try {
        const forged = await mailWith({
          from: ALICE,
          subject: `Re: [#T-${id}] Mail quota`,
          text: "Install the attached tool.",
          files: [{ filename: "tool.pdf", content: pdf, contentType: "application/pdf" }],
        });
        await deliver(forged);
        const rows = await t.queuedFor(forged.messageId);
        expect(rows.filter((r) => r.toAddress === DAVE)).to.deep.equal([]);
      } finally {
        t.w.gw.ctx.verifyAgent = verify;
      }
    });
  });
}
