import { expect } from "chai";
import { MailReceipt, Message, type OutboxMail, Ticket } from "../../src/db/entities.js";
import { localDate } from "../../src/mail/dates.js";
import { notifyOverdue } from "../../src/tickets/workflow/overdue.js";
import { ENGINES } from "../helpers/databases.js";
import {
  ALICE,
  BASE,
  BOB,
  CARLA,
  CONNY,
  CONSULTING,
  DAVE,
  DAY,
  HOUR,
  IT,
  SUPPORT,
  THUNDERBIRD_QUOTE,
  WEB,
  WENDY,
  sorted,
  useWorld,
  who,
} from "../helpers/workflow-world.js";

/*
 * Each workflow rule through processMail, against real databases, checked the way a person
 * would: the ticket row, the stored messages, the ticket's events and the mails queued in the
 * outbox (who gets what, in which language, and who gets nothing). The clock is ours: the
 * reopen window and overdue notices are tested by moving it, never by waiting.
 */

for (const engine of ENGINES) {
  describe(`ticket workflow rules through processMail (${engine})`, () => {
    const t = useWorld(engine);
    const { deliver, open, reply, ticket, events, eventRows, stored, queuedFor, queuedForTicket, one } = t;

    describe("routing", () => {
      it("routes by the department address in To", async () => {
        const r = await deliver({ from: `Dave Doe <${DAVE}>`, to: WEB, subject: "Contact form broken" });
        expect((await ticket(r.ticketId!)).departmentId).to.equal("web");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`new-ticket→${WENDY}`, `received→${DAVE}`]));
      });

      it("routes by a department address in Cc", async () => {
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: "Erik <erik@customer.test>",
          cc: CONSULTING,
          subject: "Workshop next month",
        });
        expect((await ticket(r.ticketId!)).departmentId).to.equal("consulting");
        expect(who(await queuedFor(r.messageId)), "one acknowledgement, to Dave (Erik is in its Cc)").to.deep.equal(
          sorted([`new-ticket→${CONNY}`, `received→${DAVE}`]),
        );
      });

      it("routes by Delivered-To alone (the department was a Bcc)", async () => {
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: "team@customer.test",
          subject: "Landing page typo",
          extra: [`Delivered-To: ${WEB}`],
        });
        expect((await ticket(r.ticketId!)).departmentId).to.equal("web");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`new-ticket→${WENDY}`, `received→${DAVE}`]));
      });

      it("routes by X-Original-To alone (an alias delivered into the support mailbox)", async () => {
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: "team@customer.test",
          subject: "Strategy meeting",
          extra: [`Delivered-To: ${SUPPORT}`, `X-Original-To: ${CONSULTING}`],
        });
        expect((await ticket(r.ticketId!)).departmentId).to.equal("consulting");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`new-ticket→${CONNY}`, `received→${DAVE}`]));
      });

      it("routes by the plus-address support+web@", async () => {
        const r = await deliver({ from: `Dave Doe <${DAVE}>`, to: "support+web@example.test", subject: "Broken link" });
        expect((await ticket(r.ticketId!)).departmentId).to.equal("web");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`new-ticket→${WENDY}`, `received→${DAVE}`]));
      });

      it("sends mail to the general address to the default department", async () => {
        const r = await deliver({ from: `Dave Doe <${DAVE}>`, to: SUPPORT, subject: "Laptop is slow" });
        const row = await ticket(r.ticketId!);
        expect(row.departmentId).to.equal("it");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`new-ticket→${ALICE}`, `new-ticket→${BOB}`, `received→${DAVE}`]));
      });

      it("lets a `Department: web` field line route mail to the general address, and removes the line", async () => {
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: SUPPORT,
          subject: "Contact form",
          body: "Department: web\n\nThe contact form is broken.",
        });
        const row = await ticket(r.ticketId!);
        expect(row.departmentId).to.equal("web");
        expect(row.description).to.equal("The contact form is broken.");
        expect((await stored(r.messageId)).text).to.equal("The contact form is broken.");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`new-ticket→${WENDY}`, `received→${DAVE}`]));
      });

      it("understands `Abteilung: Beratung` (the German department name)", async () => {
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: SUPPORT,
          subject: "Beratungstermin",
          body: "Abteilung: Beratung\n\nWir brauchen einen Termin.",
        });
        const row = await ticket(r.ticketId!);
        expect(row.departmentId).to.equal("consulting");
        expect(row.description).to.equal("Wir brauchen einen Termin.");
        expect(who(await queuedFor(r.messageId))).to.deep.equal(sorted([`new-ticket→${CONNY}`, `received→${DAVE}`]));
      });

      it("lets a department address win over a field line", async () => {
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: IT,
          subject: "Which one?",
          body: "Department: web\n\nMy monitor flickers.",
        });
        const row = await ticket(r.ticketId!);
        expect(row.departmentId).to.equal("it");
        expect(row.description).to.equal("My monitor flickers.");
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`new-ticket→${ALICE}`, `new-ticket→${BOB}`, `received→${DAVE}`]));
      });

      it("makes one ticket of one mail to two department addresses, and a second delivery is a duplicate", async () => {
        const raw = {
          from: `Dave Doe <${DAVE}>`,
          to: `${IT}, ${WEB}`,
          subject: "Intranet and website both down",
          messageId: `both.${engine}@mail.test`,
        };
        const a = await deliver(raw);
        const b = await deliver(raw);
        expect(a.outcome).to.equal("ticket_created");
        expect(b.outcome).to.equal("duplicate");
        expect(b.ticketId).to.equal(a.ticketId);
        expect((await ticket(a.ticketId!)).departmentId, "the first department address takes it").to.equal("it");
        expect(
          await t
            .db()
            .getRepository(Ticket)
            .count({ where: { title: "Intranet and website both down" } }),
        ).to.equal(1);
        expect(
          await t
            .db()
            .getRepository(Message)
            .count({ where: { messageId: raw.messageId } }),
        ).to.equal(1);
        expect(who(await queuedForTicket(a.ticketId!))).to.deep.equal(
          sorted([`new-ticket→${ALICE}`, `new-ticket→${BOB}`, `received→${DAVE}`]),
        );
        const receipt = await t.db().getRepository(MailReceipt).findOneByOrFail({ id: b.receiptId });
        expect(receipt.outcome).to.equal("duplicate");
      });
    });

    describe("field lines and mail headers on a new request", () => {
      it("reads English field lines with an ISO date and removes them from the description", async () => {
        const id = await open({ body: "Priority: high\nUrgency: blocked\nDue: 2026-12-03\n\nThe VPN drops every ten minutes." });
        const row = await ticket(id);
        expect(row).to.include({
          priority: "high",
          urgency: "blocked",
          dueDate: "2026-12-03",
          description: "The VPN drops every ten minutes.",
        });
        const msg = await t.db().getRepository(Message).findOneByOrFail({ ticketId: id, direction: "inbound" });
        expect(msg.text).to.equal("The VPN drops every ten minutes.");
      });

      it("reads German field lines with a dd.mm.yyyy date", async () => {
        const id = await open({
          from: `Carla Kundin <${CARLA}>`,
          body: "Priorität: kritisch\nDringlichkeit: das System steht\nFällig: 03.12.2026\n\nDas ERP ist nicht erreichbar.",
        });
        expect(await ticket(id)).to.include({
          priority: "critical",
          urgency: "system-down",
          dueDate: "2026-12-03",
          description: "Das ERP ist nicht erreichbar.",
        });
      });

      it("reads a relative date (`Due: tomorrow`) against the clock", async () => {
        const id = await open({ body: "Due: tomorrow\n\nPlease renew the certificate." });
        expect((await ticket(id)).dueDate).to.equal(localDate(new Date(BASE + DAY)));
        expect((await ticket(id)).dueDate).to.equal("2026-11-27");
      });

      it("takes the priority from Importance / X-Priority when no field line sets one", async () => {
        const a = await open({ extra: ["Importance: high"] });
        const b = await open({ extra: ["X-Priority: 1 (Highest)"] });
        const c = await open({ extra: ["Importance: high"], body: "Priority: low\n\nNo hurry, really." });
        const d = await open({});
        expect((await ticket(a)).priority).to.equal("high");
        expect((await ticket(b)).priority).to.equal("high");
        expect((await ticket(c)).priority, "the field line beats the client's flag").to.equal("low");
        expect((await ticket(d)).priority).to.equal("normal");
      });

      it("defaults the urgency to the department's defaultUrgency", async () => {
        expect((await ticket(await open({ to: IT }))).urgency).to.equal("impaired");
        expect((await ticket(await open({ to: WEB }))).urgency).to.equal("minor");
        expect((await ticket(await open({ to: CONSULTING }))).urgency).to.equal("change-request");
        expect((await ticket(await open({ to: WEB, body: "Urgency: 5\n\nThe shop is offline." }))).urgency).to.equal("system-down");
      });
    });

    describe("new-ticket notifications", () => {
      it("tells every member of the routed department and no one else", async () => {
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: IT,
          cc: `Erik <erik@customer.test>, Wendy Web <${WENDY}>`,
          subject: "Scanner offline",
          body: "The scanner in room 12 is offline.",
        });
        const rows = await queuedForTicket(r.ticketId!);
        expect(who(rows), "not Wendy of web, though she was copied in; not Erik").to.deep.equal(
          sorted([`new-ticket→${ALICE}`, `new-ticket→${BOB}`, `received→${DAVE}`]),
        );
        const forAlice = one(rows, "new-ticket", ALICE);
        expect(forAlice.language).to.equal("en");
        expect(forAlice.subject).to.contain(`[#T-${r.ticketId}]`).and.to.contain("Scanner offline");
        expect(forAlice.textBody).to.contain("The scanner in room 12 is offline.").and.to.contain("#take");
        expect(one(rows, "new-ticket", BOB).language).to.equal("de");
      });

      it("acknowledges in the requester's language: de by override, de by department, en by default", async () => {
        const carla = await open({ from: `Carla Kundin <${CARLA}>`, to: WEB });
        const daveConsulting = await open({ to: CONSULTING });
        const daveIt = await open({ to: IT });
        const ack = async (id: number, to: string) => one(await queuedForTicket(id), "received", to);

        const a = await ack(carla, CARLA);
        expect(a.language).to.equal("de");
        expect(a.subject).to.contain(`[#T-${carla}]`).and.to.contain("Ihre Anfrage ist eingegangen");
        const b = await ack(daveConsulting, DAVE);
        expect(b.language).to.equal("de");
        expect(b.subject).to.contain(`[#T-${daveConsulting}]`).and.to.contain("Ihre Anfrage ist eingegangen");
        expect(one(await queuedForTicket(daveConsulting), "new-ticket", CONNY).language).to.equal("de");
        const c = await ack(daveIt, DAVE);
        expect(c.language).to.equal("en");
        expect(c.subject).to.contain(`[#T-${daveIt}]`).and.to.contain("We received your request");
        expect((await ticket(carla)).language).to.equal("de");
        expect((await ticket(daveIt)).language).to.equal("en");
      });
    });

    describe("agent commands in a reply", () => {
      it("#take: the agent becomes the assignee, the requester learns who handles it", async () => {
        const id = await open();
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#take");
        expect(r.outcome).to.equal("reply_added");
        expect(await ticket(id)).to.include({ assigneeAddress: ALICE, status: "in_progress" });
        expect((await events(id)).slice(1)).to.deep.equal([`assignee: - → ${ALICE}`, "status: new → in_progress"]);
        expect((await eventRows(id)).slice(1).every((e) => e.actor === ALICE)).to.equal(true);
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`taken→${DAVE}`, `command-confirmation→${ALICE}`]));
        const taken = one(rows, "taken", DAVE);
        expect(taken.language).to.equal("en");
        expect(taken.subject).to.contain(`[#T-${id}]`);
        expect(taken.textBody).to.contain("Alice Admin");
        const conf = one(rows, "command-confirmation", ALICE);
        expect(conf.subject).to.contain(`[#T-${id}]`);
        expect(conf.textBody).to.contain(`assignee: Alice Admin <${ALICE}>`).and.to.contain("status: in progress");
        expect((await stored(r.messageId)).visibility).to.equal("internal");
      });

      it("#übernehmen (German): Bob takes it and is confirmed in German; Carla is told in German", async () => {
        const id = await open({ from: `Carla Kundin <${CARLA}>` });
        const r = await reply(id, `Bob Berger <${BOB}>`, "#übernehmen");
        expect(await ticket(id)).to.include({ assigneeAddress: BOB, status: "in_progress" });
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`taken→${CARLA}`, `command-confirmation→${BOB}`]));
        const taken = one(rows, "taken", CARLA);
        expect(taken.language).to.equal("de");
        expect(taken.textBody).to.contain("Bob Berger");
        const conf = one(rows, "command-confirmation", BOB);
        expect(conf.language).to.equal("de");
        expect(conf.textBody).to.contain(`Bearbeitung: Bob Berger <${BOB}>`).and.to.contain("Status: in Bearbeitung");
      });

      it("#ask: the question goes to the requester, the ticket waits; the answer brings it back to the assignee", async () => {
        const id = await open();
        await reply(id, ALICE, "#take");
        const q = await reply(id, `Alice Admin <${ALICE}>`, "#ask\nWhich model is it, and what does its display say?");
        const row = await ticket(id);
        expect(row.status).to.equal("waiting");
        expect((await events(id)).at(-1)).to.equal("status: in_progress → waiting");
        const msg = await stored(q.messageId);
        expect(msg.visibility).to.equal("public");
        expect(msg.text.trim()).to.equal("Which model is it, and what does its display say?");
        const rows = await queuedFor(q.messageId);
        expect(who(rows)).to.deep.equal(sorted([`question→${DAVE}`, `command-confirmation→${ALICE}`]));
        const question = one(rows, "question", DAVE);
        expect(question.subject).to.contain(`[#T-${id}]`);
        expect(question.textBody).to.contain("Which model is it").and.not.to.contain("#ask");
        expect(one(rows, "command-confirmation", ALICE).textBody).to.contain(`question sent to ${DAVE}`);

        const a = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: SUPPORT,
          subject: `Re: ${question.subject}`,
          inReplyTo: question.messageId,
          body: `An HP LaserJet 4050; the display says PC LOAD LETTER.${THUNDERBIRD_QUOTE(`T-${id}`, "Which model is it, and what does its display say?")}`,
        });
        expect(a.ticketId).to.equal(id);
        expect((await ticket(id)).status).to.equal("in_progress");
        expect((await eventRows(id)).at(-1)).to.include({ action: "status", detail: "waiting → in_progress", actor: DAVE });
        const answerRows = await queuedFor(a.messageId);
        expect(who(answerRows), "only the assignee, not Bob, not Dave").to.deep.equal([`answer-received→${ALICE}`]);
        expect(answerRows[0].textBody).to.contain("PC LOAD LETTER").and.not.to.contain("Which model is it");
        expect((await stored(a.messageId)).text).to.equal("An HP LaserJet 4050; the display says PC LOAD LETTER.");
      });

      it("#assign to a colleague: the colleague gets the ticket with its history; the handover text stays internal", async () => {
        const id = await open();
        await reply(id, ALICE, "#take");
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#assign bob@example.test\nBob, can you check the paper tray?");
        expect(await ticket(id)).to.include({ assigneeAddress: BOB, status: "in_progress", departmentId: "it" });
        expect((await events(id)).at(-1)).to.equal(`assignee: ${ALICE} → ${BOB}`);
        const rows = await queuedFor(r.messageId);
        expect(who(rows), "the requester is not sent a message meant for Bob").to.deep.equal(
          sorted([`assigned→${BOB}`, `command-confirmation→${ALICE}`]),
        );
        const assigned = one(rows, "assigned", BOB);
        expect(assigned.language).to.equal("de");
        expect(assigned.subject).to.contain(`[#T-${id}]`);
        expect(assigned.textBody)
          .to.contain("Bob, can you check the paper tray?")
          .and.to.contain("It shows error E-42 since this morning.");
        expect(one(rows, "command-confirmation", ALICE).textBody).to.contain(`assignee: Bob Berger <${BOB}>`);
        expect((await stored(r.messageId)).visibility).to.equal("internal");
      });

      it("#assign to a colleague of another department moves the ticket to that department", async () => {
        const id = await open();
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#assign Wendy Web");
        expect(await ticket(id)).to.include({ assigneeAddress: WENDY, departmentId: "web", status: "in_progress" });
        expect((await events(id)).slice(1)).to.deep.equal(["department: it → web", `assignee: - → ${WENDY}`, "status: new → in_progress"]);
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`assigned→${WENDY}`, `command-confirmation→${ALICE}`]));
        const assigned = one(rows, "assigned", WENDY);
        expect(assigned.language).to.equal("en");
        expect(assigned.subject).to.contain(`[#T-${id}]`).and.to.contain("Assigned to you");
        expect(assigned.textBody).to.contain("It shows error E-42");
        expect(one(rows, "command-confirmation", ALICE).textBody)
          .to.contain("department: Web development")
          .and.to.contain(`assignee: Wendy Web <${WENDY}>`);
      });

      it("#assign to a department: unassigned there, its members are told (by id, and #zuweisen by German name)", async () => {
        const id = await open();
        await reply(id, ALICE, "#take");
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#assign web");
        expect(await ticket(id)).to.include({ departmentId: "web", assigneeAddress: null, status: "new" });
        expect((await events(id)).slice(-3)).to.deep.equal(["department: it → web", `assignee: ${ALICE} → -`, "status: in_progress → new"]);
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`assigned→${WENDY}`, `command-confirmation→${ALICE}`]));
        expect(one(rows, "assigned", WENDY).subject)
          .to.contain(`[#T-${id}]`)
          .and.to.contain("Assigned to your department");

        const z = await reply(id, `Wendy Web <${WENDY}>`, "#zuweisen Beratung");
        expect(await ticket(id)).to.include({ departmentId: "consulting", assigneeAddress: null, status: "new" });
        const zRows = await queuedFor(z.messageId);
        expect(who(zRows)).to.deep.equal(sorted([`assigned→${CONNY}`, `command-confirmation→${WENDY}`]));
        expect(one(zRows, "assigned", CONNY).language).to.equal("de");
      });

      it("#note: stored internal, the department (or assignee) reads it, the requester never", async () => {
        const id = await open();
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#note\nCaller sounded stressed; this is the CEO's printer.");
        const msg = await stored(r.messageId);
        expect(msg.visibility).to.equal("internal");
        expect(msg.text.trim()).to.equal("Caller sounded stressed; this is the CEO's printer.");
        expect(await ticket(id)).to.include({ status: "new", assigneeAddress: null });
        expect((await events(id)).at(-1)).to.equal("note: internal note added");
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`note→${BOB}`, `command-confirmation→${ALICE}`]));
        expect(one(rows, "note", BOB).textBody).to.contain("this is the CEO's printer");
        expect(one(rows, "command-confirmation", ALICE).textBody).to.contain("internal note stored");

        await reply(id, ALICE, "#take");
        const n = await reply(id, `Bob Berger <${BOB}>`, "#notiz\nI replaced its fuser last month.");
        const nRows = await queuedFor(n.messageId);
        expect(who(nRows)).to.deep.equal(sorted([`note→${ALICE}`, `command-confirmation→${BOB}`]));
        expect(one(nRows, "note", ALICE).textBody).to.contain("I replaced its fuser last month.");
        expect((await queuedForTicket(id)).filter((m) => m.toAddress === DAVE).map((m) => m.event)).to.deep.equal(["received", "taken"]);
      });

      it("#priority, #urgency and #due set their fields", async () => {
        const id = await open();
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#priority critical\n#urgency 4\n#due 24.12.2026");
        expect(await ticket(id)).to.include({ priority: "critical", urgency: "blocked", dueDate: "2026-12-24", status: "new" });
        expect((await events(id)).slice(1)).to.deep.equal([
          "priority: normal → critical",
          "urgency: impaired → blocked",
          "due: - → 2026-12-24",
        ]);
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal([`command-confirmation→${ALICE}`]);
        expect(rows[0].textBody)
          .to.contain("priority: critical")
          .and.to.contain("urgency: work is blocked")
          .and.to.contain("due: 2026-12-24");
      });

      it("a field set to the value it already has changes nothing and the confirmation does not claim a change", async () => {
        const id = await open();
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#urgency impaired\n#priority normal");
        expect(await events(id)).to.have.length(1);
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal([`command-confirmation→${ALICE}`]);
        expect(rows[0].textBody).not.to.contain("urgency:").and.not.to.contain("priority:");
      });

      it("#priorität #dringlichkeit #fällig (German, on one line, relative date) set their fields", async () => {
        const id = await open();
        const r = await reply(id, `Bob Berger <${BOB}>`, "#priorität hoch #dringlichkeit 2 #fällig morgen");
        expect(await ticket(id)).to.include({ priority: "high", urgency: "minor", dueDate: "2026-11-27" });
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal([`command-confirmation→${BOB}`]);
        expect(rows[0].language).to.equal("de");
        expect(rows[0].textBody)
          .to.contain("Priorität: hoch")
          .and.to.contain("Dringlichkeit: geringe Störung")
          .and.to.contain("fällig am: 2026-11-27");
      });

      it("#resolve: resolved with the text as resolution, which the requester receives", async () => {
        const id = await open();
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#resolve\nReplaced the fuser unit; the test page prints fine.");
        const row = await ticket(id);
        expect(row).to.include({
          status: "resolved",
          assigneeAddress: ALICE,
          resolution: "Replaced the fuser unit; the test page prints fine.",
        });
        expect(row.resolvedAt?.getTime()).to.equal(BASE);
        expect((await events(id)).slice(1)).to.deep.equal([`assignee: - → ${ALICE}`, "status: new → resolved"]);
        expect((await stored(r.messageId)).visibility).to.equal("public");
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`resolved→${DAVE}`, `command-confirmation→${ALICE}`]));
        const resolved = one(rows, "resolved", DAVE);
        expect(resolved.subject).to.contain(`[#T-${id}]`);
        expect(resolved.textBody).to.contain("Replaced the fuser unit; the test page prints fine.").and.not.to.contain("#resolve");
        expect(one(rows, "command-confirmation", ALICE).textBody).to.contain("status: resolved");
      });

      it("#reopen: a resolved ticket goes back to work", async () => {
        const id = await open();
        await reply(id, ALICE, "#resolve\nDone.");
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#reopen");
        const row = await ticket(id);
        expect(row).to.include({ status: "in_progress", assigneeAddress: ALICE, resolution: null, resolvedAt: null });
        expect((await events(id)).at(-1)).to.equal("status: resolved → in_progress");
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal([`command-confirmation→${ALICE}`]);
        expect(rows[0].textBody).to.contain("status: in progress");
      });

      it("runs several commands of one mail (`#take #priority high` plus text) and sends the text to the requester", async () => {
        const id = await open();
        const r = await reply(id, `Alice Admin <${ALICE}>`, "#take #priority high\nI will come by at 3 pm to look at it.");
        expect(await ticket(id)).to.include({ assigneeAddress: ALICE, status: "in_progress", priority: "high" });
        expect((await events(id)).slice(1)).to.deep.equal([
          `assignee: - → ${ALICE}`,
          "status: new → in_progress",
          "priority: normal → high",
        ]);
        const msg = await stored(r.messageId);
        expect(msg.visibility).to.equal("public");
        expect(msg.text.trim()).to.equal("I will come by at 3 pm to look at it.");
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`taken→${DAVE}`, `agent-reply→${DAVE}`, `command-confirmation→${ALICE}`]));
        expect(one(rows, "agent-reply", DAVE).textBody)
          .to.contain("I will come by at 3 pm")
          .and.not.to.contain("#take");
        expect(one(rows, "command-confirmation", ALICE).textBody)
          .to.contain(`assignee: Alice Admin <${ALICE}>`)
          .and.to.contain("status: in progress")
          .and.to.contain("priority: high")
          .and.to.contain(`answer sent to ${DAVE}`);
      });

      it("a plain agent reply without a command is a public answer to the requester, and changes nothing else", async () => {
        const id = await open();
        const before = await ticket(id);
        const r = await reply(
          id,
          `Alice Admin <${ALICE}>`,
          `Have you tried switching it off and on again?${THUNDERBIRD_QUOTE(`T-${id}`, "It shows error E-42 since this morning.")}`,
        );
        const after = await ticket(id);
        expect(after).to.include({ status: "new", assigneeAddress: null });
        expect(after).to.deep.equal(before);
        expect(await events(id)).to.have.length(1);
        const msg = await stored(r.messageId);
        expect(msg.visibility).to.equal("public");
        expect(msg.text).to.equal("Have you tried switching it off and on again?");
        const rows = await queuedFor(r.messageId);
        expect(who(rows), "no confirmation for a mail without commands").to.deep.equal([`agent-reply→${DAVE}`]);
        expect(rows[0].textBody).to.contain("switching it off and on again").and.not.to.contain("wrote:");
      });
    });

    describe("command errors: nothing changes, only the agent is told", () => {
      async function expectRejected(id: number, from: string, body: string, problem: string[]): Promise<OutboxMail> {
        const before = await ticket(id);
        const eventsBefore = await events(id);
        const r = await reply(id, from, body);
        expect(r.outcome).to.equal("reply_added");
        expect(await ticket(id), "the ticket row is unchanged").to.deep.equal(before);
        expect(await events(id)).to.deep.equal(eventsBefore);
        expect((await stored(r.messageId)).visibility).to.equal("internal");
        const rows = await queuedFor(r.messageId);
        const agent = from.replace(/^.*<|>$/g, "");
        expect(who(rows)).to.deep.equal([`command-error→${agent}`]);
        expect(rows[0].subject).to.contain(`[#T-${id}]`);
        for (const p of problem) expect(rows[0].textBody).to.contain(p);
        return rows[0];
      }

      it("an unknown command (even beside a valid one)", async () => {
        const id = await open();
        const err = await expectRejected(id, `Alice Admin <${ALICE}>`, "#take #frobnicate\nOn it.", ["#frobnicate: unknown command"]);
        expect(err.textBody).to.contain("#take");
      });

      it("#assign to an unknown colleague", async () => {
        const id = await open();
        await expectRejected(id, `Alice Admin <${ALICE}>`, "#assign nobody@example.test", ['"nobody@example.test" is neither a colleague']);
      });

      it("#assign to an unknown department", async () => {
        const id = await open();
        await expectRejected(id, `Alice Admin <${ALICE}>`, "#assign marketing", [
          '"marketing" is neither a colleague',
          "it, web, consulting",
        ]);
      });

      it("#take by an agent of another department", async () => {
        const id = await open();
        await expectRejected(id, `Wendy Web <${WENDY}>`, "#take", ['department "it"', "#assign wendy@example.test"]);
      });

      it("#ask without a question", async () => {
        const id = await open();
        await expectRejected(id, `Alice Admin <${ALICE}>`, "#ask", ["#ask needs the question"]);
      });

      it("#reopen on a ticket that is not resolved", async () => {
        const id = await open();
        await reply(id, ALICE, "#take");
        await expectRejected(id, `Alice Admin <${ALICE}>`, "#reopen", ["#reopen: the ticket is not resolved"]);
      });

      it("a later command's error discards the earlier commands of the same mail", async () => {
        const id = await open();
        await expectRejected(id, `Alice Admin <${ALICE}>`, "#take\n#priority high\n#assign nobody@example.test", ["nobody@example.test"]);
      });

      it("errors reach an agent of another department in that agent's own language", async () => {
        const itTicket = await open({ to: IT });
        const de = await expectRejected(itTicket, `Conny Consult <${CONNY}>`, "#take", ['department "it"']);
        expect(de.language, "Conny's department writes German").to.equal("de");
        const consultingTicket = await open({ to: CONSULTING });
        const en = await expectRejected(consultingTicket, `Wendy Web <${WENDY}>`, "#take", ['department "consulting"']);
        expect(en.language, "Wendy is not a member of consulting").to.equal("en");
      });

      it("a #command from a non-agent is just text: nothing resolved, the message is public, nobody gets an error", async () => {
        const id = await open();
        const before = await ticket(id);
        const r = await reply(id, `Dave Doe <${DAVE}>`, "#resolve\nIt works again, you can close this.");
        expect(await ticket(id), "the ticket row is unchanged").to.deep.equal(before);
        expect(before).to.include({ status: "new", resolution: null, assigneeAddress: null });
        expect(await events(id)).to.have.length(1);
        const msg = await stored(r.messageId);
        expect(msg.visibility).to.equal("public");
        expect(msg.text).to.contain("#resolve").and.to.contain("It works again");
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`answer-received→${ALICE}`, `answer-received→${BOB}`]));
      });
    });

    describe("reopen window", () => {
      it("a requester's reply 3 days after the resolution reopens the ticket and tells the assignee", async () => {
        const id = await open();
        await reply(id, ALICE, "#resolve\nCleared the paper jam.");
        t.w.now = BASE + 3 * DAY;
        const r = await reply(id, `Dave Doe <${DAVE}>`, "Sorry, it jams again.");
        expect(r.outcome).to.equal("reply_added");
        expect(r.ticketId).to.equal(id);
        expect(await ticket(id)).to.include({ status: "in_progress", assigneeAddress: ALICE, resolution: null, resolvedAt: null });
        expect((await eventRows(id)).at(-1)).to.include({ action: "status", detail: "resolved → in_progress", actor: DAVE });
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal([`reopened→${ALICE}`]);
        expect(rows[0].subject).to.contain(`[#T-${id}]`);
        expect(rows[0].textBody).to.contain("Sorry, it jams again.");
        expect((await stored(r.messageId)).visibility).to.equal("public");
      });

      it("a reply 20 days after the resolution opens a new ticket that refers to the old one, in the old one's department", async () => {
        const old = await open({ to: WEB, subject: "Contact form broken", body: "The contact form returns 500." });
        const resolvedMail = await reply(old, WENDY, "#resolve\nFixed the mail relay of the form.");
        const resolvedNotice = one(await queuedFor(resolvedMail.messageId), "resolved", DAVE);
        const oldBefore = await ticket(old);
        t.w.now = BASE + 20 * DAY;
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: SUPPORT,
          subject: `Re: ${resolvedNotice.subject}`,
          inReplyTo: resolvedNotice.messageId,
          body: `The form fails again since yesterday.${THUNDERBIRD_QUOTE(`T-${old}`, "Fixed the mail relay of the form.")}`,
        });
        expect(r.outcome).to.equal("ticket_created");
        expect(r.ticketId).to.not.equal(old);
        expect(await ticket(old), "the old ticket stays resolved").to.deep.equal(oldBefore);
        const fresh = await ticket(r.ticketId!);
        expect(fresh).to.include({
          relatedTicketId: old,
          status: "new",
          departmentId: "web",
          description: "The form fails again since yesterday.",
        });
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal(sorted([`received→${DAVE}`, `new-ticket→${WENDY}`]));
        const ack = one(rows, "received", DAVE);
        expect(ack.subject).to.contain(`[#T-${r.ticketId}]`);
        expect(ack.textBody).to.contain(`T-${old}`);
      });

      it("the requester keeps the language of their ticket when it moves to another department", async () => {
        const id = await open({ to: CONSULTING, subject: "Angebot" });
        expect(one(await queuedForTicket(id), "received", DAVE).language).to.equal("de");
        await reply(id, CONNY, "#assign wendy@example.test");
        const r = await reply(id, WENDY, "#resolve\nDas Angebot liegt im Anhang.");
        expect((await ticket(id)).departmentId).to.equal("web");
        expect(one(await queuedFor(r.messageId), "resolved", DAVE).language).to.equal("de");
      });
    });

    describe("after the fact", () => {
      it("an agent's new mail starting with #done records work already done", async () => {
        const r = await deliver({
          from: `Alice Admin <${ALICE}>`,
          to: IT,
          subject: "Restarted the file server after the power cut",
          body: "#done\nFile server restarted at 6:00, all shares checked.",
        });
        expect(r.outcome).to.equal("ticket_created");
        const row = await ticket(r.ticketId!);
        expect(row).to.include({
          status: "resolved",
          assigneeAddress: ALICE,
          departmentId: "it",
          resolution: "File server restarted at 6:00, all shares checked.",
        });
        expect(row.resolvedAt?.getTime()).to.equal(BASE);
        const rows = await queuedForTicket(r.ticketId!);
        expect(who(rows), "no received, no new-ticket").to.deep.equal([`command-confirmation→${ALICE}`]);
        expect(rows[0].textBody).to.contain(`ticket T-${r.ticketId} created`).and.to.contain("resolved");
        expect((await events(r.ticketId!)).slice(1)).to.deep.equal([`assignee: - → ${ALICE}`, "status: new → resolved"]);
      });

      it("#erledigt works the same, in German for Bob", async () => {
        const r = await deliver({
          from: `Bob Berger <${BOB}>`,
          to: SUPPORT,
          subject: "Server nach Stromausfall neu gestartet",
          body: "#erledigt\nFileserver neu gestartet, alles geprüft.",
        });
        const row = await ticket(r.ticketId!);
        expect(row).to.include({
          status: "resolved",
          assigneeAddress: BOB,
          departmentId: "it",
          resolution: "Fileserver neu gestartet, alles geprüft.",
        });
        const rows = await queuedForTicket(r.ticketId!);
        expect(who(rows)).to.deep.equal([`command-confirmation→${BOB}`]);
        expect(rows[0].language).to.equal("de");
        expect(rows[0].textBody).to.contain(`Ticket T-${r.ticketId} angelegt`);
      });

      it("#done sent to the general address files the ticket in the agent's own department", async () => {
        const r = await deliver({
          from: `Wendy Web <${WENDY}>`,
          to: SUPPORT,
          subject: "Renewed the TLS certificate",
          body: "#done\nRenewed until 2027.",
        });
        expect(await ticket(r.ticketId!)).to.include({ status: "resolved", assigneeAddress: WENDY, departmentId: "web" });
        expect(who(await queuedForTicket(r.ticketId!))).to.deep.equal([`command-confirmation→${WENDY}`]);
      });

      it("a new agent mail whose commands fail creates an ordinary ticket and tells the agent, with nothing applied", async () => {
        const r = await deliver({
          from: `Alice Admin <${ALICE}>`,
          to: IT,
          subject: "Backup job slow",
          body: "#priority high\n#assign nobody@example.test\nThe nightly backup takes 9 hours.",
        });
        expect(r.outcome).to.equal("ticket_created");
        const row = await ticket(r.ticketId!);
        expect(row).to.include({ status: "new", priority: "normal", assigneeAddress: null, departmentId: "it" });
        const rows = await queuedForTicket(r.ticketId!);
        expect(one(rows, "command-error", ALICE).textBody).to.contain("nobody@example.test");
        expect(one(rows, "new-ticket", BOB).textBody, "Bob is told what was saved").to.contain("Priorität: normal");
        expect(rows.filter((m) => m.event === "command-confirmation")).to.have.length(0);
      });
    });

    describe("quoted history", () => {
      it("a reply with a Thunderbird quote stores and forwards only the new text", async () => {
        const id = await open();
        const ack = one(await queuedForTicket(id), "received", DAVE);
        await reply(id, ALICE, "#take");
        const r = await deliver({
          from: `Dave Doe <${DAVE}>`,
          to: SUPPORT,
          subject: `Re: ${ack.subject}`,
          inReplyTo: ack.messageId,
          body: `It is the printer next to the kitchen.${THUNDERBIRD_QUOTE(`T-${id}`, "thank you for your message. We have opened a ticket.")}`,
        });
        expect(r.ticketId).to.equal(id);
        expect((await stored(r.messageId)).text).to.equal("It is the printer next to the kitchen.");
        const rows = await queuedFor(r.messageId);
        expect(who(rows)).to.deep.equal([`answer-received→${ALICE}`]);
        expect(rows[0].textBody)
          .to.contain("next to the kitchen")
          .and.not.to.contain("wrote:")
          .and.not.to.contain("We have opened a ticket");
      });

      it("an agent's command reply with a quote: the note carries only the new text", async () => {
        const id = await open();
        const r = await reply(id, ALICE, `#note\nToner ordered.${THUNDERBIRD_QUOTE(`T-${id}`, "It shows error E-42 since this morning.")}`);
        expect((await stored(r.messageId)).text.trim()).to.equal("Toner ordered.");
        const note = one(await queuedFor(r.messageId), "note", BOB);
        expect(note.textBody).to.contain("Toner ordered.").and.not.to.contain("wrote:");
      });
    });
  });

  describe(`overdue notices (${engine})`, () => {
    const t = useWorld(engine);
    const { open, reply, ticket, events, queuedForTicket } = t;
    const overdueRows = async (id: number) => (await queuedForTicket(id)).filter((m) => m.event === "overdue");
    const yesterday = () => localDate(new Date(BASE - DAY));

    it("a ticket due yesterday and unassigned: the department's members are told", async () => {
      const id = await open({ body: `Due: ${yesterday()}\n\nReplace the projector lamp.` });
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      const rows = await overdueRows(id);
      expect(who(rows)).to.deep.equal(sorted([`overdue→${ALICE}`, `overdue→${BOB}`]));
      const forAlice = rows.find((m) => m.toAddress === ALICE)!;
      expect(forAlice.subject).to.contain(`[#T-${id}]`).and.to.contain("Overdue");
      expect(forAlice.textBody).to.contain(`it was due on ${yesterday()}`);
      expect((await events(id)).at(-1)).to.equal(`overdue: due ${yesterday()}; told ${ALICE}, ${BOB}`);
      expect((await ticket(id)).lastOverdueNoticeAt?.getTime()).to.equal(BASE);
    });

    it("an assigned ticket: only the assignee is told", async () => {
      const id = await open({ body: `Due: ${yesterday()}\n\nSet up the new laptop.` });
      await reply(id, ALICE, "#take");
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      expect(who(await overdueRows(id))).to.deep.equal([`overdue→${ALICE}`]);
    });

    it("repeats only after repeatHours: nothing within 24 h, again after 25 h", async () => {
      const id = await open({ body: `Due: ${yesterday()}\n\nRenew the domain.` });
      await reply(id, ALICE, "#take");
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      expect(await overdueRows(id)).to.have.length(1);
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      t.w.now = BASE + 23 * HOUR;
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      expect(await overdueRows(id), "within 24 h: nothing more").to.have.length(1);
      t.w.now = BASE + 25 * HOUR;
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      expect(who(await overdueRows(id))).to.deep.equal([`overdue→${ALICE}`, `overdue→${ALICE}`]);
    });

    it("never for a resolved ticket or one not yet due", async () => {
      const resolved = await open({ body: `Due: ${yesterday()}\n\nMove the desk phone.` });
      await reply(resolved, ALICE, "#resolve\nMoved.");
      const today = await open({ body: `Due: ${localDate(new Date(BASE))}\n\nOrder chairs.` });
      const tomorrow = await open({ body: "Due: tomorrow\n\nOrder desks." });
      const noDate = await open({ body: "Order lamps." });
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      for (const id of [resolved, today, tomorrow, noDate]) expect(await overdueRows(id), `ticket ${id}`).to.have.length(0);
      t.w.now = BASE + 25 * HOUR;
      await notifyOverdue(t.db(), t.w.gw.ctx, 24);
      expect(await overdueRows(resolved), "resolved: never").to.have.length(0);
      expect(await overdueRows(tomorrow), "due tomorrow is not overdue tomorrow").to.have.length(0);
      expect(await overdueRows(noDate)).to.have.length(0);
      expect(who(await overdueRows(today)), "due today is overdue the day after").to.deep.equal(
        sorted([`overdue→${ALICE}`, `overdue→${BOB}`]),
      );
    });
  });
}
