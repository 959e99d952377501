import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/*
 * The mail cases as a user sees them: ../shared/cases/check.mjs replays each case folder's .eml
 * files through the built CLI (import --notify, then tickets/failed/addresses list) and checks
 * its expect.json. Two case sets: the shared cases rebuilt from other helpdesks' bug reports
 * (../shared/cases) and our own (test/cases, numbered 50-149). One `it` per case folder, asserting
 * that check.mjs printed "PASS" for it. check.mjs lives in ../shared: without it both sets skip
 * with a message, and in CI (env CI set) its absence is a failure.
 */

const ROOT = process.cwd();
const SHARED = path.resolve(ROOT, "../shared/cases");
const CHECK = path.join(SHARED, "check.mjs");
const OWN = path.resolve(ROOT, "test/cases");
// Cases run two side by side: the machine is shared, and each CLI start costs about a second of CPU.
const JOBS = "2";

const caseFolders = (dir: string): string[] =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => /^\d+-/.test(f) && fs.existsSync(path.join(dir, f, "expect.json")))
        .sort()
    : [];

/** check.mjs's verdict line per case folder ("PASS NN-name" or "FAIL NN-name — …", with --all's extra lines). */
function runCheck(dir: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHECK, dir, "--product", ROOT, "--jobs", JOBS, "--all"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0 && code !== 1) return reject(new Error(`check.mjs exited ${code}: ${err.trim() || out.trim()}`));
      const verdicts = new Map<string, string>();
      let last: string | null = null;
      for (const line of out.split("\n")) {
        const m = /^(PASS|FAIL) (\S+)/.exec(line);
        if (m) verdicts.set((last = m[2]), line);
        else if (last && /^\s+\S/.test(line)) verdicts.set(last, `${verdicts.get(last)}\n${line}`);
      }
      resolve(verdicts);
    });
  });
}

for (const [title, dir] of [
  ["shared cases (../shared/cases)", SHARED],
  ["our own cases (test/cases)", OWN],
] as const) {
  describe(`mail cases: ${title}`, function () {
    let verdicts = new Map<string, string>();

    before(async function () {
      // About a second of CPU per CLI start, a few starts per mail: minutes, not the default two.
      this.timeout(30 * 60_000);
      if (!fs.existsSync(CHECK)) {
        const message = `check.mjs not found at ${CHECK} (the shared cases live in ../shared/cases)`;
        if (process.env.CI) throw new Error(`${message}: in CI its absence is a failure`);
        console.log(`      skipped: ${message}`);
        this.skip();
      }
      verdicts = await runCheck(dir);
    });

    const folders = caseFolders(dir);
    it("has cases", function () {
      if (!fs.existsSync(CHECK)) this.skip();
      expect(folders.length).to.be.greaterThan(0);
    });
    for (const folder of folders) {
      it(folder, () => {
        const verdict = verdicts.get(folder) ?? `(check.mjs printed nothing for ${folder})`;
        expect(verdict.startsWith(`PASS ${folder}`), verdict).to.equal(true);
      });
    }
  });
}
