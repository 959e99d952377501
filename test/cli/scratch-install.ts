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
    writeFileSync(this.configPath, JSON.stringify({
      supportAddress: "support@example.test",
      messageIdDomain: "tickets.example.test",
      dataDir: this.dataDir,
      imap: { host: "127.0.0.1", port: 1, user: "support@example.test", password: "unused" },
      smtp: { host: "127.0.0.1", port: 1 },
      defaultDepartment: "it",
      departments: [{ id: "it", name: "IT service", addresses: ["it@example.test"], members: ["alice@example.test"] }],
      agents: [{ address: "alice@example.test", name: "Alice Admin" }],
      ...extra,
    }));
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
