import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { chromium, type BrowserContext } from "playwright-core";
import { NOTIFICATION_EVENTS } from "../../src/notify/events/index.js";
import { TemplateSet } from "../../src/notify/templates.js";
import { eventData, fullData, LANGS, TAG, type NotificationData } from "../helpers/event-data.js";
import { makePng } from "../helpers/png.js";

/*
 * Every event's HTML part, rendered by a real browser engine (Debian's Chromium, headless, through
 * playwright-core): the page shows the tag and the person's words as text, runs nothing a person
 * wrote, and its links are real links. A screenshot of each is saved with the test output (the
 * folder is printed). Chromium comes from `bash test/demo/ensure-chromium.sh`; without it the
 * test is skipped with a message, and in CI it fails.
 */

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const ATTACK =
  'E-17 again <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>\nManual: https://example.com/manual?page=4';

/** A mail client shows cid: images from the mail's own parts; the page gets the same image as a data: URL. */
function asDisplayed(html: string, image: Buffer): string {
  return html.replace(/src="cid:[^"]+"/g, `src="data:image/png;base64,${image.toString("base64")}"`);
}

describe("notify/html in Chromium: every event's HTML part, rendered and photographed", function () {
  let context: BrowserContext;
  let profile: string;
  let shots: string;
  const set = new TemplateSet(path.resolve("templates"), "en");
  const image = makePng(240, 120, 5, 48);

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const msg = `Chromium is not installed at ${CHROMIUM} (bash test/demo/ensure-chromium.sh installs it); the HTML rendering test needs it`;
      if (process.env.CI) throw new Error(msg);
      console.warn(`    skipped: ${msg}`);
      this.skip();
    }
    profile = mkdtempSync(path.join(os.tmpdir(), "tp-chromium-profile-"));
    shots = mkdtempSync(path.join(os.tmpdir(), "tp-status-mails-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 760, height: 900 },
      offline: true,
    });
    console.log(`    screenshots of every status mail: ${shots}`);
  });
  after(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  for (const ev of NOTIFICATION_EVENTS) {
    for (const lang of LANGS) {
      it(`${ev.name}.${lang}: shows the tag and the words, runs no script from a mail, links work; screenshot saved`, async () => {
        const base = fullData(lang, ev.name);
        const d: NotificationData = { ...base, text: ATTACK, ticket: { ...base.ticket, description: ATTACK } };
        const mail = set.render(ev.name, lang, eventData(ev.name, d));
        const page = await context.newPage();
        try {
          await page.setContent(asDisplayed(mail.html!, image), { waitUntil: "load" });
          const seen = await page.evaluate(() => ({
            text: document.body.innerText,
            pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
            scripts: document.querySelectorAll("body script").length,
            links: [...document.querySelectorAll("a")].map((a) => a.href),
            images: [...document.querySelectorAll("img")].map((i) => ({
              src: i.src.slice(0, 22),
              loaded: i.complete && i.naturalWidth > 0,
            })),
          }));
          expect(seen.pwned, "a script from a mail ran").to.equal(null);
          expect(seen.scripts).to.equal(0);
          if (!ev.ticketless) expect(seen.text).to.contain(TAG);
          expect(seen.text).to.contain("ACME Support");
          if (mail.text.includes("E-17 again")) {
            expect(seen.text).to.contain('E-17 again <img src=x onerror="window.__pwned=1"><script>');
            expect(seen.links).to.include("https://example.com/manual?page=4");
          }
          // The inline image of the full data is shown, and loaded.
          expect(seen.images).to.deep.equal([{ src: "data:image/png;base64,", loaded: true }]);
          await page.screenshot({ path: path.join(shots, `${ev.name}.${lang}.png`), fullPage: true });
        } finally {
          await page.close();
        }
      });
    }
  }

  // TICKETPOST_DOCS_SCREENSHOT=1 writes the shot into docs/ for the README; otherwise it stays with the others.
  it("renders the README's sample status mail (docs/status-mail.png)", async () => {
    const d = fullData("en", "new-ticket");
    const sample: NotificationData = {
      ...d,
      textEmpty: false,
      files: { ...d.files!, listed: [] },
      ticket: {
        ...d.ticket,
        description:
          "The printer on floor 3 shows error E-17 since this morning.\nThe manual says to call support: https://example.com/manual?page=4\n\nA photo of the display is attached.",
      },
    };
    const page = await context.newPage();
    try {
      await page.setContent(asDisplayed(set.render("new-ticket", "en", eventData("new-ticket", sample)).html!, makePng(240, 120)), {
        waitUntil: "load",
      });
      const target = process.env.TICKETPOST_DOCS_SCREENSHOT ? path.resolve("docs/status-mail.png") : path.join(shots, "readme-sample.png");
      mkdirSync(path.dirname(target), { recursive: true });
      await page.screenshot({ path: target, fullPage: true });
      expect(statSync(target).size).to.be.greaterThan(10_000);
      expect(await page.locator("img").count()).to.be.greaterThan(0);
    } finally {
      await page.close();
    }
  });
});
