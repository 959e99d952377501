import { ImapFlow } from "imapflow";
import { simpleParser, type AddressObject, type Attachment as ParsedAttachment, type HeaderValue, type ParsedMail } from "mailparser";
import { createTransport, type Address, type Attachment, type Transporter } from "nodemailer";

export interface MailUserOptions {
  address: string;
  /** Display name used in From when this user sends. */
  name?: string;
  imap: { host: string; port: number; password: string };
  smtp: { host: string; port: number };
  /** Log in to the relay as this user (SMTP AUTH), as a mail client does; the default. */
  authenticate?: boolean;
}

/** Bare addresses, "Name <address>" strings or nodemailer address objects. */
export type Recipients = string | Address | Array<string | Address>;

export interface OutgoingMail {
  to: Recipients;
  cc?: Recipients;
  bcc?: Recipients;
  subject: string;
  text?: string;
  html?: string;
  attachments?: Attachment[];
  headers?: Record<string, string | string[]>;
  inReplyTo?: string;
  references?: string | string[];
  /** Angle brackets included, e.g. "<abc@example.test>"; nodemailer generates one when omitted. */
  messageId?: string;
  replyTo?: Recipients;
  date?: Date;
}

export interface ReplyBody {
  text: string;
  /** Defaults to "Re: ". */
  subjectPrefix?: string;
  /** Reuse the original subject as is, like a client whose user edited the subject back. */
  keepSubject?: boolean;
  extraHeaders?: Record<string, string | string[]>;
  /** Files attached to the reply, as a mail client attaches them. */
  attachments?: Attachment[];
}

export interface ReceivedMail {
  uid: number;
  /** Path of the folder the mail was read from. */
  folder: string;
  subject: string;
  /** Bare address of the (first) From mailbox, "" when missing. */
  from: string;
  /** Bare addresses. */
  to: string[];
  cc: string[];
  replyTo: string[];
  date: Date | undefined;
  text: string;
  html: string | undefined;
  /** Message-IDs here and below keep their angle brackets, as in the headers. */
  messageId: string | undefined;
  inReplyTo: string | undefined;
  references: string[];
  /** Lowercased header names, values as parsed by mailparser. */
  headers: Map<string, HeaderValue>;
  attachments: ParsedAttachment[];
  raw: Buffer;
  /** Everything mailparser found, for what the fields above leave out. */
  parsed: ParsedMail;
}

export interface WaitForMailOptions {
  folder?: string;
  /** Defaults to 20000. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 150;

/**
 * A person in an end-to-end test: owns a Dovecot mailbox, reads it over IMAP
 * and sends through the SMTP relay, the way a real mail client would.
 */
export class MailUser {
  readonly address: string;
  readonly name: string | undefined;
  private readonly imap: MailUserOptions["imap"];
  private readonly transport: Transporter;
  /**
   * Parsed mails by folder, UIDVALIDITY and UID. A message's content never
   * changes under a UID, so polling only downloads and parses what is new.
   */
  private readonly parsedCache = new Map<string, ReceivedMail>();

  constructor(opts: MailUserOptions) {
    this.address = opts.address;
    this.name = opts.name;
    this.imap = opts.imap;
    this.transport = createTransport({
      host: opts.smtp.host,
      port: opts.smtp.port,
      secure: false,
      ignoreTLS: true,
      logger: false,
      auth: opts.authenticate === false ? undefined : { user: opts.address, pass: opts.imap.password },
    });
  }

  /** Convenience for the harness servers: `MailUser.create({ dovecot, relay, address })`. */
  static create(p: {
    dovecot: { host: string; imapPort: number; password: string };
    relay: { host: string; port: number };
    address: string;
    name?: string;
    authenticate?: boolean;
  }): MailUser {
    return new MailUser({
      address: p.address,
      name: p.name,
      authenticate: p.authenticate,
      imap: { host: p.dovecot.host, port: p.dovecot.imapPort, password: p.dovecot.password },
      smtp: { host: p.relay.host, port: p.relay.port },
    });
  }

