import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { MailWorld, requireDovecot, SUPPORT } from "../helpers/mail-world.js";

/*
 * A mail with a 50 MB attachment is streamed from IMAP to disk and parsed as a stream (its memory
 * is measured by `npm run bench`); here the outcome: stored whole, the attachment intact.
 */
describe("end to end: a mail with a 50 MB attachment", function () {
  let world: MailWorld;
  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(["carla@customer.test"], { maxMessageBytes: 100 * 1024 * 1024 });
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  it("becomes a ticket whose attachment has the sender's checksum, and the whole mail is kept", async () => {
    const video = Buffer.alloc(50 * 1024 * 1024);
    for (let i = 0; i < video.length; i += 4) video.writeUInt32LE((i * 2654435761) >>> 0, i);
    const sha = createHash("sha256").update(video).digest("hex");
    await world.user("carla@customer.test").send({
      to: SUPPORT,
      subject: "Screen recording of the bug",
      text: "See the video.",
      attachments: [{ filename: "recording.mp4", content: video, contentType: "video/mp4" }],
    });
    const r = await world.cli(["poll-once", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).byOutcome).to.deep.equal({ ticket_created: 1 });
    const list = await world.json<Array<{ reference: string }>>(["tickets", "list"]);
    const t = await world.json<any>(["tickets", "show", list[0].reference]);
    const [att] = t.messages[0].attachments;
    expect(att).to.include({ filename: "recording.mp4", contentType: "video/mp4", size: video.length, sha256: sha });
    const blobs = path.join(world.dir, "data", "blobs");
    const stored = path.join(blobs, sha.slice(0, 2), sha.slice(2, 4), sha);
    expect(existsSync(stored)).to.equal(true);
    expect(statSync(stored).size).to.equal(video.length);
    expect(await world.user(SUPPORT).count("Processed")).to.equal(1);
    await world.user("carla@customer.test").waitForMail((m) => m.subject.includes("Screen recording"));
  });
});
