import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli, type CliResult } from "../helpers/mail-world.js";

/**
 * A Ticketpost installation in a temporary folder, without mail servers: a config file, a SQLite
 * database and the real `ticketpost` process. For the commands that need only the database
 * (import, ingest --no-send, tickets, failed, addresses); SMTP points at a closed port.
 */
export class ScratchInstall {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), "tp-cli-"));
  readonly configPath = path.join(this.dir, "ticketpost.json");
  readonly dataDir = path.join(this.dir, "data");

  constructor(extra: Record<string, unknown> = {}) {
    writeFileSync(
      this.configPath,
      JSON.stringify({
        supportAddress: "support@example.test",
        messageIdDomain: "tickets.example.test",
        dataDir: this.dataDir,
        imap: { host: "127.0.0.1", port: 1, user: "support@example.test", password: "unused" },
        smtp: { host: "127.0.0.1", port: 1 },
        defaultDepartment: "it",
        departments: [{ id: "it", name: "IT service", addresses: ["it@example.test"], members: ["alice@example.test"] }],
        agents: [{ address: "alice@example.test", name: "Alice Admin" }],
        ...extra,
      }),
    );
  }

  /** `ticketpost ARGS --config …`, with no TICKETPOST_* from the developer's shell. */
  cli(args: string[], input?: string | Buffer): Promise<CliResult> {
    return runCli([...args, "--config", this.configPath], { env: { TICKETPOST_CONFIG: "", TICKETPOST_DATABASE_URL: "" }, input });
  }

  async json<T = unknown>(args: string[]): Promise<T> {
    const r = await this.cli([...args, "--json"]);
    if (r.code !== 0) throw new Error(`ticketpost ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  file(name: string, content: string | Buffer): string {
    const file = path.join(this.dir, name);
    writeFileSync(file, content);
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A small mail as a client writes it, CRLF line ends. */
export function customerMail(m: { from: string; subject: string; id: string; body: string; headers?: string[] }): string {
  return [
    `From: ${m.from}`,
    "To: ACME Support <support@example.test>",
    `Subject: ${m.subject}`,
    `Message-ID: <${m.id}>`,
    "Date: Tue, 01 Dec 2026 09:30:00 +0100",
    ...(m.headers ?? []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    m.body,
    "",
  ].join("\r\n");
}

/** What a report names of the mail it is about: our Message-ID and the address it went to. */
export interface Reported {
  messageId: string;
  recipient: string;
  subject: string;
}

function returnedHeaders(r: Reported): string[] {
  return [
    `From: ACME Support <support@example.test>`,
    `To: ${r.recipient}`,
    `Subject: ${r.subject}`,
    `Message-ID: <${r.messageId}>`,
    "Date: Tue, 01 Dec 2026 09:31:00 +0100",
  ];
}

/**
 * A delivery status notification (RFC 3464) in a multipart/report (RFC 6522), as an MTA sends
 * it to the envelope sender; `action` "failed" is a bounce, "delivered" a success notice.
 */
export function deliveryReport(r: Reported, opts: { id: string; action: "failed" | "delivered"; mta: string }): string {
  const failed = opts.action === "failed";
  return [
    `From: Mail Delivery Subsystem <MAILER-DAEMON@${opts.mta}>`,
    "To: support@example.test",
    `Subject: ${failed ? "Delivery Status Notification (Failure)" : "Successful Mail Delivery Report"}`,
    `Message-ID: <${opts.id}>`,
    "Date: Tue, 01 Dec 2026 09:32:00 +0100",
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="=_report_7"',
    "",
    "--=_report_7",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    failed
      ? `Delivery to ${r.recipient} failed for good: the mailbox is unknown at ${opts.mta}.`
      : `Your message was delivered to ${r.recipient}.`,
    "",
    "--=_report_7",
    "Content-Type: message/delivery-status",
    "",
    `Reporting-MTA: dns; ${opts.mta}`,
    "",
    `Original-Recipient: rfc822; ${r.recipient}`,
    `Final-Recipient: rfc822; ${r.recipient}`,
    `Action: ${opts.action}`,
    `Status: ${failed ? "5.1.1" : "2.0.0"}`,
    ...(failed ? [`Diagnostic-Code: smtp; 550 5.1.1 <${r.recipient}>: mailbox unknown`] : []),
    "",
    "--=_report_7",
    "Content-Type: text/rfc822-headers",
    "",
    ...returnedHeaders(r),
    "",
    "--=_report_7--",
    "",
  ].join("\r\n");
}

/** A bounce in prose only, as MTAs without DSN support write it, with the returned mail below. */
export function plainBounce(r: Reported, opts: { id: string; mta: string }): string {
  return [
    `From: MAILER-DAEMON@${opts.mta} (Mail Delivery System)`,
    "To: support@example.test",
    "Subject: Undelivered Mail Returned to Sender",
    `Message-ID: <${opts.id}>`,
    "Date: Tue, 01 Dec 2026 09:33:00 +0100",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    `Mail system of ${opts.mta} reporting.`,
    "",
    "Your message could not be delivered to the recipient below; this is a",
    "permanent failure and delivery will not be tried again. Your mail follows.",
    "",
    `<${r.recipient}>: host ${opts.mta} said: 550 5.1.1 <${r.recipient}>:`,
    "    Recipient address rejected: User unknown in local recipient table",
    "",
    "------ returned message follows ------",
    "",
    ...returnedHeaders(r),
    "",
    "We received your request.",
    "",
  ].join("\r\n");
}
