import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { processMail } from "../../src/tickets/pipeline.js";
import { createTestGateway, nextPosition, type TestGateway } from "../helpers/context.js";

const CORPUS = path.resolve(process.cwd(), "../shared/corpora/mime");

/** Every .eml under the MIME corpus (RFC examples, malformed mails, third-party structures). */
function corpusFiles(): string[] {
  const out: string[] = [];
  for (const sub of ["malformed", "rfc", "thirdparty"]) {
    const dir = path.join(CORPUS, sub);
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (f.endsWith(".eml")) out.push(path.join(dir, f));
  }
  return out;
}

describe("the whole pipeline over the MIME corpus (../shared/corpora/mime)", function () {
  let gw: TestGateway;
  before(async function () {
    if (!existsSync(CORPUS)) {
      if (process.env.CI) throw new Error(`the corpus ${CORPUS} is missing; CI needs ../shared/corpora`);
      console.warn(`    skipped: ${CORPUS} is missing (tests that need ../shared/corpora skip outside CI)`);
      this.skip();
    }
    gw = await createTestGateway("sqlite");
  });
  after(async () => gw?.close());

  it("every mail, malformed ones included, ends in a ticket (or a reply, a duplicate, a report) or in Failed with a reason; none throws", async () => {
    const outcomes: Record<string, number> = {};
    const failures: string[] = [];
    for (const file of corpusFiles()) {
      const r = await processMail(gw.ctx, nextPosition(), readFileSync(file));
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      if (r.outcome === "failed") {
        expect(r.reason, `${file} failed without a reason`).to.be.a("string").and.not.equal("");
        failures.push(`${path.basename(path.dirname(file))}/${path.basename(file)}: ${r.errorCode} ${r.reason}`);
      }
    }
    console.log(`      ${corpusFiles().length} mails: ${JSON.stringify(outcomes)}`);
    for (const f of failures) console.log(`        failed: ${f}`);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).to.equal(corpusFiles().length);
  });
});
