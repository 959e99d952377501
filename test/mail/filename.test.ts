import { expect } from "chai";
import { safeFilename } from "../../src/mail/filename.js";

describe("safeFilename: attachment names a sender chose", () => {
  const cases: Array<[string | null, string]> = [
    ["report.pdf", "report.pdf"],
    ["../../etc/passwd", "passwd"],
    ["..\\..\\windows\\system32\\evil.dll", "evil.dll"],
    ["/absolute/path/x.txt", "x.txt"],
    [".bashrc", "bashrc"],
    ["...", "attachment"],
    ["", "attachment"],
    [null, "attachment"],
    ["in\u0000voice\u0007.pdf", "invoice.pdf"],
    ["name\r\nBcc: x@y.pdf", "nameBcc_ x@y.pdf"],
    ["invoice\u202egnp.exe", "invoicegnp.exe"],
    ["CON", "attachment"],
    ["Ängebot für Müller.docx", "Ängebot für Müller.docx"],
    ["a<b>c:d|e?f*.txt", "a_b_c_d_e_f_.txt"],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      expect(safeFilename(input)).to.equal(expected);
    });
  }

  it("bounds a very long name and keeps its extension", () => {
    const out = safeFilename("x".repeat(5000) + ".pdf");
    expect(out.length).to.be.at.most(120);
    expect(out.endsWith(".pdf")).to.equal(true);
  });
});
