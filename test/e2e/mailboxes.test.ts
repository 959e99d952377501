import { expect } from "chai";
import Database from "better-sqlite3";
import { ImapFlow } from "imapflow";
import path from "node:path";
import pg from "pg";
import { MailWorld, requireDovecot, SUPPORT, waitFor } from "../helpers/mail-world.js";

/*
 * Several mailboxes: the IT team's shared mailbox (support@) and web development's own (web@),
 * each its own IMAP account. Every mail is taken once, replies leave from the mailbox the ticket
 * came in through, and on PostgreSQL several instances drain the mailboxes in parallel, one
 * instance per mailbox at a time.
 */
const WEB = "web@example.test";
const CUSTOMERS = ["c1@customer.test", "c2@customer.test", "c3@customer.test"];

function mailboxesConfig(world: MailWorld): Array<Record<string, unknown>> {
  const account = {
    host: world.dovecot.host,
    port: world.dovecot.imapPort,
    secure: false,
    password: world.dovecot.password,
    schedule: "*/10 * * * * *",
  };
  return [
    { id: "support", user: SUPPORT, ...account },
    { id: "web", user: WEB, defaultDepartment: "web", ...account },
  ];
}

async function startWorld(engine: "sqlite" | "postgres", extra: Record<string, unknown> = {}): Promise<MailWorld> {
  const world = await MailWorld.start(
    [WEB, ...CUSTOMERS],
    {
      departments: [
        { id: "it", name: "IT service" },
        { id: "web", name: "Web development" },
      ],
      defaultDepartment: "it",
      autoReplyLimit: { perAddress: 1000, windowMinutes: 60 },
      ...extra,
    },
    engine,
  );
  world.updateConfig((c) => {
    delete c.imap;
    c.mailboxes = mailboxesConfig(world);
  });
  return world;
}

