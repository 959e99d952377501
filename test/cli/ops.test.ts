import { expect } from "chai";
import Database from "better-sqlite3";
import path from "node:path";
import type { gatherStatus } from "../../src/cli/ops-commands.js";
import { MailWorld, requireDovecot, SUPPORT, waitFor } from "../helpers/mail-world.js";

/** Runs the real CLI with a mail on standard input, as a mail server's pipe alias does. */
const pipe = (world: MailWorld, args: string[], input: string, env: NodeJS.ProcessEnv = {}) => world.cli(args, env, input);

const mail = (subject: string, id: string) =>
  `From: Carla Customer <carla@customer.test>\r\nTo: ${SUPPORT}\r\nSubject: ${subject}\r\nMessage-ID: <${id}@customer.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\nPlease help.\r\n`;

describe("operating Ticketpost: ingest, status, check, metrics, backup, upgrades", function () {
  let world: MailWorld;

  before(async function () {
    requireDovecot(this);
    world = await MailWorld.start(["carla@customer.test"]);
    expect((await world.cli(["migrate"])).code).to.equal(0);
  });
  after(async () => world?.stop());

  describe("ticketpost ingest (a mail server's pipe)", () => {
    it("accepts a mail with exit code 0, makes the ticket and sends the acknowledgement", async () => {
      const r = await pipe(world, ["ingest"], mail("Piped request", "piped-1"));
      expect(r.code, r.stderr).to.equal(0);
      const list = await world.json<Array<{ title: string }>>(["tickets", "list"]);
      expect(list.map((t) => t.title)).to.include("Piped request");
      await world.user("carla@customer.test").waitForMail((m) => m.subject.includes("Piped request"));
    });

    it("the same mail piped again (a mail server retrying) changes nothing and exits 0", async () => {
      const before = (await world.json<unknown[]>(["tickets", "list"])).length;
      const r = await pipe(world, ["ingest"], mail("Piped request", "piped-1"));
      expect(r.code, r.stderr).to.equal(0);
      expect((await world.json<unknown[]>(["tickets", "list"])).length).to.equal(before);
    });

    it("rejects a mail it can never use with 65 (EX_DATAERR) and one line saying why", async () => {
      const r = await pipe(world, ["ingest"], "Subject: nobody sent this\r\n\r\nhello\r\n");
      expect(r.code).to.equal(65);
      expect(r.stderr.trim().split("\n")).to.have.length(1);
      expect(r.stderr).to.contain("EPARSE");
      expect(r.stderr).to.contain("no sender");
    });

    it("asks the mail server to retry later with 75 (EX_TEMPFAIL) when the database is unreachable", async () => {
      const r = await pipe(world, ["ingest"], mail("DB down", "dbdown-1"), {
        TICKETPOST_DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere",
      });
      expect(r.code).to.equal(75);
      expect(r.stderr).to.contain("EDB");
    });
  });

  describe("ticketpost status and check", () => {
    it("status shows the mailbox, the outbox, the migrations and the failed mails", async () => {
      await world.user("carla@customer.test").send({ to: SUPPORT, subject: "waiting one", text: "x" });
      await waitFor("one mail waiting", async () => (await world.user(SUPPORT).count("INBOX")) === 1);
      const s = await world.json<Awaited<ReturnType<typeof gatherStatus>>>(["status"]);
      expect(s.ok).to.equal(true);
      expect(s.mailbox.waiting).to.equal(1);
      if (!s.database.ok) throw new Error(`status says the database failed: ${s.database.error}`);
      expect(s.database.migrationsPending).to.equal(false);
      expect(s.database.migrationsApplied).to.have.length.of.at.least(3);
      expect(s.database.failedMails).to.equal(1);
      expect(s.database.outbox).to.include({ pending: 0 });
      const human = await world.cli(["status"]);
      expect(human.stdout).to.match(/mailbox\s+ok/);
    });

    it("check passes every line against the running servers", async () => {
      const r = await world.cli(["check"]);
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      for (const name of ["config", "templates", "imap", "smtp", "database"]) expect(r.stdout).to.match(new RegExp(`^ok\\s+${name}`, "m"));
    });

    it("check names each broken connection with a fix, and exits 1", async () => {
      const r = await world.cli(["check"], {
        TICKETPOST_IMAP_PASSWORD: "wrong",
        TICKETPOST_DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere",
      });
      expect(r.code).to.equal(1);
      expect(r.stdout).to.match(/^FAIL\s+imap\s+EIMAP_AUTH/m);
      expect(r.stdout).to.contain("→ fix: check imap.user and the password");
      expect(r.stdout).to.match(/^FAIL\s+database/m);
      expect(r.stdout).to.match(/^ok\s+smtp/m);
      expect(r.stdout).not.to.contain("wrong");
    });
  });

  describe("the HTTP endpoint of a running daemon", () => {
    it("serves /healthz and Prometheus metrics that count a known sequence of mails", async () => {
      world.updateConfig((c) => (c.http = { enabled: true, host: "127.0.0.1", port: 0 }));
      const carla = world.user("carla@customer.test");
      const daemon = world.startDaemon();
      try {
        const port = await waitFor(
          "the http endpoint",
          async () => Number(/"msg":"http endpoint listening".*"port":(\d+)/.exec(daemon.log())?.[1] ?? 0),
          15_000,
        );
        // The "waiting one" mail from before is processed at start; then two more and a broken one.
        await carla.send({ to: SUPPORT, subject: "metrics one", text: "1" });
        await carla.send({ to: SUPPORT, subject: "metrics two", text: "2" });
        const { createTransport } = await import("nodemailer");
        const raw = createTransport({ host: world.relay.host, port: world.relay.port, secure: false, ignoreTLS: true });
        await raw.sendMail({
          envelope: { from: "", to: [SUPPORT] },
          raw: "Subject: broken\r\nMessage-ID: <metrics-broken@x.test>\r\n\r\nno sender\r\n",
        });
        raw.close();
        const metrics = await waitFor(
          "all four mails counted",
          async () => {
            const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
            return /ticketpost_mails_processed_total\{outcome="ticket_created"\} 3/.test(text) && /outcome="failed"\} 1/.test(text)
              ? text
              : null;
          },
          20_000,
          200,
        );
        expect(metrics).to.match(/ticketpost_mail_failures_total\{code="EPARSE"\} 1/);
        expect(metrics).to.match(/ticketpost_imap_idle_connected 1/);
        expect(metrics).to.match(/ticketpost_outbox_pending \d+/);
        expect(metrics).to.match(/ticketpost_poll_duration_seconds_count \d+/);
        const health = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(health.status).to.equal(200);
        expect(await health.json()).to.include({ status: "ok", database: true, imapConnected: true });
      } finally {
        daemon.child.kill("SIGTERM");
      }
      expect(await daemon.exited).to.equal(0);
      world.updateConfig((c) => delete c.http);
    });
  });

  describe("backup and upgrades", () => {
    it("backup copies the SQLite database while it is in use", async () => {
      const target = path.join(world.dir, "backup.sqlite");
      const r = await world.cli(["backup", target]);
      expect(r.code, r.stderr).to.equal(0);
      const copy = new Database(target, { readonly: true });
      try {
        const n = (copy.prepare("SELECT COUNT(*) AS n FROM ticket").get() as { n: number }).n;
        expect(n).to.equal(await world.ticketCount());
      } finally {
        copy.close();
      }
    });

    it("migrate refuses while a gateway of another version is alive on the database, and --force overrides", async () => {
      const db = new Database(path.join(world.dir, "data", "ticketpost.sqlite"));
      const now = new Date().toISOString().replace("T", " ").slice(0, 23);
      db.prepare(
        `INSERT INTO gateway_instance (id, version, startedAt, heartbeatAt, idleConnected) VALUES ('old-host:1', '0.0.1', ?, ?, 1)`,
      ).run(now, now);
      db.close();
      const refused = await world.cli(["migrate"]);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.contain("old-host:1 (version 0.0.1) is running");
      const forced = await world.cli(["migrate", "--force"]);
      expect(forced.code, forced.stderr).to.equal(0);
    });

    it("status and check say so when the mail server is down", async () => {
      await world.dovecot.stop();
      const s = await world.cli(["status", "--json"]);
      expect(s.code).to.equal(1);
      expect(JSON.parse(s.stdout).mailbox).to.include({ ok: false, code: "EIMAP_CONNECT" });
      const c = await world.cli(["check"]);
      expect(c.code).to.equal(1);
      expect(c.stdout).to.match(/^FAIL\s+imap\s+EIMAP_CONNECT/m);
      expect(c.stdout).to.contain("that the server is running");
    });
  });
});
