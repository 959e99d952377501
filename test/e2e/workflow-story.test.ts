import { expect } from "chai";
import { MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";
import type { MailUser, ReceivedMail } from "../harness/mail-user.js";

/*
 * The whole story of a ticket, by mail alone, as the people in it experience it: a customer,
 * two agents of IT service and one of web development, each reading their own inbox and
 * replying the way a mail client does.
 */

const IT = "it@example.test";
const WEB = "web@example.test";
const DEPARTMENTS = {
  defaultDepartment: "it",
  departments: [
    {
      id: "it",
      name: "IT service",
      names: { de: "IT-Service" },
      addresses: [IT],
      aliases: ["itservice"],
      members: ["alice@example.test", "bob@example.test"],
      defaultUrgency: "impaired",
    },
    {
      id: "web",
      name: "Web development",
      names: { de: "Webentwicklung" },
      addresses: [WEB],
      members: ["wendy@example.test"],
      defaultUrgency: "minor",
    },
    {
      id: "consulting",
      name: "Consulting",
      names: { de: "Beratung" },
      addresses: ["beratung@example.test"],
      members: ["conny@example.test"],
      defaultUrgency: "change-request",
      language: "de",
    },
  ],
  agents: [
    { address: "alice@example.test", name: "Alice Admin" },
    { address: "bob@example.test", name: "Bob Berger" },
    { address: "wendy@example.test", name: "Wendy Web" },
  ],
  languages: { "carla@customer.test": "de", "bob@example.test": "de" },
  reopenDays: 14,
};

interface TicketJson {
  id: number;
  status: string;
  department: string | null;
  assignee: string | null;
  priority: string;
  urgency: string;
  dueDate: string | null;
  resolution: string | null;
  relatedTicket: string | null;
  messages: Array<{ direction: string; visibility: string; from: string; text: string }>;
}

describe("end to end: the ticket workflow story, by mail alone", function () {
  let world: MailWorld;
  let carla: MailUser, alice: MailUser, bob: MailUser, wendy: MailUser;
  let ref = "";
  let tag = "";

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(
      ["carla@customer.test", "alice@example.test", "bob@example.test", "wendy@example.test", "conny@example.test"],
      DEPARTMENTS,
      "sqlite",
      { [IT]: SUPPORT, [WEB]: SUPPORT, "beratung@example.test": SUPPORT },
    );
    carla = world.user("carla@customer.test", "Carla Kundin");
    alice = world.user("alice@example.test", "Alice Admin");
    bob = world.user("bob@example.test", "Bob Berger");
    wendy = world.user("wendy@example.test", "Wendy Web");
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  const poll = async () => (await world.pollOnce()).byOutcome;
  const ticket = () => world.json<TicketJson>(["tickets", "show", ref]);
  const about = (m: ReceivedMail) => m.subject.includes(tag);
  const count = async (u: MailUser, pred: (m: ReceivedMail) => boolean) => (await u.inbox()).filter(pred).length;

  it("1–5. a request with priority, urgency and due date is routed to IT by its address; the requester is acknowledged in German, IT's agents are told", async () => {
    await carla.send({
      to: IT,
      subject: "Drucker im 2. OG druckt nicht",
      text: "Priorität: hoch\nDringlichkeit: Arbeit ist blockiert\nFällig: 03.12.2026\n\nDer Drucker im 2. OG zeigt nur noch einen Fehler an.\nCarla",
    });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    const ack = await carla.waitForMail((m) => m.subject.includes("Drucker im 2. OG"));
    [tag, ref] = /\[#(T-\d+)-[0-9a-z]{5}\]/.exec(ack.subject)!;
    expect(ack.subject).to.contain("Ihre Anfrage");
    const t = await ticket();
    expect(t).to.include({ department: "it", priority: "high", urgency: "blocked", dueDate: "2026-12-03", status: "new", assignee: null });
    expect(t.messages[0].text).to.not.contain("Priorität:");
    expect(t.messages[0].text).to.contain("zeigt nur noch einen Fehler");
    const forAlice = await alice.waitForMail(about);
    expect(forAlice.text).to.contain("#take");
    await bob.waitForMail(about);
    expect(await count(wendy, about), "web development is not told about an IT ticket").to.equal(0);
  });

  it("6. an agent of another department cannot take it; nothing changes and she is told why", async () => {
    // Wendy knows the full tag (a colleague forwarded her the mail).
    await wendy.send({ to: SUPPORT, subject: `${tag} Drucker`, text: "#take" });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const err = await wendy.waitForMail(about);
    expect(err.text).to.contain("it");
    expect(err.text.toLowerCase()).to.contain("member");
    expect((await ticket()).assignee).to.equal(null);
  });

  it("6. Alice takes it by replying #take; Carla learns who handles it; Alice gets a confirmation", async () => {
    const notice = await alice.waitForMail(about);
    await alice.reply(notice, { text: "#take" });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const t = await ticket();
    expect(t).to.include({ assignee: "alice@example.test", status: "in_progress" });
    const taken = await carla.waitForMail((m) => about(m) && m.text.includes("Alice"));
    expect(taken.subject).to.contain(tag);
    const confirmation = await alice.waitForMail((m) => about(m) && m.uid !== notice.uid);
    expect(confirmation.text.toLowerCase()).to.contain("alice@example.test");
  });

  it("7. Alice asks back; Carla's answer threads back, the status returns to in progress and Alice receives it", async () => {
    const notice = (await alice.inbox()).find(about)!;
    await alice.reply(notice, { text: "#ask\nWhich model is it, and what does its display say?" });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    expect((await ticket()).status).to.equal("waiting");
    const question = await carla.waitForMail((m) => about(m) && m.text.includes("Which model is it"));
    expect(question.text).to.not.contain("#ask");

    await carla.reply(question, { text: "Ein HP LaserJet, die Anzeige sagt: Papierstau." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    expect((await ticket()).status).to.equal("in_progress");
    const answer = await alice.waitForMail((m) => about(m) && m.text.includes("Papierstau"));
    expect(answer.text, "quoted history is not sent on").to.not.contain("Which model is it");
  });

  it("8. Alice hands it to Bob; Bob receives an assignment mail (German) with the history so far", async () => {
    const notice = (await alice.inbox()).find(about)!;
    await alice.reply(notice, { text: "#assign bob@example.test\nBob, can you check the paper tray?" });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    expect((await ticket()).assignee).to.equal("bob@example.test");
    const assigned = await bob.waitForMail((m) => about(m) && m.text.includes("Papierstau"));
    expect(assigned.text).to.contain("zeigt nur noch einen Fehler");
    expect(assigned.text).to.contain("paper tray");
  });

  it("9. Bob resolves it with #erledigt and a resolution text; Carla receives the resolution", async () => {
    const assigned = (await bob.inbox()).filter(about).pop()!;
    await bob.reply(assigned, { text: "#erledigt\nPapierfach gereinigt, eine Rolle getauscht. Der Drucker läuft wieder." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const t = await ticket();
    expect(t.status).to.equal("resolved");
    expect(t.resolution).to.contain("Papierfach gereinigt");
    await carla.waitForMail((m) => about(m) && m.text.includes("Papierfach gereinigt"));
  });

  it("9. Carla's reply within the reopen window reopens the ticket and tells Bob", async () => {
    const resolved = await carla.waitForMail((m) => about(m) && m.text.includes("Papierfach gereinigt"));
    await carla.reply(resolved, { text: "Danke, aber jetzt ist wieder Papierstau." });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const t = await ticket();
    expect(t).to.include({ status: "in_progress", assignee: "bob@example.test" });
    await bob.waitForMail((m) => about(m) && m.text.includes("wieder Papierstau"));
  });

  it("after the fact: Bob records work already done with one mail; it is created resolved, assigned to him, nobody is acknowledged", async () => {
    const aliceBefore = (await alice.inbox()).length;
    await bob.send({
      to: IT,
      subject: "Server nach Stromausfall neu gestartet",
      text: "#erledigt\nFileserver nach dem Stromausfall um 6 Uhr neu gestartet, alles geprüft.",
    });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    const list = await world.json<Array<{ reference: string; title: string; status: string; assignee: string }>>(["tickets", "list"]);
    const done = list.find((t) => t.title === "Server nach Stromausfall neu gestartet")!;
    expect(done).to.include({ status: "resolved", assignee: "bob@example.test" });
    const mails = (await bob.inbox()).filter((m) => m.subject.includes(`[#${done.reference}-`));
    expect(mails, "only the confirmation, no acknowledgement").to.have.length(1);
    expect(mails[0].text).to.contain(done.reference);
    expect((await alice.inbox()).length, "no new-ticket mail for a ticket that is already done").to.equal(aliceBefore);
  });
});
