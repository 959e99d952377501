import { expect } from "chai";
import { ImapFlow } from "imapflow";
import { MailWorld, requireDovecot, SUPPORT, waitFor } from "../helpers/mail-world.js";

/*
 * Three `ticketpost start` processes on one mailbox and one PostgreSQL database, killed and
 * restarted at random while they work, must behave as one: every mail handled once, every
 * acknowledgement sent once, and when the instance that drains the mailbox dies, another one
 * carries on.
 */
const CUSTOMERS = ["c1@customer.test", "c2@customer.test", "c3@customer.test", "c4@customer.test", "c5@customer.test"];
const TOTAL = 500;

/** A seeded generator, so a failing run can be repeated. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("end to end: three instances on PostgreSQL, with random kills and restarts", function () {
  let world: MailWorld;

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(
      CUSTOMERS,
      { autoReplyLimit: { perAddress: 1000, windowMinutes: 60 }, instances: { leaseSeconds: 6 } },
      "postgres",
    );
    world.updateConfig((c) => (c.imap.batchSize = 20));
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  it(`${TOTAL} mails → exactly ${TOTAL} tickets, each acknowledged once, every mail in Processed`, async function () {
    // Fill the shared mailbox first (as a backlog), then let the instances race for it.
    const client = new ImapFlow({
      host: world.dovecot.host,
      port: world.dovecot.imapPort,
      secure: false,
      auth: { user: SUPPORT, pass: world.dovecot.password },
      logger: false,
    });
    await client.connect();
    for (let i = 0; i < TOTAL; i++) {
      const from = CUSTOMERS[i % CUSTOMERS.length];
      await client.append(
        "INBOX",
        Buffer.from(
          `From: ${from}\r\nTo: ${SUPPORT}\r\nSubject: Request ${i}\r\nMessage-ID: <multi-${i}@customer.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nPlease help with ${i}.\r\n`,
        ),
      );
    }
    await client.logout();

    const rnd = random(42);
    const daemons = [world.startDaemon(), world.startDaemon(), world.startDaemon()];
    let kills = 0;
    const deadline = Date.now() + 25_000;
    while (Date.now() < deadline && (await world.ticketCount()) < TOTAL) {
      await new Promise((r) => setTimeout(r, 400 + Math.floor(rnd() * 1200)));
      const i = Math.floor(rnd() * daemons.length);
      daemons[i].child.kill("SIGKILL");
      await daemons[i].exited;
      kills++;
      daemons[i] = world.startDaemon();
    }
    console.log(`      ${kills} kill -9 while the instances worked; ${await world.ticketCount()} tickets at the last kill`);
    expect(kills, "the kills happened while there was work").to.be.greaterThan(2);

    const support = world.user(SUPPORT);
    try {
      await waitFor("every ticket", async () => (await world.ticketCount()) === TOTAL, 90_000, 500);
      await waitFor("the inbox to be empty", async () => (await support.count("INBOX")) === 0, 60_000, 500);
      // Distinct Message-IDs: a resent copy must not count as another ticket's acknowledgement.
      const users = CUSTOMERS.map((c) => world.user(c));
      await waitFor(
        "every acknowledgement",
        async () => {
          const ids = new Set<string | undefined>();
          for (const u of users) for (const m of await u.inbox()) ids.add(m.messageId);
          return ids.size >= TOTAL;
        },
        90_000,
        500,
      );
    } finally {
      for (const d of daemons) d.child.kill("SIGTERM");
      for (const d of daemons) await d.exited;
    }

    expect(await world.ticketCount()).to.equal(TOTAL);
    expect(await support.count("Processed")).to.equal(TOTAL);
    expect(await support.count("Failed")).to.equal(0);
    const list = await world.json<Array<{ title: string }>>(["tickets", "list"]);
    expect(new Set(list.map((t) => t.title)).size).to.equal(TOTAL);

    // Count the acknowledgements in the customers' inboxes: one per ticket. A kill between the
    // SMTP server's "250 OK" and the row being marked sent is the one way a mail goes out twice;
    // it then has the same Message-ID. Report those, and never allow more than one per kill.
    const perTicket = new Map<string, number>();
    const ids = new Set<string>();
    let total = 0;
    for (const c of CUSTOMERS) {
      for (const m of await world.user(c).inbox()) {
        const tag = /\[#(T-\d+)-/.exec(m.subject)?.[1];
        if (!tag) continue;
        total++;
        ids.add(m.messageId ?? "");
        perTicket.set(tag, (perTicket.get(tag) ?? 0) + 1);
      }
    }
    const repeated = [...perTicket.values()].filter((n) => n > 1).length;
    console.log(`      acknowledgements: ${total} for ${perTicket.size} tickets, ${ids.size} distinct Message-IDs, ${repeated} repeated`);
    expect(perTicket.size).to.equal(TOTAL);
    expect(ids.size, "one acknowledgement (one Message-ID) per ticket").to.equal(TOTAL);
    expect(total - TOTAL).to.be.at.most(kills);
  });

  it("when the instance draining the mailbox is killed, another takes over within the lease", async function () {
    const daemons = [world.startDaemon(), world.startDaemon()];
    try {
      const leader = await waitFor(
        "a leader",
        async () => daemons.find((d) => d.log().includes("mailbox leadership taken")) ?? null,
        20_000,
      );
      const other = daemons.find((d) => d !== leader)!;
      leader.child.kill("SIGKILL");
      await leader.exited;
      const t0 = Date.now();
      await world.user("c1@customer.test").send({ to: SUPPORT, subject: "After the failover", text: "still there?" });
      await world.user("c1@customer.test").waitForMail((m) => m.subject.includes("After the failover"), { timeoutMs: 30_000 });
      console.log(`      taken over and answered ${Date.now() - t0} ms after the leader died (lease 6 s)`);
      expect(other.log()).to.contain("mailbox leadership taken");
    } finally {
      for (const d of daemons) d.child.kill("SIGTERM");
      for (const d of daemons) await d.exited;
    }
  });
});
