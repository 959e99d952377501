import { expect } from "chai";
import path from "node:path";
import { analyseReply, stripQuotedHistory } from "../../src/mail/quoted-history.js";
import { QUOTES_DIR, readCases } from "./quotes-table.js";

/*
 * The own-text table: replies that quote our own stored mails (given as ownTexts), most of them
 * under attributions or header blocks of clients that do not exist, so no recogniser knows their
 * wording: the cut must come from finding our text. For comparison, the test also prints how many
 * the recognisers alone (no ownTexts) get right.
 */

const cases = readCases(path.join(QUOTES_DIR, "own"));
const results: boolean[] = [];
let withoutOwn = 0;

describe("mail/quoted-history: cutting at our own text", () => {
  it("has cases", () => {
    expect(cases.length).to.be.at.least(10);
    expect(cases.every((c) => c.own.length > 0)).to.equal(true);
  });

  for (const c of cases) {
    it(`${c.file}: ${c.about}`, () => {
      const got = stripQuotedHistory(c.mail, { ownTexts: c.own, subject: c.subject });
      if (stripQuotedHistory(c.mail) === c.expected) withoutOwn++;
      results.push(got === c.expected);
      expect(got).to.equal(c.expected);
    });
  }

  it("says which of our texts it found", () => {
    const c = cases.find((k) => k.file.startsWith("109-"));
    expect(c, "case 109").to.not.equal(undefined);
    const r = analyseReply(c!.mail, { ownTexts: c!.own });
    expect(r.ownText).to.equal(0);
  });

  after(() => {
    const passed = results.filter(Boolean).length;
    console.log(`      own-text table: ${passed}/${results.length} passed; without ownTexts ${withoutOwn}/${results.length}`);
  });
});
