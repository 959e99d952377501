import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { DEFAULT_TEMPLATES_DIR, ENV, loadConfig, parseConfig } from "../../src/config/load.js";
import { TicketpostError } from "../../src/shared/errors.js";
import { AccountLogins } from "../../src/auth/logins.js";

type Json = Record<string, unknown>;

function minimal(): Json {
  return {
    supportAddress: "support@example.net",
    imap: { host: "imap.example.net", user: "support", password: "imap-secret" },
    smtp: { host: "smtp.example.net" },
  };
}

/** minimal() with one value set at a dotted path; undefined deletes it. */
function withValue(key: string, value: unknown): Json {
  const config = minimal();
  const parts = key.split(".");
  let obj = config;
  for (const p of parts.slice(0, -1)) obj = (obj[p] ??= {}) as Json;
  if (value === undefined) delete obj[parts[parts.length - 1]];
  else obj[parts[parts.length - 1]] = value;
  return config;
}

function configError(fn: () => unknown): TicketpostError {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(TicketpostError);
    expect((err as TicketpostError).code).to.equal("ECONFIG");
    return err as TicketpostError;
  }
  expect.fail("expected a TicketpostError ECONFIG, nothing was thrown");
}

describe("config/load", () => {
  describe("parseConfig defaults", () => {
    const config = parseConfig(minimal(), { env: {} });

    const defaults: Array<[string, (c: typeof config) => unknown, unknown]> = [
      ["imap.mailbox", (c) => c.imap.mailbox, "INBOX"],
      ["imap.processedFolder", (c) => c.imap.processedFolder, "Processed"],
      ["imap.failedFolder", (c) => c.imap.failedFolder, "Failed"],
      ["imap.schedule", (c) => c.imap.schedule, "* * * * *"],
      ["imap.secure", (c) => c.imap.secure, true],
      ["imap.port (secure)", (c) => c.imap.port, 993],
      ["imap.idle", (c) => c.imap.idle, true],
      ["imap.tls.rejectUnauthorized", (c) => c.imap.tls.rejectUnauthorized, true],
      ["smtp.tls.rejectUnauthorized", (c) => c.smtp.tls.rejectUnauthorized, true],
      ["smtp.secure", (c) => c.smtp.secure, false],
      ["smtp.port (not secure)", (c) => c.smtp.port, 587],
      ["smtp.user", (c) => c.smtp.user, null],
      ["smtp.password", (c) => c.smtp.password, null],
      ["database.url", (c) => c.database.url, null],
      ["database.logging", (c) => c.database.logging, false],
      ["name", (c) => c.name, "Ticketpost"],
      ["messageIdDomain (domain of supportAddress)", (c) => c.messageIdDomain, "example.net"],
      ["referencePrefix", (c) => c.referencePrefix, "T"],
      ["language", (c) => c.language, "en"],
      ["log.level", (c) => c.log.level, "info"],
      ["templatesDir", (c) => c.templatesDir, DEFAULT_TEMPLATES_DIR],
      ["maxMessageBytes", (c) => c.maxMessageBytes, 25 * 1024 * 1024],
    ];
    for (const [key, get, expected] of defaults) {
      it(`${key} defaults to ${JSON.stringify(expected)}`, () => {
        expect(get(config)).to.deep.equal(expected);
      });
    }

    it("keeps the SQLite database at data/ticketpost.sqlite under the working directory", () => {
      expect(config.database.sqlitePath).to.equal(path.resolve(process.cwd(), "data", "ticketpost.sqlite"));
      expect(config.database.sqlitePath.endsWith(path.join("data", "ticketpost.sqlite"))).to.equal(true);
    });

    it("resolves dataDir and sqlitePath against baseDir when given", () => {
      const c = parseConfig(
        { ...minimal(), dataDir: "state", database: { sqlitePath: "db/t.sqlite" } },
        { env: {}, baseDir: "/srv/ticketpost" },
      );
      expect(c.dataDir).to.equal(path.resolve("/srv/ticketpost/state"));
      expect(c.database.sqlitePath).to.equal(path.resolve("/srv/ticketpost/state/db/t.sqlite"));
    });

    it("defaults the IMAP port to 143 when not secure", () => {
      expect(parseConfig(withValue("imap.secure", false), { env: {} }).imap.port).to.equal(143);
    });

    it("lower-cases the support address", () => {
      expect(parseConfig(withValue("supportAddress", "Support@Example.NET"), { env: {} }).supportAddress).to.equal("support@example.net");
    });
  });

  describe("parseConfig rejects bad values, naming the key", () => {
    const bad: Array<[string, unknown, string]> = [
      // [key, value, text the message must contain]
      ["imap.port", 0, "imap.port"],
      ["imap.port", 65536, "imap.port"],
      ["imap.port", "993", "imap.port"],
      ["imap.port", 99.5, "imap.port"],
      ["smtp.port", -1, "smtp.port"],
      ["imap.schedule", "every minute", "imap.schedule"],
      ["imap.schedule", "61 * * * *", "imap.schedule"],
      ["imap.colour", "blue", "imap.colour"],
      ["smtpp", {}, "smtpp"],
      ["imap.tls.verify", true, "imap.tls.verify"],
      ["supportAddress", "not an address", "supportAddress"],
      ["supportAddress", "Support <support@example.net>", "supportAddress"],
      ["supportAddress", undefined, "supportAddress"],
      ["database.url", "mysql://ticketpost:db-secret@db.example.net/ticketpost", "database.url"],
      ["database.url", "db.example.net", "database.url"],
      ["imap.host", undefined, "imap.host"],
      ["imap.user", "", "imap.user"],
      ["smtp.host", undefined, "smtp.host"],
      ["imap.secure", "yes", "imap.secure"],
      ["imap.tls.rejectUnauthorized", "false", "imap.tls.rejectUnauthorized"],
      ["imap.mailbox", "INBOX/*", "imap.mailbox"],
      ["imap.processedFolder", "Done\r\nA1 DELETE INBOX", "imap.processedFolder"],
      ["imap.batchSize", 0, "imap.batchSize"],
      ["imap", "imap.example.net", "imap"],
      ["referencePrefix", "T1", "referencePrefix"],
      ["language", "english", "language"],
      ["log.level", "verbose", "log.level"],
      ["maxMessageBytes", 10, "maxMessageBytes"],
    ];
    for (const [key, value, named] of bad) {
      it(`${key} = ${JSON.stringify(value) ?? "(missing)"} → ECONFIG naming ${named}`, () => {
        const err = configError(() => parseConfig(withValue(key, value), { env: {} }));
        expect(err.message).to.contain(named);
        expect(err.retryable).to.equal(false);
      });
    }

    for (const input of [null, [], "config", 42]) {
      it(`a top level of ${JSON.stringify(input)} → ECONFIG`, () => {
        configError(() => parseConfig(input, { env: {} }));
      });
    }
  });

  describe("secrets from the environment", () => {
    it("takes the IMAP password from TICKETPOST_IMAP_PASSWORD, over the file", () => {
      const c = parseConfig(minimal(), { env: { [ENV.imapPassword]: "from-env" } });
      expect(c.imap.password).to.equal("from-env");
    });

    it("accepts a config without imap.password when the environment has it", () => {
      const c = parseConfig(withValue("imap.password", undefined), { env: { TICKETPOST_IMAP_PASSWORD: "from-env" } });
      expect(c.imap.password).to.equal("from-env");
    });

    it("loads without the IMAP password, and the login that needs it names the environment variable", async () => {
      const c = parseConfig(withValue("imap.password", undefined), { env: {} });
      expect(c.imap.password).to.equal(null);
      const err = await new AccountLogins().credentials(c.imap, "imap").then(
        () => null,
        (e: TicketpostError) => e,
      );
      expect(err?.code).to.equal("ECONFIG");
      expect(err?.message).to.contain("imap.password").and.to.contain("TICKETPOST_IMAP_PASSWORD");
    });

    it("takes the SMTP password from TICKETPOST_SMTP_PASSWORD, over the file", () => {
      const withUser = (password?: string) => ({
        ...minimal(),
        smtp: { host: "smtp.example.net", user: "support@example.net", ...(password ? { password } : {}) },
      });
      expect(parseConfig(withUser(), { env: { TICKETPOST_SMTP_PASSWORD: "smtp-env" } }).smtp.password).to.equal("smtp-env");
      expect(parseConfig(withUser("smtp-file"), { env: { TICKETPOST_SMTP_PASSWORD: "smtp-env" } }).smtp.password).to.equal("smtp-env");
      expect(parseConfig(withUser("smtp-file"), { env: {} }).smtp.password).to.equal("smtp-file");
    });

    it("no smtp.user means no SMTP authentication: a password alone is not used", () => {
      const c = parseConfig(withValue("smtp.password", "smtp-file"), { env: { TICKETPOST_SMTP_PASSWORD: "smtp-env" } });
      expect(c.smtp.user).to.equal(null);
      expect(c.smtp.password).to.equal(null);
    });

    it("takes the database URL from TICKETPOST_DATABASE_URL, over the file", () => {
      const url = "postgres://ticketpost:pw@db.example.net:5432/ticketpost";
      expect(parseConfig(minimal(), { env: { TICKETPOST_DATABASE_URL: url } }).database.url).to.equal(url);
      expect(
        parseConfig(withValue("database.url", "postgresql://a:b@file/db"), { env: { TICKETPOST_DATABASE_URL: url } }).database.url,
      ).to.equal(url);
      expect(parseConfig(withValue("database.url", "postgresql://a:b@file/db"), { env: {} }).database.url).to.equal(
        "postgresql://a:b@file/db",
      );
    });

    it("reads nothing from process.env unless it is passed", () => {
      const saved = process.env.TICKETPOST_IMAP_PASSWORD;
      process.env.TICKETPOST_IMAP_PASSWORD = "leaked-from-process-env";
      try {
        expect(parseConfig(minimal()).imap.password).to.equal("imap-secret");
      } finally {
        if (saved === undefined) delete process.env.TICKETPOST_IMAP_PASSWORD;
        else process.env.TICKETPOST_IMAP_PASSWORD = saved;
      }
    });

    const badUrls = [
      "mysql://ticketpost:Sup3rS3cret@db.example.net/ticketpost",
      "postgres:/ticketpost:Sup3rS3cret@db.example.net/ticketpost",
      "http://ticketpost:Sup3rS3cret@db.example.net/ticketpost",
      "ticketpost:Sup3rS3cret@db.example.net",
    ];
    for (const url of badUrls) {
      it(`a bad database URL (${url.split(":")[0]}...) is named without its password, from the file or the environment`, () => {
        for (const [config, env] of [
          [withValue("database.url", url), {}],
          [minimal(), { TICKETPOST_DATABASE_URL: url }],
        ] as const) {
          const err = configError(() => parseConfig(config, { env }));
          expect(err.message).to.contain("database.url");
          expect(err.message).not.to.contain("Sup3rS3cret");
          expect(err.message).not.to.contain("db.example.net");
        }
      });
    }
  });

  describe("loadConfig", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), "ticketpost-config-"));
    });
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it("loads a valid file with the environment's secrets", () => {
      const file = path.join(dir, "ok.json");
      writeFileSync(file, JSON.stringify(withValue("imap.password", undefined)));
      const c = loadConfig(file, { TICKETPOST_IMAP_PASSWORD: "env-pw" });
      expect(c.imap.password).to.equal("env-pw");
      expect(c.supportAddress).to.equal("support@example.net");
    });

    it("takes the file from TICKETPOST_CONFIG when none is given", () => {
      const file = path.join(dir, "from-env.json");
      writeFileSync(file, JSON.stringify(withValue("name", "ACME Support")));
      expect(loadConfig(undefined, { TICKETPOST_CONFIG: file }).name).to.equal("ACME Support");
    });

    it("a missing file → ECONFIG naming the path", () => {
      const file = path.join(dir, "no-such-file.json");
      const err = configError(() => loadConfig(file, {}));
      expect(err.message).to.contain(file);
    });

    it("a folder instead of a file → ECONFIG naming the path", () => {
      const err = configError(() => loadConfig(dir, {}));
      expect(err.message).to.contain(dir);
    });

    const invalid: Array<[string, string]> = [
      ["a trailing comma", '{ "supportAddress": "support@example.net", }'],
      ["an empty file", ""],
      ["a truncated file", '{ "imap": { "host": "imap.example.net"'],
      ["YAML instead of JSON", "supportAddress: support@example.net\n"],
    ];
    for (const [name, text] of invalid) {
      it(`invalid JSON (${name}) → ECONFIG naming the path`, () => {
        const file = path.join(dir, `invalid-${name.replace(/\W+/g, "-")}.json`);
        writeFileSync(file, text);
        const err = configError(() => loadConfig(file, {}));
        expect(err.message).to.contain(file).and.to.contain("not valid JSON");
      });
    }

    it("invalid JSON next to a secret → the message does not quote the secret", () => {
      const file = path.join(dir, "unquoted-secret.json");
      writeFileSync(
        file,
        '{ "supportAddress": "support@example.net", "imap": { "host": "imap.example.net", "user": "support", "password": Hunter2Secret } }',
      );
      const err = configError(() => loadConfig(file, {}));
      expect(err.message).to.contain(file);
      expect(err.message).not.to.contain("Hunter2");
    });

    it("a valid file with a bad value → ECONFIG naming the key", () => {
      const file = path.join(dir, "bad-port.json");
      writeFileSync(file, JSON.stringify(withValue("imap.port", 70000)));
      expect(configError(() => loadConfig(file, {})).message).to.contain("imap.port");
    });
  });
});
