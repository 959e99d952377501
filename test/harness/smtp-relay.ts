import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { createTransport } from "nodemailer";
import { SMTPServer, type SMTPServerSession } from "smtp-server";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";

export interface AcceptedMail {
  /** Envelope sender (MAIL FROM); "" for the null sender. */
  from: string;
  /** Envelope recipients (RCPT TO), as given by the client. */
  to: string[];
  /** The message exactly as received after DATA. */
  raw: Buffer;
  /** ms since epoch: when the relay had it in the recipients' mailboxes (sink: when it was received). */
  at: number;
}

export type AcceptedListener = (mail: AcceptedMail) => void;

export interface SmtpSink {
  port: number;
  host: "127.0.0.1";
  /** Filled before the client gets its 250, so it is complete once sendMail() resolves. */
  accepted: AcceptedMail[];
  /** Called for every accepted mail; returns a function that removes the listener. */
  onAccepted(listener: AcceptedListener): () => void;
  stop(): Promise<void>;
}

export type SmtpRelay = SmtpSink;

export interface SmtpRelayOptions {
  lmtpHost: string;
  lmtpPort: number;
  /**
   * Virtual aliases, as a mail server's alias table: mail to a key is delivered to the value's
   * mailbox (e.g. a department address into the shared support mailbox).
   */
  aliases?: Record<string, string>;
  /**
   * When set, the relay acts as the organisation's authenticating border server: it removes
   * Authentication-Results headers that claim to be its own (forgeries) and adds its verdict:
   * dmarc=pass only when the SMTP-authenticated user is the From address.
   */
  authservId?: string;
  /**
   * OAuth2 as a mail provider does it: `tokenOnly` users may authenticate with SASL XOAUTH2 only,
   * and their token must be active and name them (checked with `introspect`, RFC 7662).
   */
  oauth2?: { introspect(token: string): Promise<{ active: boolean; username?: string }>; tokenOnly: string[] };
  /**
   * The relay plays the border of a hosted mail system instead, writing that system's headers
   * (see stampBorder). Replaces `authservId`.
   */
  border?: Border;
}

/**
 * "exchange-online": every `X-MS-Exchange-Organization-*` header is removed (Exchange's header
 * firewall); a sender logged in with a From address of `internalDomains` gets
 * `X-MS-Exchange-Organization-AuthAs: Internal`; every other mail gets Microsoft's
 * Authentication-Results (no authserv-id) on top: dmarc=pass when the SMTP login is the From
 * address, fail otherwise. "gmail": `Authentication-Results: mx.google.com; …` on top, with
 * dkim=pass and dmarc=pass when the SMTP login is the From address.
 */
export interface Border {
  kind: "exchange-online" | "gmail";
  internalDomains: string[];
}

const HOST = "127.0.0.1";
const MAX_MESSAGE_BYTES = 100 * 1024 * 1024;
/** How long stop() lets clients finish before their connections are cut. */
const CLOSE_TIMEOUT_MS = 1_000;

type Deliver = (mail: Omit<AcceptedMail, "at">) => Promise<void>;

/**
 * smtp-server holds every new connection for a hard-coded 100 ms before its
 * greeting, to catch spam bots that talk too early. For a local test server
 * that is pure latency on every connection, which would dominate the delivery
 * times the benchmark measures, so connections to the servers in this set
 * greet at once. Should a future smtp-server change these internals, the
 * servers fall back to the stock behaviour (slower, still correct).
 */
const greetAtOnce = new WeakSet<SMTPServer>();
const stockInit = SMTPConnection.prototype.init;
if (typeof SMTPConnection.prototype._setListeners === "function" && typeof SMTPConnection.prototype.connectionReady === "function") {
  SMTPConnection.prototype.init = function init(this: SMTPConnection): void {
    if (!greetAtOnce.has(this._server)) {
      stockInit.call(this);
      return;
    }
    this._setListeners(() => this.connectionReady());
  };
}

/**
 * An SMTP server for the code under test to send through (no TLS, any or no
 * AUTH) that hands every message to Dovecot over LMTP, so recipients find it
 * in their IMAP INBOX. The client gets its 250 only after LMTP delivery
 * succeeded; a failed delivery is answered with 451.
 */
