import { expect } from "chai";
import type { InboundMessage } from "../../src/mail/types.js";
import { resolveThread, type ThreadLookup, type ThreadVerdict } from "../../src/tickets/thread.js";

const T = { prefix: "T" };

/** Tickets 12, 30 and 41 exist; these Message-IDs were stored with them. */
const EXISTING_TICKETS = new Set([12, 30, 41]);
const STORED: Map<string, number> = new Map([
  ["ticketpost.12.1@help.example.net", 12],
  ["customer-first@example.org", 12],
  ["ticketpost.30.1@help.example.net", 30],
  ["ticketpost.41.1@help.example.net", 41],
  ["ticketpost.41.2@help.example.net", 41],
]);

/** In-memory ThreadLookup over a Map, recording what was asked. */
function mapLookup() {
  const calls: { exists: number[]; ids: string[][] } = { exists: [], ids: [] };
  const lookup: ThreadLookup = {
    async ticketExists(id) {
      calls.exists.push(id);
      return EXISTING_TICKETS.has(id);
    },
    async ticketByMessageIds(ids) {
      calls.ids.push([...ids]);
      for (const id of ids) {
        const ticketId = STORED.get(id);
        if (ticketId !== undefined) return { ticketId, messageId: id };
      }
      return null;
    },
  };
  return { lookup, calls };
}

function message(fields: Partial<Pick<InboundMessage, "subject" | "inReplyTo" | "references">>): InboundMessage {
  return {
    messageId: "new@example.org",
    dedupKey: "new@example.org",
    inReplyTo: null,
    references: [],
    subject: "Printer jammed",
    from: { address: "anna@example.org", name: "Anna" },
    replyTo: [],
    to: [{ address: "support@example.net", name: null }],
    cc: [],
    deliveredTo: [],
    date: null,
    text: "Please help.",
    attachments: [],
    headers: {},
    rawSize: 0,
    rawSha256: "",
    fingerprint: "",
    notes: [],
    ...fields,
  };
}

interface Case {
  name: string;
  msg: Partial<Pick<InboundMessage, "subject" | "inReplyTo" | "references">>;
  ticketId: number | null;
  via: ThreadVerdict["via"];
  /** Texts the reasons must contain, in this order. */
  reasons: RegExp[];
}

