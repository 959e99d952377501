import { expect } from "chai";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { OutboxMail, Ticket } from "../../src/db/entities.js";
import { queueNotification } from "../../src/notify/outbox.js";
import { backoffDelay, OutboxSender } from "../../src/notify/sender.js";
import { SmtpTransport } from "../../src/notify/smtp-transport.js";
import { silentLogger } from "../../src/shared/logger.js";
import type { Clock } from "../../src/shared/clock.js";
import { createTestGateway, type TestGateway } from "../helpers/context.js";
import { ENGINES } from "../helpers/databases.js";
import { sampleTemplateData } from "../helpers/template-data.js";
import { makePdf, makePng, sha256 } from "../helpers/png.js";
import { contentIdOf } from "../../src/notify/files-view.js";
import type { PlannedFiles } from "../../src/tickets/workflow/plan.js";

/** A real SMTP server whose answer to RCPT TO the test decides. */
async function smtpServer(decide: (rcpt: string) => null | { code: number; message: string }) {
  const received: Buffer[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onRcptTo(address, _session, cb) {
      const verdict = decide(address.address);
      if (!verdict) return cb();
      const err = new Error(verdict.message) as Error & { responseCode: number };
      err.responseCode = verdict.code;
      cb(err);
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push(Buffer.concat(chunks));
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return { port, received, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

for (const engine of ENGINES) {
  describe(`outbox sender against a real SMTP server (${engine})`, () => {
    let gw: TestGateway;
    let now = new Date("2026-11-26T10:00:00Z");
    const clock: Clock = { now: () => new Date(now) };
    const cfg = { intervalMs: 1000, maxAttempts: 3, backoffBaseMs: 60_000, backoffMaxMs: 3_600_000, claimMs: 60_000 };

    before(async () => {
      gw = await createTestGateway(engine, { clock });
    });
    after(async () => gw?.close());

    async function queue(to: string, files?: PlannedFiles): Promise<OutboxMail> {
      return gw.ctx.db.transaction(async (em) => {
        const ticket = await em.save(
          em.create(Ticket, {
            title: "Printer",
            description: "jam",
            status: "new",
            requesterAddress: to,
            requesterName: null,
            language: "en",
            createdAt: now,
            updatedAt: now,
          }),
        );
        return queueNotification(em, gw.ctx, {
          ticket,
          event: "received",
          to: { address: to, name: "Carla" },
          language: "en",
          data: sampleTemplateData({ id: ticket.id, title: "Printer", recipient: { address: to, name: "Carla" } }),
          inReplyTo: "orig@customer.test",
          references: ["older@customer.test"],
          files,
        });
      });
    }

    function sender(port: number) {
      return new OutboxSender({
        db: gw.ctx.db,
        transport: new SmtpTransport({
          host: "127.0.0.1",
          port,
          secure: false,
          user: null,
          password: null,
          tls: { rejectUnauthorized: true },
        }),
        from: { name: "ACME Support", address: "support@example.test" },
        cfg,
        clock,
        logger: silentLogger,
        blobs: gw.ctx.blobs,
      });
    }

    it("sends a queued acknowledgement once, with our Message-ID, thread headers, Auto-Submitted and Reply-To", async () => {
      const smtp = await smtpServer(() => null);
      const s = sender(smtp.port);
      try {
        const row = await queue("carla@customer.test");
        expect(await s.runOnce()).to.deep.equal({ sent: 1, deferred: 0, failed: 0 });
        expect(await s.runOnce()).to.deep.equal({ sent: 0, deferred: 0, failed: 0 });
        expect(smtp.received).to.have.length(1);
        const mail = await simpleParser(smtp.received[0]);
        expect(mail.messageId).to.equal(`<${row.messageId}>`);
        expect(mail.inReplyTo).to.equal("<orig@customer.test>");
        expect(mail.references).to.deep.equal(["<older@customer.test>", "<orig@customer.test>"]);
        expect(mail.headers.get("auto-submitted")).to.equal("auto-replied");
        expect(mail.replyTo?.value[0].address).to.equal("support@example.test");
        expect(mail.subject).to.match(/^\[#T-\d+\] We received your request: Printer$/);
        const stored = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ id: row.id });
        expect(stored.status).to.equal("sent");
        expect(stored.sentAt).to.be.instanceOf(Date);
      } finally {
        await s.stop();
        await smtp.stop();
      }
    });

    it("attaches the files a row references, read from the blob store; an inline image gets its Content-ID; a missing blob defers the row (EBLOB)", async () => {
      const smtp = await smtpServer(() => null);
      const s = sender(smtp.port);
      try {
        const png = makePng(40, 30, 4, 20);
        const pdf = makePdf("Delivery note");
        const file = async (filename: string, contentType: string, content: Buffer, inline: boolean) => ({
          sha256: await gw.ctx.blobs.put(content),
          filename,
          contentType,
          size: content.length,
          inline,
        });
        const attach = [await file("screen.png", "image/png", png, true), await file("note.pdf", "application/pdf", pdf, false)];
        await queue("files@customer.test", { attach, list: [], command: null, limit: 1_000_000, part: null });
        expect(await s.runOnce()).to.deep.equal({ sent: 1, deferred: 0, failed: 0 });
        const mail = await simpleParser(smtp.received.at(-1)!, { skipImageLinks: true });
        expect(mail.attachments.map((a) => [a.filename, a.contentType, sha256(a.content)])).to.deep.equal([
          ["screen.png", "image/png", sha256(png)],
          ["note.pdf", "application/pdf", sha256(pdf)],
        ]);
        expect(mail.attachments[0].cid).to.equal(contentIdOf(attach[0], 0));
        expect(mail.attachments[1].cid ?? null, "an ordinary attachment has no Content-ID").to.equal(null);

        const missing = { sha256: "ab".repeat(32), filename: "gone.bin", contentType: "application/octet-stream", size: 3, inline: false };
        const row = await queue("gone@customer.test", { attach: [missing], list: [], command: null, limit: 1_000_000, part: null });
        expect(await s.runOnce()).to.deep.equal({ sent: 0, deferred: 1, failed: 0 });
        const stored = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ id: row.id });
        expect(stored.status).to.equal("pending");
        expect(stored.lastError).to.match(/^EBLOB: attachment gone\.bin/);
        // Out of the way of the tests below, which count what a run sends.
        await gw.ctx.db.getRepository(OutboxMail).delete({ id: row.id });
      } finally {
        await s.stop();
        await smtp.stop();
      }
    });

    it("defers on a temporary refusal with backoff, and sends on a later run", async () => {
      let refuse = true;
      const smtp = await smtpServer(() => (refuse ? { code: 451, message: "try again later" } : null));
      const s = sender(smtp.port);
      try {
        const row = await queue("later@customer.test");
        expect(await s.runOnce()).to.deep.equal({ sent: 0, deferred: 1, failed: 0 });
        let stored = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ id: row.id });
        expect(stored.status).to.equal("pending");
        expect(stored.attempts).to.equal(1);
        expect(stored.lastError).to.contain("451");
        expect(stored.nextAttemptAt.getTime() - now.getTime()).to.equal(backoffDelay(1, cfg));
        refuse = false;
        expect(await s.runOnce(), "not due yet").to.deep.equal({ sent: 0, deferred: 0, failed: 0 });
        now = new Date(now.getTime() + backoffDelay(1, cfg));
        expect(await s.runOnce()).to.deep.equal({ sent: 1, deferred: 0, failed: 0 });
        stored = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ id: row.id });
        expect(stored.status).to.equal("sent");
        expect(smtp.received).to.have.length(1);
      } finally {
        await s.stop();
        await smtp.stop();
      }
    });

    it("gives up at once on a permanent refusal and keeps the row with the reason", async () => {
      const smtp = await smtpServer(() => ({ code: 550, message: "no such user" }));
      const s = sender(smtp.port);
      try {
        const row = await queue("gone@customer.test");
        expect(await s.runOnce()).to.deep.equal({ sent: 0, deferred: 0, failed: 1 });
        const stored = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ id: row.id });
        expect(stored.status).to.equal("failed");
        expect(stored.lastError).to.match(/ESMTP_PERM.*550/);
      } finally {
        await s.stop();
        await smtp.stop();
      }
    });

    it("keeps a row pending while the SMTP server is down, then gives up after maxAttempts", async () => {
      const smtp = await smtpServer(() => null);
      const port = smtp.port;
      await smtp.stop();
      const s = sender(port);
      try {
        const row = await queue("down@customer.test");
        for (let i = 1; i <= cfg.maxAttempts; i++) {
          await s.runOnce();
          now = new Date(now.getTime() + cfg.backoffMaxMs);
        }
        const stored = await gw.ctx.db.getRepository(OutboxMail).findOneByOrFail({ id: row.id });
        expect(stored.attempts).to.equal(cfg.maxAttempts);
        expect(stored.status).to.equal("failed");
        expect(stored.lastError).to.contain("ESMTP_TEMP");
      } finally {
        await s.stop();
      }
    });

    it("backoff doubles and is capped", () => {
      expect([1, 2, 3, 10].map((n) => backoffDelay(n, { backoffBaseMs: 1000, backoffMaxMs: 5000 }))).to.deep.equal([
        1000, 2000, 4000, 5000,
      ]);
    });
  });
}
