import { expect } from "chai";
import type { BounceRecipient, BounceReport } from "../../src/mail/bounce.js";
import type { InboundMessage } from "../../src/mail/types.js";
import { DEFAULT_SAFETY } from "../../src/tickets/context.js";
import type { MailFacts, StoredMessage } from "../../src/tickets/facts.js";
import { planBounce } from "../../src/tickets/workflow/bounce.js";
import type { PlanEnv } from "../../src/tickets/workflow/env.js";
import { makeDirectory } from "../helpers/workflow-world.js";

/*
 * Which addresses a delivery report flags, as a pure table: the plan is made from facts alone.
 * A report may name a failed recipient by its local part only; it is resolved against the
 * recipients of our mail it reports on, or left unknown. Our own addresses are never flagged.
 */

const ENV: PlanEnv = {
  directory: makeDirectory(),
  tagFormat: { prefix: "T" },
  reopenDays: 14,
  safety: DEFAULT_SAFETY,
  quiet: false,
  supportAddress: "support@example.test",
};

function recipient(address: string, over: Partial<BounceRecipient> = {}): BounceRecipient {
  return {
    address,
    localPartOnly: !address.includes("@"),
    status: "5.1.1",
    replyCode: "550",
    reason: "user unknown",
    permanent: true,
    hardBounce: true,
    ...over,
  };
}

function facts(recipients: BounceRecipient[], ourMailTo: string[] | null): MailFacts {
  const report: BounceReport = {
    kind: "failure",
    format: "dsn",
    recipients,
    originalMessageId: ourMailTo ? "ticketpost.1.a@tickets.example.test" : null,
    reasons: ["test"],
    evidence: ["message/delivery-status part"],
  };
  const reported: StoredMessage | null = ourMailTo
    ? {
        id: 9,
        ticketId: 1,
        messageId: "ticketpost.1.a@tickets.example.test",
        fingerprint: null,
        direction: "outbound",
        visibility: "public",
        fromAddress: "support@example.test",
        toAddresses: ourMailTo,
        text: "",
        createdAt: new Date(0),
      }
    : null;
  return {
    msg: {
      from: { address: "mailer-daemon@mx.customer.test", name: null },
      messageId: "b@mx",
      references: [],
    } as unknown as InboundMessage,
    classification: { kind: "bounce", automatic: true, reasons: ["delivery-status part"] },
    bounce: report,
    agentAuth: null,
    now: new Date(0),
    twin: null,
    thread: null,
    ticket: null,
    others: new Map(),
    queue: null,
    reportedMail: reported,
    terminal: false,
    trail: [],
    flags: new Map(),
    recentAnswers: new Map(),
  };
}

const CASES: Array<{ name: string; recipients: BounceRecipient[]; ourMailTo: string[] | null; flagged: string[]; note?: RegExp }> = [
  {
    name: "a full address is flagged as written",
    recipients: [recipient("Carla@Customer.test")],
    ourMailTo: ["carla@customer.test"],
    flagged: ["carla@customer.test"],
  },
  {
    name: "a bare local part is resolved against our mail's recipients",
    recipients: [recipient("carla")],
    ourMailTo: ["carla@customer.test", "dan@customer.test"],
    flagged: ["carla@customer.test"],
    note: /local part carla resolved to carla@customer.test/,
  },
  {
    name: "a bare local part that matches nobody stays unknown",
    recipients: [recipient("zed")],
    ourMailTo: ["carla@customer.test"],
    flagged: [],
    note: /"zed" names no recipient/,
  },
  { name: "a bare local part without our mail stays unknown", recipients: [recipient("carla")], ourMailTo: null, flagged: [] },
  {
    name: "a bare local part that matches two recipients stays unknown",
    recipients: [recipient("info")],
    ourMailTo: ["info@a.test", "info@b.test"],
    flagged: [],
    note: /more than one recipient/,
  },
  {
    name: "our own address is never flagged",
    recipients: [recipient("support@example.test"), recipient("it@example.test")],
    ourMailTo: ["carla@customer.test"],
    flagged: [],
    note: /our own address/,
  },
  {
    name: "a bare local part that resolves to our own address is not flagged",
    recipients: [recipient("support")],
    ourMailTo: ["support@example.test"],
    flagged: [],
  },
];

describe("planBounce: which failed recipients are flagged (pure)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      const plan = planBounce(ENV, facts(c.recipients, c.ourMailTo));
      expect(plan.addressFlags.map((f) => f.address)).to.deep.equal(c.flagged);
      expect(plan.notifications).to.deep.equal([]);
      if (c.note) expect(plan.trail.map((s) => s.detail).join("\n")).to.match(c.note);
    });
  }

  it("a temporary failure is recorded, not blocked; a hard one blocks", () => {
    const plan = planBounce(
      ENV,
      facts([recipient("a@x.test", { status: "4.2.2", permanent: false, hardBounce: false }), recipient("b@x.test")], null),
    );
    expect(plan.addressFlags.map((f) => [f.address, f.permanent])).to.deep.equal([
      ["a@x.test", false],
      ["b@x.test", true],
    ]);
  });
});
