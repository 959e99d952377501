import { expect } from "chai";
import type { AddressFlag, Ticket } from "../../src/db/entities.js";
import { DEFAULT_SAFETY } from "../../src/tickets/context.js";
import type { ParticipantFact, TicketFacts } from "../../src/tickets/facts.js";
import { cc } from "../../src/tickets/workflow/commands/cc.js";
import { merge } from "../../src/tickets/workflow/commands/merge.js";
import type { PlanEnv } from "../../src/tickets/workflow/env.js";
import { planEvent } from "../../src/tickets/workflow/notify.js";
import { copiedPeople } from "../../src/tickets/workflow/people.js";
import { ageText, queueLines, takeUrl } from "../../src/tickets/workflow/queue.js";
import { emptyEffects, type CommandEnv } from "../../src/tickets/workflow/types.js";
import { formatTag } from "../../src/mail/subject.js";
import { ALICE, DAVE, WENDY, makeDirectory } from "../helpers/workflow-world.js";

/*
 * Pure tables for issue 12's planning: who is in copy of a public mail, what #cc and #merge
 * decide (and refuse), and the order and wording of the queue. Facts in, decisions out.
 */

const FORMAT = { prefix: "T", secret: "a-test-secret-of-enough-length" };
const ENV: PlanEnv = {
  directory: makeDirectory(),
  tagFormat: FORMAT,
  reopenDays: 14,
  safety: DEFAULT_SAFETY,
  quiet: false,
  supportAddress: "support@example.test",
};
const NOW = new Date("2026-11-26T10:00:00Z");
const BOSS = "boss@customer.test";
const PEER = "peer@customer.test";

function ticket(id: number, over: Partial<Ticket> = {}): Ticket {
  return {
    id,
    title: `Ticket ${id}`,
    description: "",
    status: "in_progress",
    requesterAddress: DAVE,
    requesterName: "Dave Doe",
    language: "en",
    createdAt: new Date(NOW.getTime() - 3 * 86_400_000),
    updatedAt: NOW,
    departmentId: "it",
    priority: "normal",
    urgency: "impaired",
    dueDate: null,
    assigneeAddress: null,
    resolvedAt: null,
    resolution: null,
    relatedTicketId: null,
    lastOverdueNoticeAt: null,
    mergedIntoId: null,
    ...over,
  };
}

function facts(row: Ticket, participants: ParticipantFact[] = []): TicketFacts {
  return {
    row,
    participants: [{ address: row.requesterAddress, name: null, role: "requester" }, ...participants],
    messages: [],
    attachments: [],
  };
}

function env(people: ParticipantFact[], others: TicketFacts[] = [], actor = ALICE): CommandEnv {
  return {
    dir: ENV.directory,
    actor: { address: actor, name: null },
    now: NOW,
    text: "",
    isNew: false,
    people,
    others: new Map(others.map((o) => [o.row.id, o])),
    tagFormat: FORMAT,
    maxParticipants: 4,
  };
}

const tagOf = (id: number) => formatTag(FORMAT, id).slice(2, -1);

