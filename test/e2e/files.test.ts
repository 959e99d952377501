import { expect } from "chai";
import { simpleParser, type Attachment as ParsedAttachment } from "mailparser";
import { MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";
import { makePdf, makePng, randomishBytes, sha256 } from "../helpers/png.js";
import type { MailUser, ReceivedMail } from "../harness/mail-user.js";

/*
 * Files travel both ways, by mail alone: a customer's screenshot reaches the agents with the
 * new-ticket mail, an agent's PDF reaches the customer with the answer, files over
 * notify.maxAttachmentBytes are listed and come with #files in parts under the limit, and an
 * image that was inline (cid:) stays inline in the HTML part. What the people receive is read
 * from their own mailboxes and compared byte for byte (SHA-256).
 */

const LIMIT = 200_000;
const IT = "it@example.test";
const CONFIG = {
  defaultDepartment: "it",
  departments: [{ id: "it", name: "IT service", addresses: [IT], members: ["alice@example.test"], defaultUrgency: "impaired" }],
  agents: [{ address: "alice@example.test", name: "Alice Admin" }],
  notify: { maxAttachmentBytes: LIMIT },
};

const hashes = (m: ReceivedMail) => m.attachments.map((a) => sha256(a.content)).sort();
const named = (m: ReceivedMail, name: string): ParsedAttachment => {
  const a = m.attachments.find((x) => x.filename === name);
  expect(a, `${name} in ${m.attachments.map((x) => x.filename).join(", ") || "no attachments"}`).to.not.equal(undefined);
  return a!;
};
/** The MIME structure of a mail, as "type/subtype" names in order. */
const contentTypes = (m: ReceivedMail) =>
  [...m.raw.toString("latin1").matchAll(/^Content-Type:\s*([a-z]+\/[a-z0-9.+-]+)/gim)].map((x) => x[1].toLowerCase());

describe("end to end: attachments travel both ways", function () {
  let world: MailWorld;
  let carla: MailUser, alice: MailUser;
  let tag = "";
  const screenshot = makePng(120, 80, 7, 64);
  const manual = makePdf("Printer manual, chapter 4: paper jams");
  const bigA = randomishBytes(150_000, 1);
  const bigB = randomishBytes(120_000, 2);
  const about = (m: ReceivedMail) => tag !== "" && m.subject.includes(tag);

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(["carla@customer.test", "alice@example.test"], CONFIG, "sqlite", { [IT]: SUPPORT });
    carla = world.user("carla@customer.test", "Carla Customer");
    alice = world.user("alice@example.test", "Alice Admin");
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  const poll = async () => (await world.pollOnce()).byOutcome;

  it("a customer's PNG reaches the agent with the new-ticket mail, byte for byte; the mail has a text and an HTML part", async () => {
    await carla.send({
      to: IT,
      subject: "Printer shows E-17",
      text: "The display shows this, see the screenshot.",
      attachments: [{ filename: "display.png", content: screenshot, contentType: "image/png" }],
    });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    const ack = await carla.waitForMail((m) => m.subject.includes("Printer shows E-17"));
    tag = /\[#T-\d+-[0-9a-z]{5}\]/.exec(ack.subject)![0];
    expect(ack.attachments, "the customer's own file is not sent back with the acknowledgement").to.have.length(0);

    const notice = await alice.waitForMail(about);
    const png = named(notice, "display.png");
    expect(png.contentType).to.equal("image/png");
    expect(sha256(png.content)).to.equal(sha256(screenshot));
    expect(notice.text).to.contain("Attached files:").and.to.contain("display.png (image/png,");
    expect(contentTypes(notice)).to.include.members(["multipart/alternative", "text/plain", "text/html"]);
    expect(notice.html).to.contain(tag).and.to.contain("display.png");
  });

  it("the agent's public answer with a PDF reaches the customer with the PDF, byte for byte", async () => {
    const notice = await alice.waitForMail(about);
    await alice.reply(notice, {
      text: "Please follow chapter 4 of the attached manual.",
      attachments: [{ filename: "manual.pdf", content: manual, contentType: "application/pdf" }],
    });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const answer = await carla.waitForMail((m) => about(m) && m.text.includes("chapter 4"));
    expect(sha256(named(answer, "manual.pdf").content)).to.equal(sha256(manual));
    expect(answer.attachments, "only the agent's file, not the customer's screenshot").to.have.length(1);
    expect(answer.html).to.contain("manual.pdf").and.to.contain("chapter 4");
  });

  it("files over the limit are listed, not attached; #files brings them to the agent in parts under the limit", async () => {
    const answer = await carla.waitForMail((m) => about(m) && m.text.includes("chapter 4"));
    await carla.reply(answer, {
      text: "Here are the two log archives you will need.",
      attachments: [
        { filename: "spooler-log.bin", content: bigA, contentType: "application/octet-stream" },
        { filename: "driver-log.bin", content: bigB, contentType: "application/octet-stream" },
      ],
    });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const received = await alice.waitForMail((m) => about(m) && m.text.includes("two log archives"));
    expect(received.attachments, "together 270,000 bytes: more than the 200,000 allowed").to.have.length(0);
    for (const name of ["spooler-log.bin", "driver-log.bin"]) expect(received.text).to.contain(`- ${name} (application/octet-stream,`);
    expect(received.text).to.contain("reply to this mail with #files on the first line");
    expect(received.html).to.contain("spooler-log.bin").and.to.contain("#files");

    await alice.reply(received, { text: "#files" });
    expect(await poll()).to.deep.equal({ reply_added: 1 });
    const parts = await waitForParts(alice, about, 2);
    for (const p of parts) {
      const size = p.attachments.reduce((n, a) => n + a.size, 0);
      expect(size, `${p.subject}: ${size} bytes`).to.be.at.most(LIMIT);
    }
    // Every file of the ticket, in one part or another, byte for byte.
    expect(parts.flatMap(hashes).sort()).to.deep.equal([screenshot, manual, bigA, bigB].map(sha256).sort());
    expect(parts.map((p) => /part (\d) of (\d)/.exec(p.text)?.slice(1).join("/")).sort()).to.deep.equal(["1/2", "2/2"]);
  });

  it("an inline image (cid:) of the customer's HTML mail stays inline in the HTML part of the agent's mail", async () => {
    const logo = makePng(64, 48, 3, 32);
    await carla.send({
      to: IT,
      subject: "Scanner error screen",
      html: '<p>The scanner shows this:</p><p><img src="cid:screen@carla.test" alt="screen"></p>',
      attachments: [{ filename: "screen.png", content: logo, contentType: "image/png", cid: "screen@carla.test" }],
    });
    expect(await poll()).to.deep.equal({ ticket_created: 1 });
    const notice = await alice.waitForMail((m) => m.subject.includes("Scanner error screen") && m.subject.includes("New ticket"));
    const img = named(notice, "screen.png");
    expect(sha256(img.content)).to.equal(sha256(logo));
    expect(img.contentDisposition).to.equal("inline");
    expect(img.cid, "the image has a Content-ID").to.be.a("string");
    // As a mail client gets it (mailparser would otherwise turn cid: links into data: URLs).
    const html = (await simpleParser(notice.raw, { skipImageLinks: true })).html;
    expect(html).to.contain(`src="cid:${img.cid}"`);
    expect(contentTypes(notice)).to.include("multipart/related");
  });
});

/** Waits until `n` #files mails have arrived (subject "Files:"). */
async function waitForParts(user: MailUser, about: (m: ReceivedMail) => boolean, n: number): Promise<ReceivedMail[]> {
  await user.waitForMail((m) => about(m) && m.subject.includes("Files:") && /part \d of \d/.test(m.text));
  for (;;) {
    const parts = (await user.inbox()).filter((m) => about(m) && m.subject.includes("Files:"));
    if (parts.length >= n) return parts;
    await user.waitForMail((m) => about(m) && m.subject.includes("Files:") && !parts.some((p) => p.uid === m.uid));
  }
}
