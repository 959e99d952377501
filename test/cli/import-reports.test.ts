import { expect } from "chai";
import { customerMail, deliveryReport, plainBounce, ScratchInstall, type Reported } from "./scratch-install.js";

interface ImportJson {
  files: number;
  created: number;
  reports: number;
  failures: number;
  failed: Array<{ origin: string; kind: string; code: string; reason: string }>;
}

describe("ticketpost import counts bounces and DSNs as reports, not failures", () => {
  let install: ScratchInstall;
  const acks: Reported[] = [];

  before(async () => {
    install = new ScratchInstall();
    expect((await install.cli(["migrate"])).code).to.equal(0);
    const files = [
      install.file(
        "1-erik.eml",
        customerMail({
          from: "Erik Engel <erik@customer.test>",
          subject: "Laptop fan is loud",
          id: "fan-1@customer.test",
          body: "It roars all day.",
        }),
      ),
      install.file(
        "2-fiona.eml",
        customerMail({
          from: "Fiona Fox <fiona@other.test>",
          subject: "Wi-Fi in room 4",
          id: "wifi-1@other.test",
          body: "No signal since Monday.",
        }),
      ),
    ];
    // --notify queues the acknowledgements, so that there are mails of ours for reports to be about.
    const r = await install.cli(["import", ...files, "--notify", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    for (const id of [1, 2]) {
      const t = await install.json<{
        requester: { address: string };
        messages: Array<{ direction: string; messageId: string; to: string[]; subject: string }>;
      }>(["tickets", "show", String(id)]);
      const ack = t.messages.find((m) => m.direction === "outbound" && m.to.includes(t.requester.address))!;
      acks.push({ messageId: ack.messageId, recipient: t.requester.address, subject: ack.subject });
    }
  });
  after(() => install?.remove());

  it("a DSN, a prose bounce and a delivery notice: exit 0, the summary says 3 reports and none failed", async () => {
    const files = [
      install.file("3-dsn.eml", deliveryReport(acks[0], { id: "dsn-7@mx.customer.test", action: "failed", mta: "mx.customer.test" })),
      install.file("4-bounce.eml", plainBounce(acks[1], { id: "bounce-7@mail.other.test", mta: "mail.other.test" })),
      install.file(
        "5-delivered.eml",
        deliveryReport(acks[0], { id: "delivered-7@mx.customer.test", action: "delivered", mta: "mx.customer.test" }),
      ),
    ];
    const r = await install.cli(["import", ...files]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.equal(
      "read 3 mail(s): 0 tickets created, 0 replies threaded, 0 skipped as duplicate, 0 already imported, 3 reports (bounces, DSNs, ARF); none failed\n",
    );
    expect(await install.json<unknown[]>(["tickets", "list"])).to.have.length(2);
    expect(await install.json(["failed", "list"])).to.deep.equal([]);
    const flags = await install.json<Array<{ address: string; permanent: boolean }>>(["addresses", "list"]);
    expect(flags.map((f) => f.address).sort()).to.deep.equal(["erik@customer.test", "fiona@other.test"]);
  });

  it("--json lists reports in `failed` marked kind report, and counts them apart from failures", async () => {
    const dsn = install.file(
      "6-dsn.eml",
      deliveryReport(acks[1], { id: "dsn-8@mail.other.test", action: "failed", mta: "mail.other.test" }),
    );
    const broken = install.file("7-no-sender.eml", "Subject: lost its From line\r\nMessage-ID: <nofrom-1@customer.test>\r\n\r\nHello?\r\n");
    const r = await install.cli(["import", dsn, broken, "--json"]);
    // The mail without a sender is a failure, so the exit code is 1 for it, not for the report.
    expect(r.code).to.equal(1);
    const s = JSON.parse(r.stdout) as ImportJson;
    expect({ files: s.files, created: s.created, reports: s.reports, failures: s.failures }).to.deep.equal({
      files: 2,
      created: 0,
      reports: 1,
      failures: 1,
    });
    expect(s.failed.map((f) => [f.origin, f.kind, f.code])).to.deep.equal([
      [broken, "failure", "EPARSE"],
      [dsn, "report", "BOUNCE"],
    ]);
    const failedList = await install.json<Array<{ code: string }>>(["failed", "list"]);
    expect(failedList.map((f) => f.code)).to.deep.equal(["EPARSE"]);
  });
});
