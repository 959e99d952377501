import { expect } from "chai";
import { MailReceipt, Ticket, TrailEntry } from "../../src/db/entities.js";
import { evidenceFrom, MailProcessingError, recordFailure } from "../../src/tickets/failure.js";
import { Directory } from "../../src/tickets/directory.js";
import { processMail } from "../../src/tickets/pipeline.js";
import { retryFailedMails } from "../../src/tickets/retry.js";
import { step } from "../../src/tickets/trail.js";
import { TicketpostError } from "../../src/shared/errors.js";
import { ENGINES } from "../helpers/databases.js";
import { nextPosition, rawMail } from "../helpers/context.js";
import { IT, makeDirectory, useWorld } from "../helpers/workflow-world.js";

/*
 * A failure keeps its evidence. The fault is injected through the test's own directory (a bug in
 * one lookup that planning makes), not through any hook in the product: a TypeError thrown while
 * a new ticket is planned.
 */

const fault = { on: false };

/** The configured directory, except that while `fault.on` a language lookup throws as a bug would. */
class FaultyDirectory extends Directory {
  override languageFor(address: string, departmentId?: string | null): string {
    if (fault.on) throw new TypeError("Cannot read properties of undefined (reading 'language')");
    return super.languageFor(address, departmentId);
  }
}

function faultyDirectory(): Directory {
  const d = makeDirectory();
  return new FaultyDirectory(
    d.departments,
    d.defaultDepartmentId,
    d.departments.flatMap((x) => x.members).map((address) => ({ address, name: d.agent(address)?.name ?? null })),
    { "carla@customer.test": "de", "bob@example.test": "de" },
    "en",
    d.supportAddress,
  );
}

for (const engine of ENGINES) {
  describe(`failures keep their evidence (${engine})`, () => {
    const t = useWorld(engine, { directory: faultyDirectory });
    const ctx = () => t.w.gw.ctx;
    afterEach(() => (fault.on = false));

    it("a TypeError in planning: Failed with EINTERNAL, the bytes, Message-ID, hash and trail kept; retry works once the fault is gone", async () => {
      fault.on = true;
      const raw = rawMail({
        messageId: `bug.${engine}@customer.test`,
        from: "Dave Doe <dave@customer.test>",
        to: IT,
        subject: "Monitor flickers",
      });
      const r = await processMail(ctx(), nextPosition(), raw);
      expect(r.outcome).to.equal("failed");
      expect(r.errorCode).to.equal("EINTERNAL");
      expect(r.reason).to.contain("TypeError").and.to.contain("reading 'language'");
      const receipt = await t.db().getRepository(MailReceipt).findOneByOrFail({ id: r.receiptId });
      expect(receipt).to.include({
        messageIdHeader: `bug.${engine}@customer.test`,
        fromAddress: "dave@customer.test",
        errorCode: "EINTERNAL",
      });
      expect((await ctx().blobs.get(receipt.rawSha256!)).equals(raw)).to.equal(true);
      const trail = (
        await t
          .db()
          .getRepository(TrailEntry)
          .find({ where: { receiptId: r.receiptId }, order: { seq: "ASC" } })
      ).map((s) => `${s.stage}/${s.verdict}`);
      expect(trail).to.deep.equal(["receive/fetched", "parse/ok", "classify/request", "dedup/new", "thread/new-ticket", "apply/failed"]);
      expect(await t.db().getRepository(Ticket).count()).to.equal(0);

      fault.on = false;
      const [retried] = await retryFailedMails(ctx(), [r.receiptId]);
      expect(retried.result?.outcome).to.equal("ticket_created");
      expect((await t.db().getRepository(Ticket).findOneByOrFail({ id: retried.result!.ticketId! })).title).to.equal("Monitor flickers");
      expect((await t.db().getRepository(MailReceipt).findOneByOrFail({ id: r.receiptId })).outcome).to.equal("retried");
    });

    it("giving up on a mail after retryable errors keeps the evidence the error carries", async () => {
      const raw = rawMail({ messageId: `gaveup.${engine}@customer.test` });
      const sha = await ctx().blobs.put(raw);
      const evidence = evidenceFrom(null, { sha256: sha, size: raw.length }, [
        step("receive", "fetched", "INBOX uid 7"),
        step("parse", "ok", "Message-ID gaveup"),
      ]);
      const cause = new MailProcessingError(
        "EDB",
        "database is locked",
        { ...evidence, messageId: `gaveup.${engine}@customer.test` },
        { retryable: true },
      );
      // As the mailbox drain gives up (src/cli/gateway.ts): a new error, the old one as its cause.
      const r = await recordFailure(
        ctx(),
        nextPosition(),
        new TicketpostError("EDB", `gave up after repeated errors: ${cause.message}`, { retryable: false, cause }),
      );
      const receipt = await t.db().getRepository(MailReceipt).findOneByOrFail({ id: r.receiptId });
      expect(receipt).to.include({ messageIdHeader: `gaveup.${engine}@customer.test`, rawSha256: sha, errorCode: "EDB" });
      expect(r.trail.map((s) => s.stage)).to.deep.equal(["receive", "parse", "apply"]);
      const [retried] = await retryFailedMails(ctx(), [r.receiptId]);
      expect(retried.result?.outcome).to.equal("ticket_created");
    });

    it("a mail without a sender fails with EPARSE and its bytes, and retrying it fails the same way", async () => {
      const raw = Buffer.from(`Subject: nobody wrote this\r\nMessage-ID: <nosender.${engine}@x.test>\r\n\r\nhello\r\n`);
      const r = await processMail(ctx(), nextPosition(), raw);
      expect([r.outcome, r.errorCode]).to.deep.equal(["failed", "EPARSE"]);
      const [retried] = await retryFailedMails(ctx(), [r.receiptId]);
      expect([retried.result?.outcome, retried.result?.errorCode]).to.deep.equal(["failed", "EPARSE"]);
    });
  });
}
