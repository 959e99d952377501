import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { OutboxMail, Ticket } from "../../src/db/entities.js";
import { formatReference } from "../../src/mail/subject.js";
import { inspectMail, type Inspection } from "../../src/tickets/inspect.js";
import { processMail } from "../../src/tickets/pipeline.js";
import { createTestGateway, nextPosition, type TestGateway } from "../helpers/context.js";

/*
 * `inspect` and processing must not disagree: every mail of the shared corpora and of the case
 * folders goes through inspect (read-only, rolled back) and then through processMail, and the
 * two must agree on the outcome, the ticket and the recipients of every notification. A fresh
 * database per folder; in a case folder the earlier mails are processed first, with the case's
 * configuration, as check.mjs imports them.
 */

const SHARED = path.resolve(process.cwd(), "../shared");
const CORPORA = [
  "corpora/bounces/eml",
  "corpora/bounces/not-bounces",
  "corpora/mime/rfc",
  "corpora/mime/malformed",
  "corpora/mime/thirdparty",
];

function emls(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .map((f) => path.join(dir, f));
}

function caseFolders(): string[] {
  const root = path.join(SHARED, "cases");
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d\d-/.test(d.name))
    .map((d) => path.join(root, d.name))
    .sort();
}

async function inspectReadOnly(gw: TestGateway, raw: Buffer): Promise<Inspection> {
  const qr = gw.ctx.db.createQueryRunner();
  await qr.startTransaction();
  try {
    return await inspectMail(gw.ctx, raw, qr.manager);
  } finally {
    await qr.rollbackTransaction();
    await qr.release();
  }
}

async function maxId(gw: TestGateway, entity: typeof OutboxMail | typeof Ticket): Promise<number> {
  const row = await gw.ctx.db.getRepository(entity).createQueryBuilder("x").select("MAX(x.id)", "m").getRawOne<{ m: number | null }>();
  return Number(row?.m ?? 0);
}

/** Inspects, then processes one mail; returns a line for each disagreement. */
async function compare(gw: TestGateway, file: string): Promise<string[]> {
  const raw = readFileSync(file);
  const seen = await inspectReadOnly(gw, raw);
  const outboxBefore = await maxId(gw, OutboxMail);
  const ticketsBefore = await maxId(gw, Ticket);
  const done = await processMail(gw.ctx, nextPosition(), raw);
  const queued = (await gw.ctx.db.getRepository(OutboxMail).createQueryBuilder("o").where("o.id > :n", { n: outboxBefore }).getMany())
    .map((o) => `${o.event}→${o.toAddress}`)
    .sort();
  const name = path.relative(SHARED, file);
  const out: string[] = [];
  if (done.outcome !== seen.outcome) out.push(`${name}: outcome: inspect ${seen.outcome} (${seen.verdict}), processing ${done.outcome}`);
  const ticket = done.ticketId === null ? null : done.ticketId > ticketsBefore ? "new" : formatReference(gw.ctx.tagFormat, done.ticketId);
  const expected = seen.newTicket ? "new" : seen.ticket;
  if (ticket !== expected) out.push(`${name}: ticket: inspect ${expected}, processing ${ticket}`);
  const said = seen.notifications.map((n) => `${n.event}→${n.to}`).sort();
  if (JSON.stringify(said) !== JSON.stringify(queued))
    out.push(`${name}: mails: inspect ${JSON.stringify(said)}, processing ${JSON.stringify(queued)}`);
  return out;
}

describe("inspect and processing agree on every mail of ../shared (corpora and cases)", function () {
  this.timeout(900_000);
  before(function () {
    if (existsSync(SHARED)) return;
    if (process.env.CI) throw new Error(`${SHARED} is missing; CI needs ../shared`);
    console.warn(`    skipped: ${SHARED} is missing (tests that need ../shared skip outside CI)`);
    this.skip();
  });

  for (const folder of CORPORA) {
    it(`${folder}: same outcome, ticket and recipients`, async function () {
      const dir = path.join(SHARED, folder);
      if (!existsSync(dir)) throw new Error(`${dir} is missing`);
      const gw = await createTestGateway("sqlite");
      try {
        const problems: string[] = [];
        const files = emls(dir);
        for (const f of files) problems.push(...(await compare(gw, f)));
        expect(problems, problems.slice(0, 10).join("\n")).to.deep.equal([]);
        expect(files.length).to.be.greaterThan(0);
      } finally {
        await gw.close();
      }
    });
  }

  it("every case folder, mails in name order, with its configuration", async function () {
    const problems: string[] = [];
    let mails = 0;
    for (const folder of caseFolders()) {
      const own = path.join(folder, "config.json");
      const config = loadConfig(existsSync(own) ? own : path.join(SHARED, "cases", "config.json"), {});
      const gw = await createTestGateway("sqlite", { config });
      try {
        for (const f of emls(folder)) {
          problems.push(...(await compare(gw, f)));
          mails++;
        }
      } finally {
        await gw.close();
      }
    }
    expect(problems, problems.slice(0, 10).join("\n")).to.deep.equal([]);
    expect(mails).to.be.greaterThan(0);
  });
});
