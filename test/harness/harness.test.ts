import { existsSync } from "node:fs";
import net from "node:net";
import { expect } from "chai";
import { dovecotAvailable, isProcessAlive, startDovecot, type DovecotInstance } from "./dovecot.js";
import { MailUser } from "./mail-user.js";
import { startSmtpRelay, type AcceptedMail, type SmtpRelay } from "./smtp-relay.js";

const MISSING_DOVECOT =
  "dovecot is not installed, so the end-to-end mail tests cannot run. " +
  "Install it with: apt-get update && apt-get install -y dovecot-imapd dovecot-lmtpd";

describe("test harness (real Dovecot + SMTP relay)", function () {
  let dovecot: DovecotInstance | undefined;
  let relay: SmtpRelay | undefined;
  let alice: MailUser;
  let bob: MailUser;

  before(async function () {
    if (!dovecotAvailable()) {
      // On CI a missing dovecot is a broken image, not a reason to silently test less.
      if (process.env.CI) throw new Error(`${MISSING_DOVECOT} (required when CI is set)`);
      console.warn(`      skipped: ${MISSING_DOVECOT}`);
      this.skip();
    }
    dovecot = await startDovecot({ users: ["alice@example.test", "bob@example.test"] });
    relay = await startSmtpRelay({ lmtpHost: dovecot.host, lmtpPort: dovecot.lmtpPort });
    alice = MailUser.create({ dovecot, relay, address: "alice@example.test", name: "Alice Example" });
    bob = MailUser.create({ dovecot, relay, address: "bob@example.test", name: "Bob Example" });
  });

  after(async function () {
    await relay?.stop();
    await dovecot?.stop();
  });

  it("delivers alice's mail to bob and threads bob's reply back to her", async function () {
    const subject = `Printer on fire ${Date.now()}`;
    const sentId = await alice.send({ to: bob.address, subject, text: "It is on fire.\n\nPlease help." });

    const received = await bob.waitForMail((m) => m.messageId === sentId);
    expect(received.subject).to.equal(subject);
    expect(received.from).to.equal("alice@example.test");
    expect(received.to).to.deep.equal(["bob@example.test"]);
    expect(received.text).to.contain("It is on fire.");
    expect(relay!.accepted.map((m) => m.from)).to.include("alice@example.test");

    const replyId = await bob.reply(received, { text: "Have you tried water?" });

    const reply = await alice.waitForMail((m) => m.messageId === replyId);
    expect(reply.subject).to.equal(`Re: ${subject}`);
    expect(reply.inReplyTo).to.equal(sentId);
    expect(reply.references).to.deep.equal([sentId]);
    expect(reply.from).to.equal("bob@example.test");
    expect(reply.text).to.match(/^Have you tried water\?/);
    expect(reply.text).to.contain("Alice Example <alice@example.test> wrote:");
    expect(reply.text).to.contain("> It is on fire.\n>\n> Please help.");
  });

  it("does not stack reply prefixes and follows Reply-To", async function () {
    const subject = `Re: Invoice ${Date.now()}`;
    const sentId = await alice.send({ to: bob.address, subject, text: "see above", replyTo: "alice@example.test" });
    const received = await bob.waitForMail((m) => m.messageId === sentId);

    const replyId = await bob.reply(received, { text: "ok" });
    const reply = await alice.waitForMail((m) => m.messageId === replyId);
    expect(reply.subject).to.equal(subject);
    expect(reply.inReplyTo).to.equal(sentId);
  });

  it("delivers plus-addressed mail to the base user's INBOX", async function () {
    const before = await bob.count();
    const sentId = await alice.send({ to: "bob+ticket-42@example.test", subject: "tagged", text: "x" });
    const received = await bob.waitForMail((m) => m.messageId === sentId);
    expect(received.to).to.deep.equal(["bob+ticket-42@example.test"]);
    expect(await bob.count()).to.equal(before + 1);
    expect(await bob.folders()).to.include("INBOX");
  });

  it("answers 4xx when Dovecot does not know a recipient", async function () {
    let error: (Error & { responseCode?: number }) | undefined;
    try {
      await alice.send({ to: "nobody@example.test", subject: "lost", text: "x" });
    } catch (err) {
      error = err as Error & { responseCode?: number };
    }
    expect(error, "send should have failed").to.not.equal(undefined);
    expect(error!.responseCode).to.be.within(400, 499);
  });

  it("notifies onAccepted listeners once the mail is in the mailbox", async function () {
    const seen: AcceptedMail[] = [];
    const unsubscribe = relay!.onAccepted((m) => seen.push(m));
    try {
      const sentAt = Date.now();
      await alice.send({ to: bob.address, subject: "timed", text: "x" });
      expect(seen).to.have.length(1);
      expect(seen[0]!.to).to.deep.equal(["bob@example.test"]);
      expect(seen[0]!.at).to.be.at.least(sentAt);
      expect(seen[0]!.raw.toString("utf8")).to.contain("Subject: timed");
    } finally {
      unsubscribe();
    }
  });

  it("stop() leaves no dovecot process, files or listeners behind", async function () {
    const own = await startDovecot({ users: ["carol@example.test"] });
    const ownRelay = await startSmtpRelay({ lmtpHost: own.host, lmtpPort: own.lmtpPort });
    try {
      // Make dovecot fork its imap, lmtp and auth workers so there is more than the master to stop.
      const carol = MailUser.create({ dovecot: own, relay: ownRelay, address: "carol@example.test" });
      await carol.send({ to: carol.address, subject: "self", text: "x" });
      expect(await carol.count()).to.equal(1);
    } finally {
      await ownRelay.stop();
    }
    const pids = own.processIds();
    expect(pids).to.include(own.pid);
    expect(pids.length).to.be.greaterThan(1);

    await own.stop();

    expect(pids.filter(isProcessAlive), "still running").to.deep.equal([]);
    expect(existsSync(own.dir)).to.equal(false);
    expect(await canConnect(own.imapPort)).to.equal(false);
    expect(await canConnect(own.lmtpPort)).to.equal(false);
    await own.stop(); // idempotent
  });
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