const cases: Case[] = [
  {
    name: "a tag of an existing ticket wins",
    msg: { subject: "Re: [#T-12] Printer jammed" },
    ticketId: 12,
    via: "subject-tag",
    reasons: [/tag of ticket 12/],
  },
  {
    name: "a lower-case tag after a prefix chain",
    msg: { subject: "AW: WG: [#t-30] Printer" },
    ticketId: 30,
    via: "subject-tag",
    reasons: [/ticket 30/],
  },
  {
    name: "a tag in the middle of the subject",
    msg: { subject: "Printer [#T-41] still jammed" },
    ticketId: 41,
    via: "subject-tag",
    reasons: [/ticket 41/],
  },
  {
    name: "the tag wins over reply headers naming another ticket",
    msg: { subject: "Re: [#T-12] merged", inReplyTo: "ticketpost.30.1@help.example.net", references: ["ticketpost.41.1@help.example.net"] },
    ticketId: 12,
    via: "subject-tag",
    reasons: [/ticket 12/],
  },
  {
    name: "of several tags the first existing one wins",
    msg: { subject: "[#T-999] [#T-30] [#T-12] x" },
    ticketId: 30,
    via: "subject-tag",
    reasons: [/ticket 999, which does not exist/, /tag of ticket 30/],
  },
  {
    name: "a tag of a ticket that does not exist falls through to In-Reply-To",
    msg: { subject: "Re: [#T-999] Printer", inReplyTo: "ticketpost.12.1@help.example.net" },
    ticketId: 12,
    via: "in-reply-to",
    reasons: [/ticket 999, which does not exist/, /In-Reply-To names our message ticketpost\.12\.1@help\.example\.net of ticket 12/],
  },
  {
    name: "a tag with another prefix letter is not ours",
    msg: { subject: "Re: [#X-12] Printer" },
    ticketId: null,
    via: "none",
    reasons: [/new ticket/],
  },
  {
    name: "In-Reply-To of a stored message",
    msg: { subject: "Re: Printer jammed", inReplyTo: "ticketpost.41.2@help.example.net" },
    ticketId: 41,
    via: "in-reply-to",
    reasons: [/ticket 41/],
  },
  {
    name: "In-Reply-To of a stored customer message",
    msg: { inReplyTo: "customer-first@example.org" },
    ticketId: 12,
    via: "in-reply-to",
    reasons: [/customer-first@example\.org/],
  },
  {
    name: "References when In-Reply-To is unknown",
    msg: { inReplyTo: "someone-elses@example.org", references: ["ticketpost.30.1@help.example.net", "someone-elses@example.org"] },
    ticketId: 30,
    via: "references",
    reasons: [/In-Reply-To names no message we know/, /References name our message ticketpost\.30\.1@help\.example\.net of ticket 30/],
  },
  {
    name: "References: the newest known one (last in the header) wins",
    msg: { references: ["ticketpost.12.1@help.example.net", "unknown@example.org", "ticketpost.41.1@help.example.net"] },
    ticketId: 41,
    via: "references",
    reasons: [/ticket 41/],
  },
  {
    name: "References with no known message → new ticket",
    msg: { references: ["a@example.org", "b@example.org"] },
    ticketId: null,
    via: "none",
    reasons: [/References name no message we know/, /new ticket/],
  },
  {
    name: '"Re:" with no tag and no headers → new ticket',
    msg: { subject: "Re: Printer jammed" },
    ticketId: null,
    via: "none",
    reasons: [/no ticket tag and no known reply headers: a new ticket/],
  },
  {
    name: '"AW: WG:" with no tag and no headers → new ticket',
    msg: { subject: "AW: WG: Drucker" },
    ticketId: null,
    via: "none",
    reasons: [/new ticket/],
  },
  { name: "an empty subject with no headers → new ticket", msg: { subject: "" }, ticketId: null, via: "none", reasons: [/new ticket/] },
  {
    name: "unknown tag, unknown In-Reply-To, unknown References → new ticket, each step explained",
    msg: { subject: "Re: [#T-999] x", inReplyTo: "u1@example.org", references: ["u2@example.org"] },
    ticketId: null,
    via: "none",
    reasons: [/ticket 999/, /In-Reply-To names no message/, /References name no message/, /new ticket/],
  },
];

describe("tickets/thread resolveThread", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { lookup } = mapLookup();
      const verdict = await resolveThread(message(c.msg), T, lookup);
      expect(verdict.ticketId, "ticketId").to.equal(c.ticketId);
      expect(verdict.via, "via").to.equal(c.via);
      expect(verdict.reasons, "reasons").to.have.length(c.reasons.length);
      c.reasons.forEach((re, i) => expect(verdict.reasons[i], `reason ${i}`).to.match(re));
    });
  }

  it("asks for References newest first, without the In-Reply-To already asked for", async () => {
    const { lookup, calls } = mapLookup();
    await resolveThread(
      message({ inReplyTo: "r3@example.org", references: ["r1@example.org", "r2@example.org", "r3@example.org"] }),
      T,
      lookup,
    );
    expect(calls.ids).to.deep.equal([["r3@example.org"], ["r2@example.org", "r1@example.org"]]);
  });

  it("does not look up reply headers once a tag has matched", async () => {
    const { lookup, calls } = mapLookup();
    await resolveThread(message({ subject: "[#T-12] x", inReplyTo: "ticketpost.30.1@help.example.net" }), T, lookup);
    expect(calls.exists).to.deep.equal([12]);
    expect(calls.ids).to.deep.equal([]);
  });

  it("does not change the message's References", async () => {
    const { lookup } = mapLookup();
    const msg = message({ references: ["a@example.org", "ticketpost.12.1@help.example.net"] });
    await resolveThread(msg, T, lookup);
    expect(msg.references).to.deep.equal(["a@example.org", "ticketpost.12.1@help.example.net"]);
  });

  it("follows the configured tag prefix", async () => {
    const { lookup } = mapLookup();
    expect((await resolveThread(message({ subject: "Re: [#HELP-12] x" }), { prefix: "HELP" }, lookup)).ticketId).to.equal(12);
    expect((await resolveThread(message({ subject: "Re: [#T-12] x" }), { prefix: "HELP" }, lookup)).ticketId).to.equal(null);
  });
});
