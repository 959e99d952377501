import { expect } from "chai";
import type { DepartmentConfig } from "../../src/config/schema.js";
import { Message, OutboxMail, Ticket, TicketEvent } from "../../src/db/entities.js";
import { processMail, type ProcessResult } from "../../src/tickets/pipeline.js";
import type { SafetySettings } from "../../src/tickets/context.js";
import { Directory } from "../../src/tickets/directory.js";
import type { Engine } from "./databases.js";
import { createTestGateway, nextPosition, rawMail, type TestGateway } from "./context.js";

/*
 * The world of the workflow tests: three departments, four agents, two requesters, and a clock
 * the test moves. Mails go through processMail against a real database.
 */

export const ALICE = "alice@example.test"; // it, English
export const BOB = "bob@example.test"; // it, German by the languages override
export const WENDY = "wendy@example.test"; // web, English
export const CONNY = "conny@example.test"; // consulting, German by the department
export const CARLA = "carla@customer.test"; // requester, German by the languages override
export const DAVE = "dave@customer.test"; // requester, no language of his own
export const IT = "it@example.test";
export const WEB = "web@example.test";
export const CONSULTING = "beratung@example.test";
export const SUPPORT = "support@example.test";

export function makeDirectory(): Directory {
  const departments: DepartmentConfig[] = [
    {
      id: "it",
      name: "IT service",
      names: { de: "IT-Service" },
      addresses: [IT],
      aliases: ["itservice"],
      members: [ALICE, BOB],
      defaultUrgency: "impaired",
      language: null,
    },
    {
      id: "web",
      name: "Web development",
      names: { de: "Webentwicklung" },
      addresses: [WEB],
      aliases: [],
      members: [WENDY],
      defaultUrgency: "minor",
      language: null,
    },
    {
      id: "consulting",
      name: "Consulting",
      names: { de: "Beratung" },
      addresses: [CONSULTING],
      aliases: [],
      members: [CONNY],
      defaultUrgency: "change-request",
      language: "de",
    },
  ];
  const agents = [
    { address: ALICE, name: "Alice Admin" },
    { address: BOB, name: "Bob Berger" },
    { address: WENDY, name: "Wendy Web" },
    { address: CONNY, name: "Conny Consult" },
  ];
  return new Directory(departments, "it", agents, { [CARLA]: "de", [BOB]: "de" }, "en", SUPPORT);
}

export const DAY = 24 * 3600 * 1000;
export const HOUR = 3600 * 1000;
/** Thursday 26 November 2026, 10:00 local time: every test starts here. */
export const BASE = new Date(2026, 10, 26, 10, 0, 0).getTime();

let mailCounter = 0;

/** A gateway over a fresh database of `engine`, with the three departments and a clock the test moves. */
export function useWorld(engine: Engine, opts: { directory?: () => Directory; safety?: Partial<SafetySettings> } = {}) {
  const w = {
    gw: undefined as unknown as TestGateway,
    now: BASE,
  };
  before(async () => {
    w.gw = await createTestGateway(engine, {
      directory: (opts.directory ?? makeDirectory)(),
      clock: { now: () => new Date(w.now) },
      reopenDays: 14,
      safety: opts.safety,
    });
  });
  after(async () => w.gw?.close());
  beforeEach(() => {
    w.now = BASE;
  });

  const db = () => w.gw.ctx.db;

  /** Delivers one mail; returns what became of it and its Message-ID (outbox rows answer it). */
  async function deliver(h: Parameters<typeof rawMail>[0]): Promise<ProcessResult & { messageId: string }> {
    const messageId = h.messageId ?? `m${++mailCounter}.${engine}@mail.test`;
    const res = await processMail(w.gw.ctx, nextPosition(), rawMail({ ...h, messageId }));
    expect(res.outcome, res.reason ?? "").to.not.equal("failed");
    return { ...res, messageId };
  }

  /** A new request; returns its ticket id. */
  async function open(h: Parameters<typeof rawMail>[0] = {}): Promise<number> {
    const r = await deliver({
      from: `Dave Doe <${DAVE}>`,
      to: IT,
      subject: "Printer on floor 2 is jammed",
      body: "It shows error E-42 since this morning.",
      ...h,
    });
    expect(r.outcome).to.equal("ticket_created");
    return r.ticketId!;
  }

  /** A reply to ticket `id` (tag in the subject), by an agent or the requester. */
  function reply(id: number, from: string, body: string, extra: Partial<Parameters<typeof rawMail>[0]> = {}) {
    return deliver({ from, to: SUPPORT, subject: `Re: [#T-${id}] New ticket: Printer on floor 2 is jammed`, body, ...extra });
  }

  const ticket = (id: number) => db().getRepository(Ticket).findOneByOrFail({ id });
  const events = async (id: number) =>
    (
      await db()
        .getRepository(TicketEvent)
        .find({ where: { ticketId: id }, order: { id: "ASC" } })
    ).map((e) => `${e.action}: ${e.detail}`);
  const eventRows = (id: number) =>
    db()
      .getRepository(TicketEvent)
      .find({ where: { ticketId: id }, order: { id: "ASC" } });
  /** The stored inbound message of a mail. */
  const stored = (messageId: string) => db().getRepository(Message).findOneByOrFail({ messageId, direction: "inbound" });
  /** The mails queued because of one inbound mail (they answer it). */
  const queuedFor = (messageId: string) =>
    db()
      .getRepository(OutboxMail)
      .find({ where: { inReplyTo: messageId }, order: { id: "ASC" } });
  const queuedForTicket = (id: number) =>
    db()
      .getRepository(OutboxMail)
      .find({ where: { ticketId: id }, order: { id: "ASC" } });
  const one = (rows: OutboxMail[], event: string, to: string) => {
    const hits = rows.filter((r) => r.event === event && r.toAddress === to);
    expect(hits, `${event} to ${to} in ${JSON.stringify(who(rows))}`).to.have.length(1);
    return hits[0];
  };

  return { w, db, deliver, open, reply, ticket, events, eventRows, stored, queuedFor, queuedForTicket, one };
}

/** "event→address" of each row, sorted: who got what. */
export function who(rows: OutboxMail[]): string[] {
  return rows.map((r) => `${r.event}→${r.toAddress}`).sort();
}

export function sorted(list: string[]): string[] {
  return [...list].sort();
}

export const THUNDERBIRD_QUOTE = (ref: string, line: string) =>
  `\n\nOn 11/26/26 10:00 AM, ACME Support wrote:\n> [#${ref}] ${line}\n>\n> Hello Dave Doe,\n>\n> ${line}\n> Please keep [#${ref}] in the subject.`;
