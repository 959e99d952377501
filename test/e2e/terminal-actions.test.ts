import { expect } from "chai";
import { MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";
import type { MailUser, ReceivedMail } from "../harness/mail-user.js";

/*
 * The same action, once by mail and once from the terminal, on two twin tickets: the requester
 * must receive the same mail (apart from the ticket reference), and the tickets end up alike.
 */
const CONFIG = {
  defaultDepartment: "it",
  departments: [{ id: "it", name: "IT service", addresses: ["it@example.test"], members: ["alice@example.test", "bob@example.test"] }],
  agents: [
    { address: "alice@example.test", name: "Alice Admin" },
    { address: "bob@example.test", name: "Bob Berger" },
  ],
};

const TAG = /\[#T-\d+-[0-9a-z]{5}\]/g;
const normalise = (m: ReceivedMail, ref: string) => ({
  subject: m.subject.replace(TAG, "[#TAG]").replaceAll(ref, "REF"),
  text: m.text.replace(TAG, "[#TAG]").replaceAll(ref, "REF"),
});

describe("end to end: ticket commands from the terminal send what the mail commands send", function () {
  let world: MailWorld;
  let carla: MailUser, alice: MailUser;
  let byMail = "",
    byTerminal = "";

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(["carla@customer.test", "alice@example.test", "bob@example.test"], CONFIG);
    carla = world.user("carla@customer.test", "Carla Customer");
    alice = world.user("alice@example.test", "Alice Admin");
    expect((await world.cli(["migrate"])).code).to.equal(0);
    await carla.send({ to: SUPPORT, subject: "Printer jam", text: "Same problem." });
    await carla.send({ to: SUPPORT, subject: "Printer jam", text: "Same problem." });
    expect((await world.cli(["poll-once"])).code).to.equal(0);
    const list = await world.json<Array<{ reference: string; title: string }>>(["tickets", "list"]);
    [byMail, byTerminal] = list.map((t) => t.reference);
  });
  after(async () => world?.stop());

  async function sameMailToCarla(action: string, mailText: string, cli: string[], marker: (m: ReceivedMail) => boolean) {
    const notice = await alice.waitForMail((m) => m.subject.includes(`[#${byMail}-`));
    await alice.reply(notice, { text: mailText });
    expect((await world.cli(["poll-once"])).code).to.equal(0);
    const r = await world.cli(["tickets", action, byTerminal, ...cli, "--as", "alice@example.test"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`${byTerminal}: ${action} done as alice@example.test`);
    const viaMail = await carla.waitForMail((m) => m.subject.includes(`[#${byMail}-`) && marker(m));
    const viaTerminal = await carla.waitForMail((m) => m.subject.includes(`[#${byTerminal}-`) && marker(m));
    expect(normalise(viaTerminal, byTerminal)).to.deep.equal(normalise(viaMail, byMail));
  }

  it("take", async () => {
    await sameMailToCarla("take", "#take", [], (m) => m.text.includes("Alice Admin"));
  });

  it("ask", async () => {
    await sameMailToCarla("ask", "#ask\nWhich model is it?", ["--text", "Which model is it?"], (m) =>
      m.text.includes("Which model is it?"),
    );
  });

  it("resolve", async () => {
    await sameMailToCarla("resolve", "#resolve\nReplaced the toner.", ["--text", "Replaced the toner."], (m) =>
      m.text.includes("Replaced the toner."),
    );
    const a = await world.json<{ status: string; assignee: string; resolution: string }>(["tickets", "show", byMail]);
    const b = await world.json<{ status: string; assignee: string; resolution: string }>(["tickets", "show", byTerminal]);
    expect({ status: b.status, assignee: b.assignee, resolution: b.resolution }).to.deep.equal({
      status: a.status,
      assignee: a.assignee,
      resolution: a.resolution,
    });
  });

  it("a command the agent may not give changes nothing and says why, exit 1", async () => {
    const r = await world.cli(["tickets", "reopen", byTerminal, "--as", "alice@example.test"]);
    expect(r.code).to.equal(0);
    const again = await world.cli(["tickets", "reopen", byTerminal, "--as", "alice@example.test"]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain("not resolved");
    const stranger = await world.cli(["tickets", "take", byTerminal, "--as", "carla@customer.test"]);
    expect(stranger.code).to.equal(1);
    expect(stranger.stderr).to.match(/^ticketpost: EREFUSED: .*not a configured agent/);
  });
});