  /** Sends through the relay and resolves with the Message-ID (angle brackets included). */
  async send(mail: OutgoingMail): Promise<string> {
    const from: Address | string = this.name ? { name: this.name, address: this.address } : this.address;
    const info = await this.transport.sendMail({ ...mail, from });
    return info.messageId;
  }

  async inbox(folder = "INBOX"): Promise<ReceivedMail[]> {
    const fetched = await this.withClient(async (client) => {
      const mailbox = await client.mailboxOpen(folder, { readOnly: true });
      if (mailbox.exists === 0) return { path: mailbox.path, keyPrefix: "", uids: [], sources: [] };
      const keyPrefix = `${mailbox.path}\0${mailbox.uidValidity}\0`;
      const uids = (await client.fetchAll("1:*", { uid: true })).map((m) => m.uid).sort((a, b) => a - b);
      const missing = uids.filter((uid) => !this.parsedCache.has(keyPrefix + uid));
      const sources =
        missing.length === 0
          ? []
          : (await client.fetchAll(missing.join(","), { uid: true, source: true }, { uid: true })).map((m) => ({
              uid: m.uid,
              source: m.source ?? Buffer.alloc(0),
            }));
      return { path: mailbox.path, keyPrefix, uids, sources };
    });

    for (const { uid, source } of fetched.sources) {
      this.parsedCache.set(fetched.keyPrefix + uid, await toReceivedMail(uid, fetched.path, source));
    }
    // Driven by the current UID list, so expunged mails drop out although they stay cached.
    return fetched.uids.flatMap((uid) => this.parsedCache.get(fetched.keyPrefix + uid) ?? []);
  }

  /**
   * Polls the folder until a mail matches. Errors while polling (e.g. the folder
   * does not exist yet) are retried and reported if the wait times out.
   */
  async waitForMail(predicate: (mail: ReceivedMail) => boolean, opts: WaitForMailOptions = {}): Promise<ReceivedMail> {
    const folder = opts.folder ?? "INBOX";
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let seen: ReceivedMail[] = [];
    let lastError: unknown;
    for (;;) {
      try {
        seen = await this.inbox(folder);
        lastError = undefined;
      } catch (err) {
        lastError = err;
      }
      // Outside the try: a throwing predicate is a bug in the test, not something to wait out.
      const match = lastError === undefined ? seen.find(predicate) : undefined;
      if (match) return match;
      if (Date.now() + POLL_INTERVAL_MS > deadline) break;
      await sleep(POLL_INTERVAL_MS);
    }
    const summary =
      lastError !== undefined
        ? `last attempt failed: ${(lastError as Error).message}`
        : seen.length === 0
          ? "the folder is empty"
          : `it holds ${seen.length} non-matching mail(s):\n` +
            seen.map((m) => `  [uid ${m.uid}] from ${m.from || "?"}: ${JSON.stringify(m.subject)}`).join("\n");
    throw new Error(`${this.address}: no matching mail in ${folder} after ${timeoutMs} ms; ${summary}`);
  }

  /** Replies like a typical mail client: threading headers, "Re: " subject, quoted original below. */
  async reply(original: ReceivedMail, body: ReplyBody): Promise<string> {
    const prefix = body.subjectPrefix ?? "Re: ";
    const alreadyPrefixed = original.subject.toLowerCase().startsWith(prefix.toLowerCase());
    const subject = body.keepSubject || alreadyPrefixed ? original.subject : prefix + original.subject;
    const recipients = addressesOf(original.parsed.replyTo) ?? addressesOf(original.parsed.from) ?? [];
    if (recipients.length === 0) throw new Error(`cannot reply to uid ${original.uid}: it has neither Reply-To nor From`);

    const references = [...original.references];
    if (original.messageId && !references.includes(original.messageId)) references.push(original.messageId);

    return this.send({
      to: recipients.map(formatAddress),
      subject,
      text: `${body.text}\n\n${attribution(original)}\n${quote(original.text)}\n`,
      inReplyTo: original.messageId,
      references: references.length > 0 ? references : undefined,
      headers: body.extraHeaders,
      attachments: body.attachments,
    });
  }

