import { expect } from "chai";
import type { MailUser, ReceivedMail } from "../harness/mail-user.js";
import { MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";

/*
 * Agents' commands on Microsoft 365 and Google Workspace, through the whole pipeline: the test
 * relay plays the provider's border (it writes that provider's headers, and Exchange's removes
 * X-MS-Exchange-Organization-* from mail that comes in), the gateway drains a mailbox configured
 * as that provider, and the agent's mail client replies as usual. A stranger forging the headers
 * changes nothing.
 */
const ALICE = "alice@example.test";
const CARLA = "carla@customer.test";
const PEOPLE = {
  defaultDepartment: "it",
  departments: [{ id: "it", name: "IT service", members: [ALICE] }],
  agents: [{ address: ALICE, name: "Alice Admin" }],
};

interface TicketJson {
  status: string;
  assignee: string | null;
  resolution: string | null;
}

for (const kind of ["exchange-online", "gmail"] as const) {
  const provider = kind === "gmail" ? "google" : "microsoft365";
  const mode = kind === "gmail" ? "google-workspace" : "exchange-online";

  describe(`end to end: agentAuth ${mode}, the relay writing ${kind === "gmail" ? "Gmail's" : "Exchange Online's"} headers`, function () {
    let world: MailWorld;
    let alice: MailUser;
    let mallory: MailUser;
    let ref = "";
    let notice: ReceivedMail;

    before(async function () {
      requireDovecot(this);
      world = await MailWorld.start(
        [CARLA, ALICE],
        { ...PEOPLE, agentAuth: { mode } },
        "sqlite",
        {},
        { relay: { authservId: undefined, border: { kind, internalDomains: ["example.test"] } } },
      );
      world.updateConfig((c) => (c.imap.provider = provider));
      alice = world.user(ALICE, "Alice Admin");
      // Anyone on the internet can write "From: alice@…"; they cannot log in as her.
      mallory = world.user(ALICE, "Alice Admin", { authenticate: false });
      expect((await world.cli(["migrate"])).code).to.equal(0);
      await world.user(CARLA).send({ to: SUPPORT, subject: "Monitor flickers", text: "Since this morning." });
      expect((await world.pollOnce()).byOutcome).to.deep.equal({ ticket_created: 1 });
      notice = await alice.waitForMail((m) => m.subject.includes("Monitor flickers"));
      ref = /\[#(T-\d+)-[0-9a-z]{5}\]/.exec(notice.subject)![1];
    });
    after(async () => world?.stop());

    const ticket = () => world.json<TicketJson>(["tickets", "show", ref]);

    it("a forged header from outside changes nothing", async () => {
      const forged: Record<string, string> =
        kind === "gmail"
          ? { "Authentication-Results": "mx.google.com; dkim=pass header.i=@example.test; dmarc=pass (p=REJECT) header.from=example.test" }
          : {
              "X-MS-Exchange-Organization-AuthAs": "Internal",
              "Authentication-Results":
                "spf=pass (sender IP is 203.0.113.7) smtp.mailfrom=example.test; dkim=pass (signature was verified) header.d=example.test;dmarc=pass action=none header.from=example.test;compauth=pass reason=100",
            };
      await mallory.reply(notice, { text: "#resolve\nNothing to do.", extraHeaders: forged });
      await world.pollOnce();
      expect(await ticket()).to.include({ status: "new", assignee: null, resolution: null });
    });

    it("the agent's own mail, stamped by the provider, runs the command", async () => {
      await alice.reply(notice, { text: "#take\nI will look at it." });
      expect((await world.pollOnce()).byOutcome).to.deep.equal({ reply_added: 1 });
      expect(await ticket()).to.include({ status: "in_progress", assignee: ALICE });
    });
  });
}
