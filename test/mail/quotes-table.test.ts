import { expect } from "chai";
import { stripQuotedHistory } from "../../src/mail/quoted-history.js";
import { QUOTES_DIR, readCases } from "./quotes-table.js";

/*
 * The reply table: replies written for this test in many languages and from many clients
 * (answers above, below and inline; forwards; header blocks; signatures), each with the exact
 * new text a user expects. No own texts are given: this is what the recognisers alone do.
 */

const cases = readCases(QUOTES_DIR);
const results: boolean[] = [];

describe("mail/quoted-history: the reply table", () => {
  it("covers at least 80 replies, 12 languages and 10 clients", () => {
    const langs = new Set(cases.map((c) => c.lang));
    const clients = new Set(cases.map((c) => c.client.replace(/ \(.*\)$/, "")));
    console.log(`      ${cases.length} replies, ${langs.size} languages (${[...langs].sort().join(" ")}), ${clients.size} clients`);
    expect(cases.length).to.be.at.least(80);
    expect(langs.size).to.be.at.least(12);
    expect(clients.size).to.be.at.least(10);
  });

  for (const c of cases) {
    it(`${c.file}: ${c.about}`, () => {
      const got = stripQuotedHistory(c.mail, { subject: c.subject });
      results.push(got === c.expected);
      expect(got).to.equal(c.expected);
    });
  }

  after(() => {
    const passed = results.filter(Boolean).length;
    console.log(`      reply table: ${passed}/${results.length} passed (${((100 * passed) / Math.max(1, results.length)).toFixed(1)}%)`);
  });
});
