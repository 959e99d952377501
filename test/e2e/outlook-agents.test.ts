import { expect } from "chai";
import { MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";
import type { MailUser, ReceivedMail } from "../harness/mail-user.js";

/*
 * An agent on Outlook answers the customer by replying, with no command, to the internal-note
 * mail a colleague's #note caused. Outlook puts its header block in the agent's language above
 * the note mail, unquoted and without addresses (colleagues come from the address book). The
 * customer's inbox must get the agent's answer, and nothing of the note.
 */

const IT = "it@example.test";
const NOTE = "Client has two unpaid invoices; finance says no free on-site visit until they pay.";

interface OutlookLocale {
  lang: string;
  prefix: string;
  header: (note: ReceivedMail) => string[];
  answer: string;
}

/** How Outlook for Windows writes the block above the mail it answers, per language (names only, no separator line). */
const LOCALES: OutlookLocale[] = [
  {
    lang: "Danish",
    prefix: "SV: ",
    header: (n) => ["Fra: Example Support", "Sendt: 26. november 2026 10:02", "Til: Alice Admin", `Emne: ${n.subject}`],
    answer: "Hej Dorte, udskift venligst tonerpatronen, så kommer vi forbi på mandag.",
  },
  {
    lang: "French",
    prefix: "RE : ",
    header: (n) => ["De : Example Support", "Envoyé : jeudi 26 novembre 2026 10:02", "À : Alice Admin", `Objet : ${n.subject}`],
    answer: "Bonjour, ouvrez le volet arrière et retirez la feuille coincée.",
  },
  {
    lang: "Japanese",
    prefix: "RE: ",
    header: (n) => ["差出人: Example Support", "送信日時: 2026年11月26日 10:02", "宛先: Alice Admin", `件名: ${n.subject}`],
    answer: "トナーカートリッジを交換してください。月曜日に伺います。",
  },
];

describe("end to end: agents on Outlook (Danish, French, Japanese) answer by replying to an internal-note mail", function () {
  let world: MailWorld;
  let dorte: MailUser, alice: MailUser, bob: MailUser;

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(
      ["dorte@client.test", "alice@example.test", "bob@example.test"],
      {
        defaultDepartment: "it",
        departments: [{ id: "it", name: "IT service", addresses: [IT], members: ["alice@example.test", "bob@example.test"] }],
        agents: [
          { address: "alice@example.test", name: "Alice Admin" },
          { address: "bob@example.test", name: "Bob Berger" },
        ],
      },
      "sqlite",
      { [IT]: SUPPORT },
    );
    dorte = world.user("dorte@client.test", "Dorte Kunde");
    alice = world.user("alice@example.test", "Alice Admin");
    bob = world.user("bob@example.test", "Bob Berger");
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  for (const locale of LOCALES) {
    it(`${locale.lang}: the customer's inbox has the answer and no internal text`, async () => {
      const title = `Printer jams (${locale.lang})`;
      await dorte.send({ to: IT, subject: title, text: "The printer on floor 3 jams on every page." });
      await world.pollOnce();
      const about = (m: ReceivedMail) => m.subject.includes(title);
      const notice = await bob.waitForMail(about);
      await bob.reply(notice, { text: `#note\n${NOTE}` });
      await world.pollOnce();
      const noteMail = await alice.waitForMail((m) => about(m) && m.text.includes("unpaid invoices"));

      // Alice answers the note mail the way Outlook writes a reply: her text, the header block, the mail below it.
      await alice.send({
        to: SUPPORT,
        subject: `${locale.prefix}${noteMail.subject}`,
        text: `${locale.answer}\n\nAlice\n\n${locale.header(noteMail).join("\n")}\n\n${noteMail.text}\n`,
        inReplyTo: noteMail.messageId,
        references: [...noteMail.references, noteMail.messageId!],
      });
      await world.pollOnce();

      const answer = await dorte.waitForMail((m) => about(m) && m.text.includes(locale.answer));
      const inbox = (await dorte.inbox()).filter(about);
      for (const m of inbox) {
        expect(m.text, `${m.subject}`).not.to.contain("unpaid invoices");
        expect(m.text).not.to.contain("finance says");
        expect(m.text.toLowerCase()).not.to.contain("internal note");
      }
      expect(answer.text).not.to.contain(locale.header(noteMail)[0]);
    });
  }
});