describe("end to end: two mailboxes, each its own account", function () {
  let world: MailWorld;

  before(async function () {
    requireDovecot(this);
    world = await startWorld("sqlite");
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  const receipts = (): Array<{ mailbox: string; outcome: string }> => {
    const db = new Database(path.join(world.dir, "data", "ticketpost.sqlite"), { readonly: true });
    try {
      return db.prepare("SELECT mailbox, outcome FROM mail_receipt ORDER BY id").all() as Array<{ mailbox: string; outcome: string }>;
    } finally {
      db.close();
    }
  };

  it("check and status name both mailboxes", async () => {
    const check = await world.cli(["check"]);
    expect(check.code, check.stdout).to.equal(0);
    expect(check.stdout).to.match(/^ok\s+imap\/support\s+logged in as support@example\.test/m);
    expect(check.stdout).to.match(/^ok\s+imap\/web\s+logged in as web@example\.test/m);
    const status = await world.json<{ mailboxes: Array<{ id: string; ok: boolean }> }>(["status"]);
    expect(status.mailboxes.map((m) => [m.id, m.ok])).to.deep.equal([
      ["support", true],
      ["web", true],
    ]);
  });

  it("each mailbox's mail becomes a ticket; web's goes to its department and is answered from web@", async () => {
    const c1 = world.user(CUSTOMERS[0]);
    await c1.send({ to: SUPPORT, subject: "Printer jam", text: "x" });
    await c1.send({ to: WEB, subject: "Broken link on the homepage", text: "y" });
    await waitFor("both mails delivered", async () => (await world.user(SUPPORT).count()) === 1 && (await world.user(WEB).count()) === 1);
    const run = await world.pollOnce();
    expect(run.byOutcome).to.deep.equal({ ticket_created: 2 });

    const list = await world.json<Array<{ title: string; department: string | null }>>(["tickets", "list"]);
    expect(list.map((t) => [t.title, t.department]).sort()).to.deep.equal([
      ["Broken link on the homepage", "web"],
      ["Printer jam", "it"],
    ]);
    const webAck = await c1.waitForMail((m) => m.subject.includes("Broken link"));
    expect(webAck.from).to.equal(WEB);
    expect(webAck.replyTo).to.deep.equal([WEB]);
    const itAck = await c1.waitForMail((m) => m.subject.includes("Printer jam"));
    expect(itAck.from).to.equal(SUPPORT);
    expect(
      receipts()
        .map((r) => r.mailbox)
        .sort(),
    ).to.deep.equal(["support", "web"]);
    expect(await world.user(WEB).count("Processed")).to.equal(1);

    // The customer's reply goes back to web@ and threads into the web ticket.
    await c1.reply(webAck, { text: "It is the 'Contact' link." });
    await waitFor("the reply in web@", async () => (await world.user(WEB).count()) === 1);
    expect((await world.pollOnce()).byOutcome).to.deep.equal({ reply_added: 1 });
  });

  it("a mail to both mailboxes makes one ticket (the second copy is a duplicate)", async () => {
    await world.user(CUSTOMERS[1]).send({ to: SUPPORT, cc: WEB, subject: "Both teams, please", text: "z" });
    await waitFor("both copies delivered", async () => (await world.user(SUPPORT).count()) === 1 && (await world.user(WEB).count()) === 1);
    const run = await world.pollOnce();
    expect(run.byOutcome).to.deep.equal({ ticket_created: 1, duplicate: 1 });
    const acks = (await world.user(CUSTOMERS[1]).inbox()).filter((m) => m.subject.includes("Both teams"));
    expect(acks).to.have.length(1);
  });
});

describe("end to end: three instances on PostgreSQL drain two mailboxes, with random kills", function () {
  let world: MailWorld;
  // Enough work that, with random kills, two instances are alive at once while both mailboxes still hold mail.
  const PER_MAILBOX = 300;

  before(async function () {
    requireDovecot(this);
    world = await startWorld("postgres", { instances: { leaseSeconds: 6 } });
    // An instance over its share hands a mailbox over after its current batch. A batch of 50 is
    // committed at once and takes so little time that one instance could drain both mailboxes
    // before another takes one; batches of 10 leave room for the hand-over this test watches.
    world.updateConfig((c) => {
      for (const m of c.mailboxes as Array<Record<string, unknown>>) m.batchSize = 10;
    });
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  it(`${PER_MAILBOX} mails in each mailbox → each once; each mailbox drained by one instance at a time, both in parallel`, async function () {
    let seed = 7;
    const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const all: Array<ReturnType<MailWorld["startDaemon"]>> = [];
    const start = () => {
      const d = world.startDaemon();
      all.push(d);
      return d;
    };
    const daemons = [start(), start(), start()];
    // Parallel by design, not by luck of timing: the fair share gives the two mailboxes to two
    // different instances before any mail arrives (each instance's own "leadership taken" lines).
    await waitFor(
      "the two mailboxes held by two different instances",
      async () => {
        const h = holders(all);
        return h.has("support") && h.has("web") && h.get("support") !== h.get("web");
      },
      60_000,
      250,
    );

    // Both mailboxes fill at the same time, so both holders drain at once.
    const clients = await Promise.all(
      [SUPPORT, WEB].map(async (user) => {
        const client = new ImapFlow({
          host: world.dovecot.host,
          port: world.dovecot.imapPort,
          secure: false,
          auth: { user, pass: world.dovecot.password },
          logger: false,
        });
        await client.connect();
        return client;
      }),
    );
    for (let i = 0; i < PER_MAILBOX; i++) {
      const from = CUSTOMERS[i % CUSTOMERS.length];
      for (const [k, [user, tag]] of (
        [
          [SUPPORT, "it"],
          [WEB, "web"],
        ] as const
      ).entries()) {
        await clients[k].append(
          "INBOX",
          Buffer.from(
            `From: ${from}\r\nTo: ${user}\r\nSubject: ${tag} request ${i}\r\nMessage-ID: <mb-${tag}-${i}@customer.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nPlease help with ${i}.\r\n`,
          ),
        );
      }
    }
    for (const c of clients) await c.logout();
    let kills = 0;
    const deadline = Date.now() + 20_000;
    try {
      while (Date.now() < deadline && (await world.ticketCount()) < 2 * PER_MAILBOX) {
        await new Promise((r) => setTimeout(r, 500 + Math.floor(rnd() * 1200)));
        const i = Math.floor(rnd() * daemons.length);
        daemons[i].child.kill("SIGKILL");
        await daemons[i].exited;
        kills++;
        daemons[i] = start();
      }
      await waitFor("every ticket", async () => (await world.ticketCount()) === 2 * PER_MAILBOX, 90_000, 500);
      await waitFor(
        "both inboxes empty",
        async () => (await world.user(SUPPORT).count()) === 0 && (await world.user(WEB).count()) === 0,
        60_000,
        500,
      );
    } finally {
      for (const d of daemons) d.child.kill("SIGTERM");
      for (const d of daemons) await d.exited;
    }
    console.log(`      ${kills} kill -9 while the instances worked`);
    expect(await world.user(SUPPORT).count("Processed")).to.equal(PER_MAILBOX);
    expect(await world.user(WEB).count("Processed")).to.equal(PER_MAILBOX);

    const client = new pg.Client({ connectionString: world.database!.options.url! });
    await client.connect();
    try {
      const rows = (
        await client.query(
          `SELECT mailbox, COUNT(*)::int AS n, COUNT(DISTINCT "ticketId")::int AS t FROM mail_receipt GROUP BY mailbox ORDER BY mailbox`,
        )
      ).rows;
      expect(rows).to.deep.equal([
        { mailbox: "support", n: PER_MAILBOX, t: PER_MAILBOX },
        { mailbox: "web", n: PER_MAILBOX, t: PER_MAILBOX },
      ]);
    } finally {
      await client.end();
    }

    // Who drained what, when: from each process's own log lines.
    const spans = new Map<string, Array<{ proc: number; first: number; last: number }>>();
    all.forEach((d, proc) => {
      const seen = new Map<string, { first: number; last: number }>();
      for (const line of d.log().split("\n")) {
        if (!line.startsWith("{")) continue;
        const e = JSON.parse(line) as { msg: string; mailbox?: string; time: string; fetchedAt?: string };
        if (e.msg !== "mail processed" || !e.mailbox) continue;
        // A batch is committed, and its lines logged, all at once: its work began when it was fetched.
        const began = Date.parse(e.fetchedAt ?? e.time);
        const t = Date.parse(e.time);
        const s = seen.get(e.mailbox) ?? { first: began, last: t };
        s.last = t;
        seen.set(e.mailbox, s);
      }
      for (const [mb, s] of seen) spans.set(mb, [...(spans.get(mb) ?? []), { proc, ...s }]);
    });
    for (const [mb, list] of spans) {
      const sorted = [...list].sort((a, b) => a.first - b.first);
      for (let i = 1; i < sorted.length; i++)
        expect(sorted[i].first, `mailbox ${mb}: two instances at once`).to.be.greaterThan(sorted[i - 1].last);
    }
    // How much the drains overlapped in time depends on the kills and the machine's load: shown, not asserted.
    const overlapping = spans
      .get("support")!
      .some((a) => spans.get("web")!.some((b) => a.proc !== b.proc && a.first < b.last && b.first < a.last));
    console.log(`      the two mailboxes ${overlapping ? "were" : "were not"} drained by two instances at the same moment`);
  });
});

/**
 * Which daemon (index in `all`) holds each mailbox now, from the daemons' own log lines: a
 * mailbox is held from "mailbox leadership taken" until "handed over" or "leadership lost".
 */
function holders(all: Array<{ log: () => string }>): Map<string, number> {
  const events: Array<{ at: number; proc: number; mailboxes: string[]; held: boolean }> = [];
  all.forEach((d, proc) => {
    for (const line of d.log().split("\n")) {
      if (!line.startsWith("{")) continue;
      const e = JSON.parse(line) as { msg: string; time: string; mailbox?: string; mailboxes?: string[] };
      const at = Date.parse(e.time);
      if (e.msg.startsWith("mailbox leadership taken") && e.mailbox) events.push({ at, proc, mailboxes: [e.mailbox], held: true });
      else if (e.msg.startsWith("mailbox handed over") && e.mailbox) events.push({ at, proc, mailboxes: [e.mailbox], held: false });
      else if (e.msg.startsWith("mailbox leadership lost")) events.push({ at, proc, mailboxes: e.mailboxes ?? [], held: false });
    }
  });
  const held = new Map<string, number>();
  for (const e of events.sort((a, b) => a.at - b.at)) {
    for (const mb of e.mailboxes) {
      if (e.held) held.set(mb, e.proc);
      else if (held.get(mb) === e.proc) held.delete(mb);
    }
  }
  return held;
}
