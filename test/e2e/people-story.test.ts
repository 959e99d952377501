import { expect } from "chai";
import pg from "pg";
import { MailWorld, requireDovecot, SUPPORT, waitFor } from "../helpers/mail-world.js";
import type { MailUser, ReceivedMail } from "../harness/mail-user.js";

/*
 * Issue 12 by mail alone: a customer copies her manager, who then hears every public mail in Cc
 * and whose reply-all threads in; an agent takes him off; two tickets of the same matter are
 * merged and replies to either tag land in one; the queue comes by mail and its Take link
 * takes a ticket; and two gateway processes on one PostgreSQL database send one digest per period.
 */

const IT = "it@example.test";
const CONFIG = {
  defaultDepartment: "it",
  departments: [
    {
      id: "it",
      name: "IT service",
      names: { de: "IT-Service" },
      addresses: [IT],
      members: ["alice@example.test"],
      defaultUrgency: "impaired",
    },
    { id: "web", name: "Web development", addresses: ["web@example.test"], members: ["wendy@example.test"], defaultUrgency: "minor" },
  ],
  agents: [
    { address: "alice@example.test", name: "Alice Admin" },
    { address: "wendy@example.test", name: "Wendy Web" },
  ],
};

interface TicketJson {
  reference: string;
  status: string;
  assignee: string | null;
  mergedInto: string | null;
  participants: Array<{ address: string; removedAt: string | null }>;
  messages: Array<{ direction: string; visibility: string; from: string; to: string[]; cc: string[]; subject: string; text: string }>;
}

/** A reply to everyone, as a mail client's "Reply all" writes it: To the sender, Cc the others but oneself. */
async function replyAll(user: MailUser, original: ReceivedMail, text: string): Promise<void> {
  const others = [...original.to, ...original.cc].filter((a) => a !== user.address && a !== original.from);
  const references = [...original.references, ...(original.messageId ? [original.messageId] : [])];
  await user.send({
    to: original.replyTo[0] ?? original.from,
    cc: others,
    subject: original.subject.startsWith("Re: ") ? original.subject : `Re: ${original.subject}`,
    text: `${text}\n\nOn a day, ${original.from} wrote:\n${original.text
      .split("\n")
      .map((l) => `> ${l}`)
      .join("\n")}\n`,
    inReplyTo: original.messageId,
    references,
  });
}

/** What a mail client composes from a mailto: link (RFC 6068): the address, the subject and the body of the URL. */
function composeMailto(url: string): { to: string; subject: string; text: string } {
  const u = new URL(url);
  return { to: decodeURIComponent(u.pathname), subject: u.searchParams.get("subject") ?? "", text: u.searchParams.get("body") ?? "" };
}

