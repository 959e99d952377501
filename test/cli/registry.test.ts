import { expect } from "chai";
import { readFileSync } from "node:fs";
import { commandHelp, GLOBAL_OPTIONS, synopsis } from "../../src/cli/help.js";
import { COMMANDS } from "../../src/cli/registry.js";
import { runCli } from "../helpers/mail-world.js";
import { customerMail, ScratchInstall } from "./scratch-install.js";

const ticketpost = (args: string[]) => runCli(args, { env: { TICKETPOST_CONFIG: "" } });

describe("the command registry", () => {
  it("names every command once, and each has a summary, a help text and options with help", () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const c of COMMANDS) {
      expect(c.summary, c.name).to.match(/^[a-z]/);
      expect(c.help.trim(), c.name).to.not.equal("");
      for (const [name, o] of Object.entries(c.options ?? {})) expect(o.help, `${c.name} --${name}`).to.not.equal("");
      expect(c.args?.slice(0, -1).some((a) => a.variadic) ?? false, `${c.name}: only the last argument may be variadic`).to.equal(false);
    }
  });

  it("gives an option the same type wherever it occurs (the dispatcher finds the command words with all of them)", () => {
    const types = new Map<string, string>(Object.entries(GLOBAL_OPTIONS).map(([n, o]) => [n, o.type]));
    for (const c of COMMANDS) {
      for (const [name, o] of Object.entries(c.options ?? {})) {
        expect(types.get(name) ?? o.type, `${c.name} --${name}`).to.equal(o.type);
        types.set(name, o.type);
      }
    }
  });

  it("renders each command's help with its usage and every option it accepts", () => {
    for (const c of COMMANDS) {
      const help = commandHelp(c);
      expect(help).to.contain(`Usage: ticketpost ${synopsis(c)}`);
      for (const name of [...Object.keys(c.options ?? {}), "config", "help"]) expect(help, c.name).to.contain(`--${name}`);
    }
  });
});

describe("ticketpost as a real process: help, usage errors and exit codes", () => {
  let install: ScratchInstall;
  before(async () => {
    install = new ScratchInstall();
    expect((await install.cli(["migrate"])).code).to.equal(0);
    const r = await install.cli(
      ["ingest", "--no-send"],
      customerMail({
        from: "Carla Customer <carla@customer.test>",
        subject: "Scanner offline",
        id: "scanner-1@customer.test",
        body: "The scanner on floor 2 is offline.",
      }),
    );
    expect(r.code, r.stderr).to.equal(0);
  });
  after(() => install?.remove());

  it("--help lists every command of the registry, and exits 0", async () => {
    const r = await ticketpost(["--help"]);
    expect(r.code).to.equal(0);
    for (const c of COMMANDS) expect(r.stdout).to.contain(`  ${synopsis(c)} `);
    const one = await ticketpost(["tickets", "show", "T-5", "--help"]);
    expect(one.code).to.equal(0);
    expect(one.stdout).to.contain("Usage: ticketpost tickets show ID [--json] [--config FILE]");
    const group = await ticketpost(["help", "tickets"]);
    expect(group.code).to.equal(0);
    for (const c of COMMANDS.filter((x) => x.name.startsWith("tickets "))) expect(group.stdout).to.contain(synopsis(c));
  });

  it("tickets list --status with an unknown value exits 2 naming the allowed values", async () => {
    const r = await install.cli(["tickets", "list", "--status", "bogus"]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal("");
    expect(r.stderr).to.equal(
      'ticketpost: EUSAGE: tickets list: --status must be one of new, in_progress, waiting, resolved; got "bogus"\n',
    );
    const dept = await install.cli(["tickets", "list", "--department", "sales"]);
    expect(dept.code).to.equal(2);
    expect(dept.stderr).to.contain('--department must be one of it; got "sales"');
  });

  it("a value a mail command would refuse is a usage error before anything is opened", async () => {
    const r = await install.cli(["tickets", "priority", "1", "urgent-ish", "--as", "alice@example.test"]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('PRIORITY must be low, normal, high, critical; got "urgent-ish"');
  });

  it("an unquoted --text is a usage error that shows the quoted command, and changes nothing", async () => {
    const r = await install.cli(["tickets", "ask", "1", "--as", "alice@example.test", "--text", "Which", "model", "is", "it?"]);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split("\n")).to.have.length(1);
    expect(r.stderr).to.contain('put quotes around the whole text: --text "Which model is it?"');
    const noText = await install.cli(["tickets", "note", "1", "--as", "alice@example.test", "Vendor", "called"]);
    expect(noText.code).to.equal(2);
    expect(noText.stderr).to.contain('a text goes after --text, in quotes: --text "Vendor called"');
    const t = await install.json<{ status: string; messages: unknown[] }>(["tickets", "show", "1"]);
    expect(t.status).to.equal("new");
  });

  it("an --as that is not an agent is refused: exit 1 and `ticketpost: EREFUSED: …`, as the README says", async () => {
    const r = await install.cli(["tickets", "take", "1", "--as", "carla@customer.test", "--no-send"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(
      "ticketpost: EREFUSED: carla@customer.test is not a configured agent (a member of a department); nothing changed\n",
    );
    const missing = await install.cli(["tickets", "take", "1"]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain("tickets take needs --as AGENT");
  });

  it("resolve prints its result once; a refused resolve prints `ticketpost: EREFUSED: …` and exits 1", async () => {
    const r = await install.cli([
      "tickets",
      "resolve",
      "1",
      "--as",
      "alice@example.test",
      "--text",
      "Replaced the network cable.",
      "--no-send",
    ]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(
      [
        "T-1: resolve done as alice@example.test",
        "  assignee: Alice Admin <alice@example.test>",
        "  status: resolved",
        "  resolution: Replaced the network cable.",
        "  mail: resolved to carla@customer.test",
        "",
      ].join("\n"),
    );
    const again = await install.cli(["tickets", "resolve", "1", "--as", "alice@example.test", "--no-send"]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/^ticketpost: EREFUSED: nothing changed: .*already resolved\n$/);
  });

  it("--send and --no-send together, and a missing argument, are usage errors", async () => {
    const both = await install.cli(["tickets", "reopen", "1", "--as", "alice@example.test", "--send", "--no-send"]);
    expect(both.code).to.equal(2);
    expect(both.stderr).to.contain("--send and --no-send exclude each other");
    const noId = await install.cli(["tickets", "show"]);
    expect(noId.code).to.equal(2);
    expect(noId.stderr).to.contain("tickets show needs ID");
    const group = await install.cli(["tickets"]);
    expect(group.code).to.equal(2);
    expect(group.stderr).to.contain("tickets: name one of list, show, take");
  });

  it("the MTA alias example of `ingest --help` is the README's", async () => {
    const readme = readFileSync("README.md", "utf8");
    const alias = /^support: "\|.*ingest.*"$/m.exec(readme)?.[0];
    expect(alias, "the alias line in the README").to.be.a("string");
    const help = await ticketpost(["ingest", "--help"]);
    expect(help.stdout).to.contain(alias!);
  });
});
