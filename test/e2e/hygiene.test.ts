import { expect } from "chai";
import { createTransport } from "nodemailer";
import { AUTHSERV_ID, MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";
import type { MailUser } from "../harness/mail-user.js";

/*
 * Mail hygiene against the real servers: autoresponders, forged agents, strangers with a
 * reference, oversized and hostile mails, and a bounce of one of our acknowledgements.
 */
const CONFIG = {
  defaultDepartment: "it",
  departments: [{ id: "it", name: "IT service", addresses: ["it@example.test"], members: ["alice@example.test"] }],
  agents: [{ address: "alice@example.test", name: "Alice Admin" }],
  autoReplyLimit: { perAddress: 3, windowMinutes: 60 },
};
const TAG = /\[#T-\d+-[0-9a-z]{5}\]/;

describe("end to end: mail hygiene and safety", function () {
  let world: MailWorld;
  let carla: MailUser, alice: MailUser, mallory: MailUser;

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(
      [
        "carla@customer.test",
        "alice@example.test",
        "mallory@evil.test",
        "robot1@customer.test",
        "robot2@customer.test",
        "gone@customer.test",
        "big@customer.test",
      ],
      CONFIG,
    );
    carla = world.user("carla@customer.test", "Carla Customer");
    alice = world.user("alice@example.test", "Alice Admin");
    mallory = world.user("mallory@evil.test", "Mallory");
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  const poll = async () => (await world.pollOnce()).byOutcome;
  const ticket = (ref: string) => world.json<any>(["tickets", "show", ref]);

  it("autoresponders that answer every mail (with and without RFC 3834 headers) exchange only a few mails with the gateway, then stop", async () => {
    const robots = [
      {
        user: world.user("robot1@customer.test"),
        headers: { "Auto-Submitted": "auto-replied", "X-Autoreply": "yes" },
        subject: (s: string) => `Out of office: ${s}`,
      },
      // Another company's ticket system: no automatic-mail headers, no out-of-office wording, and it
      // drops our reference, so every answer of it looks like a new request of a person.
      { user: world.user("robot2@customer.test"), headers: {} as Record<string, string>, subject: (s: string) => `Re: ${s}` },
    ];
    for (const r of robots) await r.user.send({ to: SUPPORT, subject: "Newsletter signup", text: "hello" });
    const answered = new Map<string, Set<number>>(robots.map((r) => [r.user.address, new Set()]));
    let quietRounds = 0;
    for (let round = 0; round < 12 && quietRounds < 2; round++) {
      await poll();
      let sent = 0;
      for (const r of robots) {
        for (const m of await r.user.inbox()) {
          if (answered.get(r.user.address)!.has(m.uid)) continue;
          answered.get(r.user.address)!.add(m.uid);
          await r.user.send({
            to: SUPPORT,
            subject: r.subject(m.subject.replace(TAG, "").trim()),
            text: "Thank you for your mail. We will get back to you.",
            headers: r.headers,
          });
          sent++;
        }
      }
      quietRounds = sent === 0 ? quietRounds + 1 : 0;
    }
    expect(quietRounds, "the exchange came to a stop").to.equal(2);
    const got1 = (await robots[0].user.inbox()).length;
    const got2 = (await robots[1].user.inbox()).length;
    console.log(`      gateway → robot with RFC 3834 headers: ${got1} mail(s); → robot without: ${got2} mail(s)`);
    expect(got1, "an automatic mail gets no automatic answer").to.equal(1);
    expect(got2, "the per-address limit stops a headerless autoresponder").to.equal(CONFIG.autoReplyLimit.perAddress);
  });

  it("an out-of-office reply to a notification is kept as an internal note and reopens nothing", async () => {
    await carla.send({ to: SUPPORT, subject: "Monitor flickers", text: "Since today." });
    await poll();
    const ack = await carla.waitForMail((m) => m.subject.includes("Monitor flickers"));
    const ref = /\[#(T-\d+)-/.exec(ack.subject)![1];
    await carla.reply(ack, {
      text: "I am out of the office until Monday.",
      subjectPrefix: "Automatic reply: ",
      extraHeaders: { "Auto-Submitted": "auto-replied" },
    });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const t = await ticket(ref);
    expect(t.status).to.equal("new");
    expect(t.messages.filter((m: any) => m.direction === "inbound").map((m: any) => m.visibility)).to.deep.equal(["public", "internal"]);
    expect((await carla.inbox()).filter((m) => m.subject.includes(ref))).to.have.length(1);
  });

  it("a forged agent mail (right From, no authentication) closes nothing; the real agent is told and the ticket keeps a note", async () => {
    await carla.send({ to: SUPPORT, subject: "Keyboard missing keys", text: "The E key is gone." });
    await poll();
    const notice = await alice.waitForMail((m) => m.subject.includes("Keyboard missing keys"));
    const tag = TAG.exec(notice.subject)![0];
    const ref = /T-\d+/.exec(tag)![0];
    // Mallory writes as Alice, but cannot log in as her: the border server's verdict is dmarc=fail.
    const forger = world.user("alice@example.test", "Alice Admin", { authenticate: false });
    await forger.send({
      to: SUPPORT,
      subject: `Re: ${tag} Keyboard missing keys`,
      text: "#resolve\nDone, closing.",
      headers: { "Authentication-Results": `${AUTHSERV_ID}; dmarc=pass header.from=example.test` },
    });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const t = await ticket(ref);
    expect(t.status).to.equal("new");
    expect(t.messages.some((m: any) => m.visibility === "internal" && m.text.includes("Done, closing"))).to.equal(true);
    const warning = await alice.waitForMail((m) => m.subject.includes(ref) && m.text.includes("dmarc=fail"));
    expect(warning.text).to.contain("commands ignored");
    expect((await carla.inbox()).filter((m) => m.subject.includes(ref) && /resolved/i.test(m.subject))).to.have.length(0);

    // A forged plain answer would reach the customer in our name: it stays internal instead.
    await forger.send({ to: SUPPORT, subject: `Re: ${tag} Keyboard missing keys`, text: "Please send me your password so I can fix it." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const after = await ticket(ref);
    expect(after.messages.filter((m: any) => m.text.includes("your password")).map((m: any) => m.visibility)).to.deep.equal(["internal"]);
    expect((await carla.inbox()).some((m) => m.text.includes("your password"))).to.equal(false);
  });

  it("the real agent, authenticated, can resolve the same ticket", async () => {
    const notice = await alice.waitForMail((m) => m.subject.includes("Keyboard missing keys"));
    await alice.reply(notice, { text: "#resolve\nNew keyboard delivered." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    await carla.waitForMail((m) => m.subject.includes("Keyboard missing keys") && m.text.includes("New keyboard delivered"));
  });

  it("a stranger with a guessed reference makes a new ticket; with a copied one, the message stays internal and never reaches the requester", async () => {
    await carla.send({ to: SUPPORT, subject: "Salary slip question", text: "Private matter." });
    await poll();
    const ack = await carla.waitForMail((m) => m.subject.includes("Salary slip"));
    const tag = TAG.exec(ack.subject)![0];
    const ref = /T-\d+/.exec(tag)![0];
    await mallory.send({ to: SUPPORT, subject: `[#${ref}] Salary slip question`, text: "Please send me the file." });
    expect(await poll(), "a number without its check is no reference").to.deep.equal({ ticket_created: 1 });
    await mallory.send({ to: SUPPORT, subject: `Re: ${tag} Salary slip question`, text: "Please send me the file, I am her manager." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const t = await ticket(ref);
    const fromMallory = t.messages.filter((m: any) => m.from === "mallory@evil.test");
    expect(fromMallory.map((m: any) => m.visibility)).to.deep.equal(["internal"]);
    await alice.waitForMail((m) => m.subject.includes(ref) && m.text.includes("not one of its participants"));
    const carlaGot = (await carla.inbox()).filter((m) => m.subject.includes(ref));
    expect(carlaGot, "the requester got only her acknowledgement").to.have.length(1);
    expect(carlaGot.some((m) => m.text.includes("manager"))).to.equal(false);
  });

  it("a 30 MB mail goes to Failed with its reason, and its sender gets one polite notice", async () => {
    const big = world.user("big@customer.test");
    await big.send({
      to: SUPPORT,
      subject: "Holiday video",
      text: "see attached",
      attachments: [{ filename: "video.mp4", content: Buffer.alloc(30 * 1024 * 1024, 7) }],
    });
    expect(await poll()).to.deep.equal({ failed: 1 });
    const failed = await world.json<any[]>(["failed", "list"]);
    expect(failed.at(-1)).to.include({ code: "EOVERSIZE", from: "big@customer.test", folder: "Failed" });
    const notice = await big.waitForMail(() => true);
    expect(notice.subject).to.contain("could not be processed");
    expect(notice.text).to.match(/more than the 25 MB/);
    expect(notice.headers.get("auto-submitted")).to.equal("auto-replied");
  });

  it("an attachment named ../../etc/passwd is stored under a safe name", async () => {
    await carla.send({
      to: SUPPORT,
      subject: "Config file",
      text: "attached",
      attachments: [{ filename: "../../etc/passwd", content: "root:x:0:0\n" }],
    });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    const list = await world.json<any[]>(["tickets", "list"]);
    const t = await ticket(list.find((x) => x.title === "Config file").reference);
    expect(t.messages[0].attachments.map((a: any) => a.filename)).to.deep.equal(["passwd"]);
  });

  it("a bounce of an acknowledgement is linked to its ticket, flags the address, and stops mail to it until cleared", async () => {
    const gone = world.user("gone@customer.test");
    await gone.send({ to: SUPPORT, subject: "Printer toner", text: "empty" });
    await poll();
    const ack = await gone.waitForMail(() => true);
    const ref = /\[#(T-\d+)-/.exec(ack.subject)![1];
    const dsn = [
      "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>",
      `To: ${SUPPORT}`,
      "Subject: Undelivered Mail Returned to Sender",
      "Message-ID: <dsn-1@mx.customer.test>",
      "Auto-Submitted: auto-replied",
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "Your message could not be delivered: the mailbox does not exist.",
      "--b",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.customer.test",
      "",
      "Final-Recipient: rfc822; gone@customer.test",
      "Action: failed",
      "Status: 5.1.1",
      "Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.test>: user unknown",
      "",
      "--b",
      "Content-Type: text/rfc822-headers",
      "",
      `From: ${SUPPORT}`,
      "To: gone@customer.test",
      `Subject: ${ack.subject}`,
      `Message-ID: ${ack.messageId}`,
      "",
      "--b--",
      "",
    ].join("\r\n");
    const mta = createTransport({ host: world.relay.host, port: world.relay.port, secure: false, ignoreTLS: true });
    await mta.sendMail({ envelope: { from: "", to: [SUPPORT] }, raw: dsn });
    mta.close();
    expect(await poll()).to.deep.equal({ bounce: 1 });
    const t = await ticket(ref);
    expect(t.messages.some((m: any) => m.visibility === "internal" && m.text.includes("5.1.1"))).to.equal(true);
    const flags = await world.json<any[]>(["addresses", "list"]);
    expect(flags).to.have.length(1);
    expect(flags[0]).to.include({ address: "gone@customer.test", permanent: true, status: "5.1.1" });

    await gone.send({ to: SUPPORT, subject: "Another request", text: "hello?" });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    expect(await gone.count("INBOX"), "no further mail to a blocked address").to.equal(1);

    expect((await world.cli(["addresses", "clear", "gone@customer.test"])).code).to.equal(0);
    await gone.send({ to: SUPPORT, subject: "Third request", text: "now?" });
    await poll();
    await gone.waitForMail((m) => m.subject.includes("Third request"));
  });

  it("inspect shows what would happen to a mail, changing nothing", async () => {
    const before = (await world.json<any[]>(["tickets", "list"])).length;
    const { writeFileSync } = await import("node:fs");
    const file = `${world.dir}/probe.eml`;
    writeFileSync(
      file,
      "From: Dan <dan@customer.test>\r\nTo: it@example.test\r\nSubject: Re: VPN\r\nMessage-ID: <probe-1@customer.test>\r\n\r\nPriority: high\r\nDue: 2026-12-24\r\n\r\nThe VPN is down.\r\n",
    );
    const r = await world.json<any>(["inspect", file]);
    expect(r.verdict).to.equal("new-ticket");
    expect(r.parsed).to.include({ title: "VPN", requester: "dan@customer.test" });
    expect(r.fields).to.include({ department: "it", priority: "high", dueDate: "2026-12-24" });
    expect(r.notifications.map((n: any) => n.event)).to.include.members(["received", "new-ticket"]);
    expect(r.trail.map((s: any) => s.stage)).to.include.members(["parse", "classify", "thread", "route"]);
    expect((await world.json<any[]>(["tickets", "list"])).length).to.equal(before);
  });

  it("failed retry processes a failed mail again after a config change, and moves it from Failed to Processed", async () => {
    world.updateConfig((c) => (c.maxMessageBytes = 20_000));
    await carla.send({
      to: SUPPORT,
      subject: "Scan of the contract",
      text: "attached",
      attachments: [{ filename: "scan.pdf", content: Buffer.alloc(40_000, 1) }],
    });
    expect(await poll()).to.deep.equal({ failed: 1 });
    const failedBefore = await world.user(SUPPORT).count("Failed");
    const id = (await world.json<any[]>(["failed", "list"])).find((f) => f.subject === "Scan of the contract").id;
    world.updateConfig((c) => delete c.maxMessageBytes);
    const r = await world.cli(["failed", "retry", String(id)]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`#${id}: ticket_created`);
    expect((await world.json<any[]>(["failed", "list"])).some((f) => f.id === id)).to.equal(false);
    expect(await world.user(SUPPORT).count("Failed")).to.equal(failedBefore - 1);
    const titles = (await world.json<any[]>(["tickets", "list"])).map((t) => t.title);
    expect(titles).to.include("Scan of the contract");
  });
});