describe("end to end: people in the loop, merging and the queue, by mail alone", function () {
  let world: MailWorld;
  let carla: MailUser, mira: MailUser, alice: MailUser;
  let tag1 = "",
    ref1 = "";

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(
      ["carla@customer.test", "mira@customer.test", "alice@example.test", "wendy@example.test"],
      CONFIG,
      "sqlite",
      { [IT]: SUPPORT, "web@example.test": SUPPORT },
    );
    carla = world.user("carla@customer.test", "Carla Kundin");
    mira = world.user("mira@customer.test", "Mira Manager");
    alice = world.user("alice@example.test", "Alice Admin");
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  const poll = async () => (await world.pollOnce()).byOutcome;
  const show = (ref: string) => world.json<TicketJson>(["tickets", "show", ref]);
  const about = (tag: string) => (m: ReceivedMail) => m.subject.includes(tag);

  it("a customer copies her manager: he gets the acknowledgement in Cc of the same mail", async () => {
    await carla.send({ to: IT, cc: "Mira Manager <mira@customer.test>", subject: "Printer on floor 2 is jammed", text: "It shows E-42." });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    // Mira has Carla's own mail too (she was copied); ours carries the tag.
    const ack = await mira.waitForMail((m) => m.subject.includes("[#T-") && m.subject.includes("Printer on floor 2"));
    [tag1, ref1] = /\[#(T-\d+)-[0-9a-z]{5}\]/.exec(ack.subject)!;
    expect(ack.to).to.deep.equal(["carla@customer.test"]);
    expect(ack.cc).to.deep.equal(["mira@customer.test"]);
    await carla.waitForMail(about(tag1));
  });

  it("the manager receives the question in Cc; his reply-all threads in as a public reply", async () => {
    const notice = await alice.waitForMail(about(tag1));
    await alice.reply(notice, { text: "#ask\nWhich printer model is it?" });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const question = await mira.waitForMail((m) => about(tag1)(m) && m.text.includes("Which printer model"));
    expect(question.to).to.deep.equal(["carla@customer.test"]);
    expect(question.cc).to.deep.equal(["mira@customer.test"]);
    const shown = await show(ref1);
    expect(shown.messages.find((m) => m.direction === "outbound" && m.text.includes("Which printer model"))).to.deep.include({
      to: ["carla@customer.test"],
      cc: ["mira@customer.test"],
    });

    await replyAll(mira, question, "It is the HP LaserJet next to my office.");
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const fromMira = (await show(ref1)).messages.find((m) => m.from === "mira@customer.test")!;
    expect(fromMira).to.include({ visibility: "public", direction: "inbound" });
    expect(fromMira.text).to.contain("HP LaserJet").and.not.to.contain("Which printer model");
    await alice.waitForMail((m) => about(tag1)(m) && m.text.includes("HP LaserJet"));
  });

  it("the manager receives the resolution in Cc", async () => {
    const notice = (await alice.inbox()).filter(about(tag1)).pop()!;
    await alice.reply(notice, { text: "#resolve\nThe paper tray was cleaned." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const resolved = await mira.waitForMail((m) => about(tag1)(m) && m.text.includes("paper tray was cleaned"));
    expect(resolved.cc).to.deep.equal(["mira@customer.test"]);
  });

  it("#cc remove stops it: after it, the manager gets nothing, though the customer still copies him", async () => {
    const resolved = await carla.waitForMail((m) => about(tag1)(m) && m.text.includes("paper tray was cleaned"));
    await replyAll(carla, resolved, "Sorry, it jams again.");
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const reopened = await alice.waitForMail((m) => about(tag1)(m) && m.text.includes("jams again"));
    await alice.reply(reopened, { text: "#cc remove mira@customer.test\nA technician comes tomorrow." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const answer = await carla.waitForMail((m) => about(tag1)(m) && m.text.includes("technician comes tomorrow"));
    expect(answer.cc).to.deep.equal([]);
    expect((await mira.inbox()).filter((m) => m.text.includes("technician"))).to.deep.equal([]);
    expect((await show(ref1)).participants.find((p) => p.address === "mira@customer.test")!.removedAt).to.be.a("string");
  });

  let tag2 = "",
    ref2 = "";
  it("#merge folds the customer's second ticket into the first; she is told once; replies to both tags land in the first", async () => {
    await carla.send({ to: IT, subject: "Printer still jammed", text: "Writing again about the printer." });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    const notice = await alice.waitForMail((m) => m.subject.includes("Printer still jammed"));
    [tag2, ref2] = /\[#(T-\d+)-[0-9a-z]{5}\]/.exec(notice.subject)!;
    await alice.reply(notice, { text: `#merge ${tag1.slice(2)}\nSame printer.` });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const merged = await carla.waitForMail((m) => about(tag1)(m) && m.text.includes(ref2));
    expect(merged.text).to.contain(ref1);
    const second = await show(ref2);
    expect(second).to.include({ status: "resolved", mergedInto: ref1 });
    expect((await show(ref1)).messages.some((m) => m.text.includes("Writing again"))).to.equal(true);
    expect(
      (await carla.inbox()).filter((m) => m.text.includes(ref2) && about(tag1)(m)),
      "told once",
    ).to.have.length(1);

    const ack2 = (await carla.inbox()).find(about(tag2))!;
    await carla.reply(ack2, { text: "Reply under the second tag." });
    await carla.reply(merged, { text: "Reply under the first tag." });
    expect(await poll()).to.deep.equal({ reply_added: 2 });
    const first = await show(ref1);
    expect(first.messages.filter((m) => m.direction === "inbound" && /Reply under the (first|second) tag/.test(m.text))).to.have.length(2);
    expect((await show(ref2)).messages.filter((m) => m.direction === "inbound")).to.deep.equal([]);
  });

  it("#queue answers in work order, and following a Take link makes the agent the assignee", async () => {
    await carla.send({ to: IT, subject: "Mail server down", text: "Dringlichkeit: System steht\n\nNobody can send mail." });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    await alice.send({ to: SUPPORT, subject: "my queue", text: "#queue" });
    expect(await poll()).to.deep.equal({ answered: 1 });
    const queue = await alice.waitForMail((m) => m.text.includes("mailto:"));
    const order = [...queue.text.matchAll(/^\[#(T-\d+)-[0-9a-z]{5}\]/gm)].map((m) => m[1]);
    const down = order[0];
    expect(order).to.deep.equal([down, ref1]);
    expect(queue.text).not.to.contain(ref2);
    const link = new RegExp(`mailto:\\S+subject=%5B%23${down}-\\S+`).exec(queue.text)![0];
    const compose = composeMailto(link);
    expect(compose).to.include({ to: SUPPORT, text: "#take" });
    await alice.send(compose);
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    expect(await show(down)).to.include({ assignee: "alice@example.test", status: "in_progress" });
  });
});

describe("end to end: the digest comes once per period with two gateway processes on PostgreSQL", function () {
  let world: MailWorld;
  let alice: MailUser;

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(
      ["carla@customer.test", "alice@example.test", "wendy@example.test"],
      { ...CONFIG, digest: { schedule: "*/4 * * * * *" } },
      "postgres",
      { [IT]: SUPPORT },
    );
    alice = world.user("alice@example.test", "Alice Admin");
    expect((await world.cli(["migrate"])).code).to.equal(0);
    await world.user("carla@customer.test", "Carla").send({ to: IT, subject: "Keyboard sticky", text: "Coffee." });
    expect(await world.pollOnce()).to.include({ mails: 1 });
  });
  after(async () => world?.stop());

  it("each period is claimed by one of the two; the agent gets one digest per period", async () => {
    const one = world.startDaemon();
    const two = world.startDaemon();
    const client = new pg.Client({ connectionString: world.database!.options.url! });
    await client.connect();
    try {
      const periods = async () =>
        (await client.query(`SELECT "period" FROM digest_run WHERE "departmentId" = 'it' ORDER BY "period"`)).rows.map(
          (r) => r.period as string,
        );
      await waitFor("three digest periods", async () => (await periods()).length >= 3, 40_000, 500);
      one.child.kill("SIGTERM");
      two.child.kill("SIGTERM");
      await Promise.all([one.exited, two.exited]);
      const claimed = await periods();
      expect(new Set(claimed).size).to.equal(claimed.length);
      // Whatever the daemons queued but had not sent yet goes out now.
      await world.pollOnce();
      const digests = await waitFor("every claimed digest delivered", async () => {
        const got = (await alice.inbox()).filter((m) => m.subject.startsWith("Queue of IT service"));
        return got.length >= claimed.length ? got : null;
      });
      expect(digests, `periods ${claimed.join(", ")}`).to.have.length(claimed.length);
      expect(digests[0].text).to.contain("Keyboard sticky").and.to.contain("mailto:");
    } finally {
      await client.end();
    }
  });
});
