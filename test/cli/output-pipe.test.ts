import { expect } from "chai";
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { CLI } from "../helpers/mail-world.js";
import { customerMail, ScratchInstall } from "./scratch-install.js";

/** A consumer that takes one chunk at a time and dawdles in between, as `| jq` under load does. */
function readSlowly(stream: Readable, pauseMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => {
      chunks.push(c);
      stream.pause();
      setTimeout(() => stream.resume(), pauseMs);
    });
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

describe("ticketpost output through a pipe", () => {
  let install: ScratchInstall;
  const REPLIES = 12;
  const paragraph = (n: number) => `Log excerpt ${n}: ` + "the backup job wrote 4096 blocks and then waited for the tape; ".repeat(1400);

  before(async () => {
    install = new ScratchInstall();
    expect((await install.cli(["migrate"])).code).to.equal(0);
    const files = [
      install.file(
        "0.eml",
        customerMail({
          from: "Gus Grant <gus@customer.test>",
          subject: "Backup runs for hours",
          id: "backup-0@customer.test",
          body: paragraph(0),
        }),
      ),
    ];
    for (let n = 1; n <= REPLIES; n++) {
      const prev = `backup-${n - 1}@customer.test`;
      files.push(
        install.file(
          `${n}.eml`,
          customerMail({
            from: "Gus Grant <gus@customer.test>",
            subject: "Re: Backup runs for hours",
            id: `backup-${n}@customer.test`,
            headers: [`In-Reply-To: <${prev}>`, `References: <${prev}>`],
            body: paragraph(n),
          }),
        ),
      );
    }
    const r = await install.cli(["import", ...files, "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ created: 1, replies: REPLIES });
  });
  after(() => install?.remove());

  it("tickets show --json of a ticket with over 1 MB of history reaches a slow reader whole", async () => {
    const child = spawn(process.execPath, [CLI, "tickets", "show", "1", "--json", "--config", install.configPath], {
      env: { ...process.env, TICKETPOST_CONFIG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const out = await readSlowly(child.stdout, 20);
    expect(await exited, stderr).to.equal(0);
    expect(out.length).to.be.greaterThan(1024 * 1024);
    const ticket = JSON.parse(out.toString("utf8")) as { title: string; messages: Array<{ text: string }> };
    expect(ticket.title).to.equal("Backup runs for hours");
    expect(ticket.messages).to.have.length(REPLIES + 1);
    expect(ticket.messages.at(-1)!.text).to.contain(`Log excerpt ${REPLIES}:`);
  });
});