export async function startSmtpRelay(opts: SmtpRelayOptions): Promise<SmtpRelay> {
  const lmtp = createTransport({
    host: opts.lmtpHost,
    port: opts.lmtpPort,
    lmtp: true,
    ignoreTLS: true,
    logger: false,
  });
  const aliases = new Map(Object.entries(opts.aliases ?? {}).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]));
  const deliver: Deliver = async ({ from, to, raw }) => {
    const mailboxes = [...new Set(to.map((r) => aliases.get(r.toLowerCase()) ?? r))];
    const info = await lmtp.sendMail({ envelope: { from, to: mailboxes }, raw });
    // LMTP answers per recipient; nodemailer reports partial rejection as success.
    const rejected = [...(info.rejected ?? []), ...(info.pending ?? [])];
    if (rejected.length > 0) {
      const reasons = (info.rejectedErrors as Error[] | undefined)?.map((e) => e.message).join("; ");
      const delivered = info.accepted?.length ? ` (delivered to ${info.accepted.join(", ")})` : "";
      throw new Error(`LMTP rejected ${rejected.join(", ")}${delivered}${reasons ? `: ${reasons}` : ""}`);
    }
  };
  const stamp = opts.border
    ? (raw: Buffer, user: string | null) => stampBorder(raw, opts.border!, user)
    : opts.authservId
      ? (raw: Buffer, user: string | null) => stampAuthenticationResults(raw, opts.authservId!, user)
      : null;
  const server = await listen(deliver, stamp, opts.oauth2);
  return { ...server, stop: () => server.stop().finally(() => lmtp.close()) };
}

/** The same SMTP server, but it only records mails; for measuring the sender without Dovecot in the loop. */
export function startSmtpSink(): Promise<SmtpSink> {
  return listen(undefined, null);
}

/** The relay's Authentication-Results stamp, replacing any forged copy of it. */
export function stampAuthenticationResults(raw: Buffer, authservId: string, authUser: string | null): Buffer {
  const text = raw.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  const head = end >= 0 ? text.slice(0, end) : text;
  const body = end >= 0 ? text.slice(end) : "";
  const lines = head.split(/\r?\n(?![ \t])/);
  const ours = new RegExp(`^authentication-results:\\s*${authservId.replace(/[.]/g, "\\.")}\\s*;`, "i");
  const kept = lines.filter((l) => !ours.test(l));
  const from = kept.find((l) => /^from:/i.test(l)) ?? "";
  const fromAddress = (/<([^>]+)>/.exec(from)?.[1] ?? from.replace(/^from:\s*/i, "")).trim().toLowerCase();
  const domain = fromAddress.split("@")[1] ?? "unknown";
  const pass = authUser !== null && authUser.toLowerCase() === fromAddress;
  const stamp = `Authentication-Results: ${authservId}; auth=${authUser ? "pass" : "none"}${authUser ? ` smtp.auth=${authUser}` : ""}; dmarc=${pass ? "pass" : "fail"} header.from=${domain}`;
  return Buffer.from([stamp, ...kept].join("\r\n") + body, "latin1");
}

type AuthCheck = NonNullable<SmtpRelayOptions["oauth2"]>;

/** smtp-server's onAuth: anything goes, except for token-only users (XOAUTH2 with an active token naming them). */
function authenticate(oauth2: AuthCheck | undefined) {
  const tokenOnly = new Set((oauth2?.tokenOnly ?? []).map((u) => u.toLowerCase()));
  return (
    auth: { method: string; username?: string; accessToken?: string },
    _session: unknown,
    callback: (err: Error | null, res?: { user: string }) => void,
  ): void => {
    const user = (auth.username ?? "anonymous").toLowerCase();
    if (!tokenOnly.has(user)) return callback(null, { user: auth.username ?? "anonymous" });
    if (auth.method !== "XOAUTH2" || !auth.accessToken) return callback(smtpError(535, "5.7.8 this account accepts OAuth2 (XOAUTH2) only"));
    oauth2!.introspect(auth.accessToken).then(
      (r) =>
        r.active && r.username?.toLowerCase() === user
          ? callback(null, { user: auth.username! })
          : callback(smtpError(535, "5.7.8 token not accepted")),
      (err: Error) => callback(smtpError(454, `4.7.0 token check failed: ${err.message}`)),
    );
  };
}

type Stamp = (raw: Buffer, authUser: string | null) => Buffer;

function splitHead(raw: Buffer): { lines: string[]; body: string } {
  const text = raw.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  return { lines: (end >= 0 ? text.slice(0, end) : text).split(/\r?\n(?![ \t])/), body: end >= 0 ? text.slice(end) : "" };
}

