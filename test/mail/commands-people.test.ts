import { expect } from "chai";
import { parseCommands, type Command } from "../../src/mail/commands.js";

/* #cc, #merge and #queue (issue 12): what an agent types, and what the gateway reads. */

const REF = new Date("2026-11-26T10:00:00");

describe("mail/commands: people in copy, merging, the queue", () => {
  const cases: Array<[string, Command]> = [
    [
      "#cc add boss@customer.example",
      { kind: "cc", action: "add", address: "boss@customer.example", source: "#cc add boss@customer.example" },
    ],
    [
      "#CC Add <Boss@Customer.example>",
      { kind: "cc", action: "add", address: "boss@customer.example", source: "#CC Add <Boss@Customer.example>" },
    ],
    [
      "#cc remove mailto:boss@customer.example",
      { kind: "cc", action: "remove", address: "boss@customer.example", source: "#cc remove mailto:boss@customer.example" },
    ],
    ["#cc + boss@customer.example", { kind: "cc", action: "add", address: "boss@customer.example", source: "#cc + boss@customer.example" }],
    [
      "#kopie hinzufügen boss@customer.example",
      { kind: "cc", action: "add", address: "boss@customer.example", source: "#kopie hinzufügen boss@customer.example" },
    ],
    [
      "#kopie hinzufuegen boss@customer.example",
      { kind: "cc", action: "add", address: "boss@customer.example", source: "#kopie hinzufuegen boss@customer.example" },
    ],
    [
      "#Kopie entfernen boss@customer.example",
      { kind: "cc", action: "remove", address: "boss@customer.example", source: "#Kopie entfernen boss@customer.example" },
    ],
    ["#merge T-12-k7f2q", { kind: "merge", target: "T-12-k7f2q", source: "#merge T-12-k7f2q" }],
    ["#merge [#T-12-k7f2q]", { kind: "merge", target: "T-12-k7f2q", source: "#merge [#T-12-k7f2q]" }],
    ["#merge: T-12-K7F2Q", { kind: "merge", target: "T-12-K7F2Q", source: "#merge: T-12-K7F2Q" }],
    ["#zusammenführen T-12-k7f2q", { kind: "merge", target: "T-12-k7f2q", source: "#zusammenführen T-12-k7f2q" }],
    ["#zusammenfuehren T-12", { kind: "merge", target: "T-12", source: "#zusammenfuehren T-12" }],
    ["#queue", { kind: "queue", source: "#queue" }],
    ["#Warteschlange", { kind: "queue", source: "#Warteschlange" }],
  ];
  for (const [line, command] of cases) {
    it(`${line} → ${command.kind}`, () => {
      const r = parseCommands(`${line}\n\nThanks.\n`, REF);
      expect(r.errors).to.deep.equal([]);
      expect(r.commands).to.deep.equal([command]);
      expect(r.rest).to.equal("Thanks.\n");
    });
  }

  const errors: Array<[string, RegExp]> = [
    ["#cc boss@customer.example", /expected add or remove/],
    ["#cc add", /expected add or remove/],
    ["#cc invite boss@customer.example", /expected add or remove/],
    ["#cc add boss", /not one mail address/],
    ["#cc add a@x.example, b@y.example", /not one mail address/],
    ["#merge", /expected the tag/],
    ["#merge the other one", /not a ticket tag/],
    ["#queue please", /takes nothing after it/],
  ];
  for (const [line, error] of errors) {
    it(`${line} → an error, no command`, () => {
      const r = parseCommands(`${line}\n`, REF);
      expect(r.commands).to.deep.equal([]);
      expect(r.errors).to.have.length(1);
      expect(r.errors[0]).to.match(error);
    });
  }

  it("#cc lines stack on one line with other commands, in order", () => {
    const r = parseCommands("#take #cc add boss@customer.example #cc remove old@customer.example\nHello\n", REF);
    expect(r.commands.map((c) => (c.kind === "cc" ? `${c.action} ${c.address}` : c.kind))).to.deep.equal([
      "take",
      "add boss@customer.example",
      "remove old@customer.example",
    ]);
  });
});
