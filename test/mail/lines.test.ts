import { expect } from "chai";
import { splitLines } from "../../src/mail/lines.js";
import { localDate } from "../../src/mail/dates.js";

describe("mail/lines and mail/dates", () => {
  it("splits text into lines that keep their line ends, so joining gives the text back", () => {
    for (const text of ["a\nb", "a\n\nb\n", "\n", "one line", ""]) expect(splitLines(text).join(""), JSON.stringify(text)).to.equal(text);
    expect(splitLines("a\n\nb")).to.deep.equal(["a\n", "\n", "b"]);
    expect(splitLines("")).to.deep.equal([]);
  });

  it("gives the local calendar date of an instant as YYYY-MM-DD", () => {
    expect(localDate(new Date(2026, 0, 5, 23, 59))).to.equal("2026-01-05");
    expect(localDate(new Date(2026, 11, 31, 0, 0))).to.equal("2026-12-31");
  });
});
