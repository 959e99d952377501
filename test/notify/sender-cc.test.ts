import { expect } from "chai";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { AddressFlag, Ticket } from "../../src/db/entities.js";
import { queueNotification } from "../../src/notify/outbox.js";
import { OutboxSender } from "../../src/notify/sender.js";
import { SmtpTransport } from "../../src/notify/smtp-transport.js";
import { silentLogger } from "../../src/shared/logger.js";
import { createTestGateway, type TestGateway } from "../helpers/context.js";
import { sampleTemplateData } from "../helpers/template-data.js";

/*
 * A public mail with the ticket's participants in Cc, through the outbox to a real SMTP server:
 * one SMTP transaction, every recipient in the envelope and the Cc header; an address that
 * bounced for good (flagged after the mail was queued) is left out, and the others still get it.
 */

async function smtpServer() {
  const received: Array<{ rcpt: string[]; raw: Buffer }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push({ rcpt: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return { port, received, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

describe("outbox sender: participants in Cc (sqlite)", () => {
  let gw: TestGateway;
  const now = new Date("2026-11-26T10:00:00Z");
  before(async () => {
    gw = await createTestGateway("sqlite", { clock: { now: () => now } });
  });
  after(async () => gw?.close());

  async function queue(to: string, cc: string[]) {
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
      const data = sampleTemplateData({ id: ticket.id, title: "Printer", recipient: { address: to, name: null } });
      return queueNotification(em, gw.ctx, {
        ticket,
        event: "received",
        to: { address: to, name: null },
        cc: cc.map((address) => ({ address, name: null })),
        language: "en",
        data,
        inReplyTo: null,
        references: [],
      });
    });
  }

  const cases: Array<[string, string, string[], string[], { to: string[]; cc: string[] }]> = [
    // [case, To, Cc, bounced for good, what arrives]
    [
      "one mail: To the requester, Cc the participants",
      "carla@customer.test",
      ["mira@customer.test", "otto@customer.test"],
      [],
      { to: ["carla@customer.test"], cc: ["mira@customer.test", "otto@customer.test"] },
    ],
    [
      "a bounced participant is left out",
      "carla@customer.test",
      ["mira@customer.test", "dead@customer.test"],
      ["dead@customer.test"],
      { to: ["carla@customer.test"], cc: ["mira@customer.test"] },
    ],
    [
      "a bounced requester: the first participant gets it in To",
      "gone@customer.test",
      ["mira@customer.test", "otto@customer.test"],
      ["gone@customer.test"],
      { to: ["mira@customer.test"], cc: ["otto@customer.test"] },
    ],
  ];
  for (const [name, to, cc, bounced, expected] of cases) {
    it(name, async () => {
      const smtp = await smtpServer();
      const sender = new OutboxSender({
        db: gw.ctx.db,
        transport: new SmtpTransport({
          host: "127.0.0.1",
          port: smtp.port,
          secure: false,
          user: null,
          password: null,
          tls: { rejectUnauthorized: true },
        }),
        from: { name: "ACME Support", address: "support@example.test" },
        cfg: { intervalMs: 1000, maxAttempts: 3, backoffBaseMs: 60_000, backoffMaxMs: 3_600_000, claimMs: 60_000 },
        clock: { now: () => now },
        logger: silentLogger,
        blobs: gw.ctx.blobs,
      });
      try {
        await queue(to, cc);
        for (const address of bounced)
          await gw.ctx.db
            .getRepository(AddressFlag)
            .save({ address, permanent: true, status: "5.1.1", reason: "no such user", ticketId: null, bounces: 1, flaggedAt: now });
        expect(await sender.runOnce()).to.deep.equal({ sent: 1, deferred: 0, failed: 0 });
        expect(smtp.received).to.have.length(1);
        const mail = await simpleParser(smtp.received[0].raw);
        const list = (v: typeof mail.to) => (Array.isArray(v) ? v : v ? [v] : []).flatMap((a) => a.value.map((x) => x.address));
        expect({ to: list(mail.to), cc: list(mail.cc) }).to.deep.equal(expected);
        expect(smtp.received[0].rcpt.sort()).to.deep.equal([...expected.to, ...expected.cc].sort());
      } finally {
        await sender.stop();
        await smtp.stop();
      }
    });
  }
});
