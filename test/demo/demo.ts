import { MailWorld, SUPPORT, waitFor } from "../helpers/mail-world.js";

/*
 * The local demo: a private Dovecot and SMTP relay (the test harness), three customers writing
 * four mails to the support mailbox, the gateway run as `ticketpost poll-once`, a reply threading back, and
 * what everybody ended up with. Nothing here touches the machine's own mail setup.
 */

function say(text: string): void {
  process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
}

async function run(world: MailWorld, args: string[]): Promise<void> {
  process.stdout.write(`$ ticketpost ${args.join(" ")}\n`);
  const r = await world.cli(args, { TICKETPOST_LOG_LEVEL: "warn" });
  process.stdout.write(r.stdout);
  if (r.stderr.trim()) process.stdout.write(r.stderr);
  if (r.code !== 0) throw new Error(`ticketpost ${args[0]} exited with ${r.code}`);
}

async function main(): Promise<void> {
  say("starting a private Dovecot (IMAP + LMTP) and an SMTP relay on free loopback ports");
  const world = await MailWorld.start(
    ["carla@customer.test", "dan@customer.test", "erin@customer.test", "alice@example.test", "wendy@example.test"],
    {
      defaultDepartment: "it",
      departments: [
        { id: "it", name: "IT service", names: { de: "IT-Service" }, addresses: ["it@example.test"], members: ["alice@example.test"] },
        {
          id: "web",
          name: "Web development",
          names: { de: "Webentwicklung" },
          addresses: ["web@example.test"],
          members: ["wendy@example.test"],
        },
      ],
      agents: [
        { address: "alice@example.test", name: "Alice Admin" },
        { address: "wendy@example.test", name: "Wendy Web" },
      ],
      languages: { "erin@customer.test": "de" },
    },
    "sqlite",
    { "it@example.test": SUPPORT, "web@example.test": SUPPORT },
  );
  try {
    process.stdout.write(
      `IMAP 127.0.0.1:${world.dovecot.imapPort}, SMTP relay 127.0.0.1:${world.relay.port}\nconfig: ${world.configPath}\n`,
    );
    const support = world.user(SUPPORT);
    const carla = world.user("carla@customer.test", "Carla Customer");
    const dan = world.user("dan@customer.test", "Dan Developer");
    const erin = world.user("erin@customer.test", "Erin Example");

    await run(world, ["migrate"]);

    say(
      "three customers write four mails: Carla to support@, Dan to the web department's address, and Erin twice in German: with field lines, and an HTML-only request",
    );
    await carla.send({
      to: SUPPORT,
      subject: "VPN drops every 10 minutes",
      text: "Since Monday the VPN disconnects every 10 minutes.\nWindows 11, client 5.2.\n\nCarla",
    });
    await dan.send({
      to: "web@example.test",
      cc: "erin@customer.test",
      subject: "AW: Staging site shows a 502",
      text: "Hi,\nstaging.example.test answers 502 since the deploy.\nLog attached.\nDan",
      attachments: [{ filename: "nginx-error.log", content: "2026/11/26 09:12:01 [error] upstream timed out\n" }],
    });
    await erin.send({
      to: SUPPORT,
      subject: "Drucker im 2. OG",
      text: "Priorität: hoch\nFällig: morgen\n\nDer Drucker zeigt einen Papierstau.",
    });
    await erin.send({
      to: SUPPORT,
      subject: "Angebot für Beratung",
      html: "<p>Guten Tag,</p><p>wir hätten gern ein <b>Angebot</b> für zwei Beratungstage im Dezember.</p><p>Erin</p>",
    });
    await waitFor("the four mails in the support inbox", async () => (await support.count("INBOX")) === 4);

    await run(world, ["poll-once"]);

    say("the customers' inboxes: each has an acknowledgement with the ticket reference");
    for (const person of [carla, dan, erin]) {
      const ack = await person.waitForMail((m) => m.from === SUPPORT);
      process.stdout.write(`${person.address.padEnd(22)} ← "${ack.subject}"\n`);
    }

    say("the agents' inboxes: each department's members were told about its new tickets");
    const alice = world.user("alice@example.test", "Alice Admin");
    const wendy = world.user("wendy@example.test", "Wendy Web");
    for (const agent of [alice, wendy])
      for (const m of await agent.inbox()) process.stdout.write(`${agent.address.padEnd(22)} ← "${m.subject}"\n`);

    say("Alice takes Carla's ticket by replying #take; Carla learns who handles it");
    const notice = (await alice.inbox()).find((m) => m.subject.includes("VPN drops"))!;
    await alice.reply(notice, { text: "#take" });
    await waitFor("Alice's reply in the support inbox", async () => (await support.count("INBOX")) === 1);
    await run(world, ["poll-once"]);
    const taken = await carla.waitForMail((m) => m.subject.includes("VPN drops") && m.text.includes("Alice"));
    process.stdout.write(`carla@customer.test    ← "${taken.subject}"\n`);

    say("Carla replies to her acknowledgement from her mail client");
    const ack = await carla.waitForMail((m) => m.from === SUPPORT && m.subject.includes("received"));
    await carla.reply(ack, { text: "It also happens on the office wifi, not only at home." });
    await waitFor("Carla's reply in the support inbox", async () => (await support.count("INBOX")) === 1);
    await run(world, ["poll-once"]);

    say("the tickets, in work order (urgency, priority, due date, age)");
    await run(world, ["tickets", "list", "--queue"]);
    const ref = /\[#(T-\d+)-[0-9a-z]{5}\]/.exec(ack.subject)![1];
    await run(world, ["tickets", "show", ref]);

    say("the support mailbox afterwards");
    process.stdout.write(
      `INBOX: ${await support.count("INBOX")}   Processed: ${await support.count("Processed")}   Failed: ${await support.count("Failed")}\n`,
    );
    say("done: the demo's servers and files are removed again");
  } finally {
    await world.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