  /** Number of messages in the folder (IMAP STATUS); throws if the folder does not exist. */
  async count(folder = "INBOX"): Promise<number> {
    const status = await this.withClient((client) => client.status(folder, { messages: true }));
    if (status === false) throw new Error(`${this.address}: no folder ${JSON.stringify(folder)}`);
    return status.messages ?? 0;
  }

  async folders(): Promise<string[]> {
    return this.withClient(async (client) => (await client.list()).map((f) => f.path));
  }

  /** A connection per call keeps users independent and leaves no IDLE sessions behind between polls. */
  private async withClient<T>(fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    const client = new ImapFlow({
      host: this.imap.host,
      port: this.imap.port,
      secure: false,
      doSTARTTLS: false,
      auth: { user: this.address, pass: this.imap.password },
      logger: false,
      disableAutoIdle: true,
    });
    // Socket errors are also emitted as events; unhandled they would crash the test process.
    client.on("error", () => {});
    try {
      await client.connect();
      return await fn(client);
    } catch (err) {
      throw withServerText(err);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }
}

/** imapflow's messages are generic ("Command failed"); the server's reply says what went wrong. */
function withServerText(err: unknown): unknown {
  const e = err as Error & { responseText?: unknown };
  if (e instanceof Error && typeof e.responseText === "string" && !e.message.includes(e.responseText)) {
    e.message = `${e.message}: ${e.responseText}`;
  }
  return err;
}

async function toReceivedMail(uid: number, folder: string, raw: Buffer): Promise<ReceivedMail> {
  const parsed = await simpleParser(raw);
  const html = parsed.html;
  return {
    uid,
    folder,
    subject: parsed.subject ?? "",
    from: bareAddresses(parsed.from)[0] ?? "",
    to: bareAddresses(parsed.to),
    cc: bareAddresses(parsed.cc),
    replyTo: bareAddresses(parsed.replyTo),
    date: parsed.date,
    text: parsed.text ?? "",
    html: typeof html === "string" ? html : undefined,
    messageId: parsed.messageId,
    inReplyTo: parsed.inReplyTo,
    references: parsed.references === undefined ? [] : [parsed.references].flat(),
    headers: parsed.headers,
    attachments: parsed.attachments,
    raw,
    parsed,
  };
}

interface Mailbox {
  name: string;
  address: string;
}

function addressesOf(header: AddressObject | AddressObject[] | undefined): Mailbox[] | undefined {
  if (header === undefined) return undefined;
  const list = [header]
    .flat()
    .flatMap((h) => h.value)
    .flatMap((a) => (a.group ? a.group : [a]))
    .flatMap((a): Mailbox[] => (a.address ? [{ name: a.name, address: a.address }] : []));
  return list.length > 0 ? list : undefined;
}

function bareAddresses(header: AddressObject | AddressObject[] | undefined): string[] {
  return (addressesOf(header) ?? []).map((a) => a.address);
}

function formatAddress(a: Mailbox): Address | string {
  return a.name ? a : a.address;
}

function attribution(original: ReceivedMail): string {
  const sender = addressesOf(original.parsed.from)?.[0];
  const who = sender ? (sender.name ? `${sender.name} <${sender.address}>` : sender.address) : "someone";
  const when = original.date ? original.date.toUTCString() : "an unknown date";
  return `On ${when}, ${who} wrote:`;
}

/** Quotes like Thunderbird: "> " before text, ">" alone before blank or already quoted lines. */
function quote(text: string): string {
  return text
    .replace(/\r\n/g, "\n")
    .replace(/\n+$/, "")
    .split("\n")
    .map((line) => (line === "" || line.startsWith(">") ? `>${line}` : `> ${line}`))
    .join("\n");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