describe("tickets/plan-people (pure)", () => {
  describe("copiedPeople: who is in Cc of a public mail", () => {
    const table: Array<[string, ParticipantFact[], Array<{ address: string; removed: boolean }>, string[]]> = [
      [
        "participants but the requester",
        [
          { address: DAVE, name: null, role: "requester" },
          { address: BOSS, name: "Boss", role: "cc" },
        ],
        [],
        [BOSS],
      ],
      ["nobody taken off", [{ address: BOSS, name: null, role: "cc", removedAt: NOW }], [], []],
      [
        "#cc remove in this mail",
        [
          { address: BOSS, name: null, role: "cc" },
          { address: PEER, name: null, role: "to" },
        ],
        [{ address: BOSS, removed: true }],
        [PEER],
      ],
      [
        "#cc add in this mail, also of someone taken off before",
        [{ address: BOSS, name: null, role: "cc", removedAt: NOW }],
        [
          { address: BOSS, removed: false },
          { address: PEER, removed: false },
        ],
        [BOSS, PEER],
      ],
    ];
    for (const [name, people, changes, expected] of table) {
      it(name, () => expect(copiedPeople(people, DAVE, changes).map((p) => p.address)).to.deep.equal(expected));
    }
  });

  describe("planEvent with Cc: limits and bounce blocks per address", () => {
    const flag = (address: string): AddressFlag => ({
      address,
      permanent: true,
      status: "5.1.1",
      reason: "no such user",
      ticketId: 1,
      bounces: 1,
      flaggedAt: NOW,
    });
    const table: Array<[string, string[], Record<string, number>, string[]]> = [
      // [case, bounced addresses, recent acknowledgements per address, "to|cc,cc" of the one mail]
      ["one mail: requester in To, participants in Cc", [], {}, [`${DAVE}|${BOSS},${PEER}`]],
      ["a bounced participant is left out, the rest still get it", [BOSS], {}, [`${DAVE}|${PEER}`]],
      ["a bounced requester: the first participant gets it in To", [DAVE], {}, [`${BOSS}|${PEER}`]],
      ["a participant over the acknowledgement limit is left out", [], { [PEER]: 10 }, [`${DAVE}|${BOSS}`]],
      ["everyone blocked: no mail", [DAVE, BOSS, PEER], {}, []],
    ];
    for (const [name, bounced, recent, expected] of table) {
      it(name, () => {
        const f = { flags: new Map(bounced.map((a) => [a, flag(a)])), recentAnswers: new Map(Object.entries(recent)) };
        const r = planEvent(ENV, f, ticket(1), {
          event: "received",
          to: [{ address: DAVE, name: null }],
          cc: [
            { address: BOSS, name: null },
            { address: PEER, name: null },
            { address: ALICE, name: null },
          ],
          actor: null,
          data: {},
        });
        expect(r.notifications.map((n) => `${n.to.address}|${(n.cc ?? []).map((c) => c.address).join(",")}`)).to.deep.equal(expected);
      });
    }
  });

  describe("#cc", () => {
    const people: ParticipantFact[] = [
      { address: DAVE, name: null, role: "requester" },
      { address: BOSS, name: null, role: "cc" },
      { address: PEER, name: null, role: "cc", removedAt: NOW },
    ];
    const table: Array<[string, "add" | "remove", string, string | null, Array<{ address: string; removed: boolean }>]> = [
      ["adds someone new", "add", "new@customer.test", null, [{ address: "new@customer.test", removed: false }]],
      ["puts someone taken off back", "add", PEER, null, [{ address: PEER, removed: false }]],
      ["changes nothing for someone in copy already", "add", BOSS, null, []],
      ["changes nothing for the requester", "add", DAVE, null, []],
      ["refuses an agent", "add", WENDY, "is an agent", []],
      ["refuses our own address", "add", "support@example.test", "our own addresses", []],
      ["takes someone off", "remove", BOSS, null, [{ address: BOSS, removed: true }]],
      ["refuses to take off the requester", "remove", DAVE, "is the requester", []],
      ["refuses someone not in copy", "remove", PEER, "not in copy", []],
    ];
    for (const [name, action, address, error, changes] of table) {
      it(name, () => {
        const fx = emptyEffects();
        const err = cc(ticket(1), { kind: "cc", action, address, source: `#cc ${action} ${address}` }, env(people), fx);
        if (error) expect(err).to.contain(error);
        else expect(err).to.equal(null);
        expect(fx.participants).to.deep.equal(changes);
      });
    }

    it("refuses beyond limits.maxParticipants", () => {
      const full: ParticipantFact[] = ["a", "b", "c", "d"].map((x) => ({ address: `${x}@customer.test`, name: null, role: "cc" }));
      expect(
        cc(ticket(1), { kind: "cc", action: "add", address: "e@customer.test", source: "#cc add" }, env(full), emptyEffects()),
      ).to.contain("maxParticipants");
    });

    it("refuses an agent who may not work the ticket", () => {
      expect(
        cc(ticket(1), { kind: "cc", action: "add", address: "x@customer.test", source: "#cc add" }, env(people, [], WENDY), emptyEffects()),
      ).to.contain("not a member");
    });
  });

  describe("#merge", () => {
    const target = facts(ticket(12));
    const table: Array<[string, Ticket, string, TicketFacts[], string, string | null]> = [
      // [case, the ticket the command is on, the tag named, tickets read, actor, error (null: merged into T-12)]
      ["folds into the named ticket", ticket(5), tagOf(12), [target], ALICE, null],
      [
        "follows a merged target to where it went",
        ticket(5),
        tagOf(9),
        [facts(ticket(9, { status: "resolved", mergedIntoId: 12 })), target],
        ALICE,
        null,
      ],
      ["refuses itself", ticket(12), tagOf(12), [target], ALICE, "into itself"],
      [
        "refuses a target merged into this one already",
        ticket(12),
        tagOf(9),
        [facts(ticket(9, { status: "resolved", mergedIntoId: 12 })), target],
        ALICE,
        "merged into this ticket already",
      ],
      ["refuses a tag with a wrong check", ticket(5), "T-12-aaaaa", [target], ALICE, "wrong check"],
      ["refuses a tag without its check", ticket(5), "T-12", [target], ALICE, "carries no check"],
      ["refuses a ticket that does not exist", ticket(5), tagOf(77), [], ALICE, "does not exist"],
      ["refuses a resolved target", ticket(5), tagOf(13), [facts(ticket(13, { status: "resolved" }))], ALICE, "is resolved"],
      [
        "refuses a target of a department the agent is not in",
        ticket(5, { departmentId: "web" }),
        tagOf(14),
        [facts(ticket(14, { departmentId: "consulting" }))],
        WENDY,
        "cannot merge into T-14",
      ],
    ];
    for (const [name, on, tag, others, actor, error] of table) {
      it(name, () => {
        const fx = emptyEffects();
        const t = { ...on };
        const err = merge(t, { kind: "merge", target: tag, source: `#merge ${tag}` }, env([], others, actor), fx);
        if (error) {
          expect(err).to.contain(error);
          expect(fx.merge).to.equal(null);
          expect(t.status).to.equal(on.status);
        } else {
          expect(err).to.equal(null);
          expect(fx.merge?.row.id).to.equal(12);
          expect(t).to.include({ status: "resolved", mergedIntoId: 12, resolution: "merged into T-12" });
        }
      });
    }
  });

  describe("the queue", () => {
    it("lists in work order: urgency, priority, due date, age", () => {
      const tickets = [
        ticket(1, { urgency: "minor", priority: "critical" }),
        ticket(2, { urgency: "system-down", priority: "low" }),
        ticket(3, { urgency: "minor", priority: "critical", dueDate: "2026-11-27" }),
        ticket(4, { urgency: "blocked", assigneeAddress: ALICE }),
      ];
      const lines = queueLines(ENV, tickets, NOW, "en");
      expect(lines.map((l) => l.reference)).to.deep.equal(["T-2", "T-4", "T-3", "T-1"]);
      expect(lines[1]).to.include({ assignee: "Alice Admin", age: "3 days", statusLabel: "in progress" });
      expect(lines[0].assignee).to.equal(null);
    });

    it("takes with a mailto: link: support address, the tag in the subject, #take in the body (RFC 6068)", () => {
      const url = new URL(takeUrl("support@example.test", "[#T-12-k7f2q]", "Printer & toner?"));
      expect(url.protocol).to.equal("mailto:");
      expect(url.pathname).to.equal("support@example.test");
      expect(url.searchParams.get("subject")).to.equal("[#T-12-k7f2q] Printer & toner?");
      expect(url.searchParams.get("body")).to.equal("#take");
    });

    const ages: Array<[number, string, string]> = [
      [30 * 60_000, "en", "0 hours"],
      [3_600_000, "en", "1 hour"],
      [5 * 3_600_000, "de", "5 Stunden"],
      [86_400_000, "de", "1 Tag"],
      [10 * 86_400_000 + 5, "en", "10 days"],
    ];
    for (const [ms, lang, text] of ages) it(`${ms} ms → ${text} (${lang})`, () => expect(ageText(ms, lang)).to.equal(text));
  });
});