export function stampBorder(raw: Buffer, border: Border, authUser: string | null): Buffer {
  const { lines, body } = splitHead(raw);
  const kept = border.kind === "exchange-online" ? lines.filter((l) => !/^x-ms-exchange-organization-/i.test(l)) : lines;
  const from = kept.find((l) => /^from:/i.test(l)) ?? "";
  const fromAddress = (/<([^>]+)>/.exec(from)?.[1] ?? from.replace(/^from:\s*/i, "")).trim().toLowerCase();
  const domain = fromAddress.split("@")[1] ?? "unknown";
  const pass = authUser !== null && authUser.toLowerCase() === fromAddress;
  let stamp: string;
  if (border.kind === "gmail") {
    stamp = pass
      ? `Authentication-Results: mx.google.com; dkim=pass header.i=@${domain} header.s=s1 header.b=AbCdEf; spf=pass (google.com: domain of ${fromAddress} designates 127.0.0.1 as permitted sender) smtp.mailfrom=${fromAddress}; dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=${domain}`
      : `Authentication-Results: mx.google.com; spf=softfail (google.com: domain of transitioning ${fromAddress} does not designate 127.0.0.1 as permitted sender) smtp.mailfrom=${fromAddress}; dmarc=fail (p=REJECT sp=REJECT dis=QUARANTINE) header.from=${domain}`;
  } else if (pass && border.internalDomains.includes(domain)) {
    stamp = "X-MS-Exchange-Organization-AuthAs: Internal";
  } else {
    stamp = pass
      ? `Authentication-Results: spf=pass (sender IP is 127.0.0.1) smtp.mailfrom=${domain}; dkim=pass (signature was verified) header.d=${domain};dmarc=pass action=none header.from=${domain};compauth=pass reason=100`
      : `Authentication-Results: spf=fail (sender IP is 127.0.0.1) smtp.mailfrom=${domain}; dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine header.from=${domain};compauth=fail reason=000`;
  }
  return Buffer.from([stamp, ...kept].join("\r\n") + body, "latin1");
}

async function listen(deliver: Deliver | undefined, stamp?: Stamp | null, oauth2?: AuthCheck): Promise<SmtpSink> {
  const accepted: AcceptedMail[] = [];
  const listeners = new Set<AcceptedListener>();

  const onData = async (
    stream: Readable & { sizeExceeded?: boolean },
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): Promise<void> => {
    let mail: AcceptedMail;
    try {
      const received = await readAll(stream);
      const user = (session.user as string | undefined) ?? null;
      const raw = stamp ? stamp(received, user === "anonymous" ? null : user) : received;
      if (stream.sizeExceeded) {
        callback(smtpError(552, `message exceeds ${MAX_MESSAGE_BYTES} bytes`));
        return;
      }
      const { mailFrom, rcptTo } = session.envelope;
      const envelope = { from: mailFrom ? mailFrom.address : "", to: rcptTo.map((r) => r.address), raw };
      if (deliver) await deliver(envelope);
      mail = { ...envelope, at: Date.now() };
    } catch (err) {
      callback(smtpError(451, `delivery failed: ${(err as Error).message}`));
      return;
    }
    accepted.push(mail);
    callback(null, deliver ? "Delivered" : "Accepted");
    // After the reply on purpose: a throwing listener surfaces as an unhandled
    // rejection (a failing test) instead of an SMTP error the sender might retry.
    for (const listener of listeners) listener(mail);
  };

  const server = new SMTPServer({
    logger: false,
    banner: deliver ? "Ticketpost test relay" : "Ticketpost test sink",
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    allowInsecureAuth: true,
    size: MAX_MESSAGE_BYTES,
    closeTimeout: CLOSE_TIMEOUT_MS,
    disableReverseLookup: true,
    ...(oauth2 ? { authMethods: ["PLAIN", "LOGIN", "XOAUTH2"] } : {}),
    onAuth: authenticate(oauth2),
    onData(stream, session, callback) {
      void onData(stream, session, callback);
    },
  });

  greetAtOnce.add(server);

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once("error", onError);
    server.listen(0, HOST, () => {
      server.off("error", onError);
      resolve();
    });
  });
  // Errors after startup (a client resetting its socket) are not the relay's failure.
  server.on("error", () => {});

  let stopping: Promise<void> | undefined;
  return {
    port: (server.server.address() as AddressInfo).port,
    host: HOST,
    accepted,
    onAccepted(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopping;
    },
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function smtpError(responseCode: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}
