import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { runCli } from "../helpers/mail-world.js";

/*
 * Every `ticketpost` start pays for the modules it loads, and a mail server's pipe alias starts one
 * per mail. A command must load only what it uses: the IMAP, SMTP, OAuth2 and DKIM libraries
 * belong to the commands that talk to servers. The child process records what it loaded with a
 * module resolve hook (ES modules) and, at exit, require.cache (CommonJS loaded by require).
 */

/** Runs in the child: appends every resolved module and, at exit, every required file to LOADS_FILE. */
const RECORDER = `
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
const file = process.env.LOADS_FILE;
register("data:text/javascript," + encodeURIComponent(\`
import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const found = await next(specifier, context);
  appendFileSync(\${JSON.stringify(file)}, found.url + "\\\\n");
  return found;
}\`));
const require = createRequire(import.meta.url);
process.on("exit", () => appendFileSync(file, Object.keys(require.cache).join("\\n") + "\\n"));
`;

/** The libraries only commands that talk to a server need, by a file each loads first. */
const SERVER_LIBRARIES: Record<string, RegExp> = {
  imapflow: /node_modules\/imapflow\//,
  nodemailer: /node_modules\/nodemailer\/lib\/(nodemailer|mailer|smtp-transport|smtp-pool)/,
  "openid-client": /node_modules\/openid-client\//,
  mailauth: /node_modules\/mailauth\//,
};

describe("ticketpost loads only what a command uses", () => {
  let dir: string;
  let config: string;
  let recorder: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "tp-lazy-"));
    recorder = path.join(dir, "recorder.mjs");
    writeFileSync(recorder, RECORDER);
    config = path.join(dir, "ticketpost.json");
    writeFileSync(
      config,
      JSON.stringify({
        supportAddress: "support@example.test",
        dataDir: path.join(dir, "data"),
        imap: { host: "127.0.0.1", user: "support@example.test", password: "x" },
        smtp: { host: "127.0.0.1", port: 1 },
      }),
    );
    writeFileSync(
      path.join(dir, "one.eml"),
      "From: Customer <customer@shop.test>\nTo: support@example.test\nSubject: Printer on fire\nMessage-ID: <lazy-1@shop.test>\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\nPlease help.\n",
    );
    expect((await runCli(["migrate", "--config", config])).code).to.equal(0);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs ticketpost with the recorder; returns its result and the server libraries it loaded. */
  async function recorded(
    name: string,
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string; files: string[]; loaded: string[] }> {
    const loadsFile = path.join(dir, `${name}.loads`);
    writeFileSync(loadsFile, "");
    const r = await runCli(args, { env: { NODE_OPTIONS: `--import ${pathToFileURL(recorder).href}`, LOADS_FILE: loadsFile } });
    const files = readFileSync(loadsFile, "utf8").split("\n");
    expect(
      files.some((f) => f.includes("/dist/src/cli/main.js")),
      "the recorder saw the CLI start",
    ).to.equal(true);
    const loaded = Object.entries(SERVER_LIBRARIES)
      .filter(([, file]) => files.some((f) => file.test(f)))
      .map(([lib]) => lib);
    return { ...r, files, loaded };
  }

  it("ticketpost --help prints the commands and loads none of imapflow, nodemailer, openid-client, mailauth", async () => {
    const r = await recorded("help", ["--help"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("tickets list").and.include("import");
    expect(r.loaded).to.deep.equal([]);
  });

  it("ticketpost import of one mail with --notify creates the ticket and loads none of them", async () => {
    const r = await recorded("import", ["import", path.join(dir, "one.eml"), "--notify", "--json", "--config", config]);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.include({ created: 1 });
    expect(r.loaded).to.deep.equal([]);
  });

  it("ticketpost tickets list --json lists the ticket and loads none of them", async () => {
    const r = await recorded("list", ["tickets", "list", "--json", "--config", config]);
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout).map((t: { title: string }) => t.title)).to.deep.equal(["Printer on fire"]);
    expect(r.loaded).to.deep.equal([]);
  });

  it("a tickets action still checks its value with the mail commands' parser (chrono-node), loaded for it", async () => {
    const r = await recorded("priority", ["tickets", "priority", "1", "sky-high", "--as", "alice@example.test", "--config", config]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^ticketpost: EUSAGE: tickets priority: PRIORITY must be .*; got "sky-high"\n$/);
    expect(r.files.some((f) => f.includes("/node_modules/chrono-node/"))).to.equal(true);
  });
});
