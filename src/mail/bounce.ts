import { simpleParser, type Attachment, type ParsedMail } from "mailparser";
import addressparser from "nodemailer/lib/addressparser";
import type { InboundMessage } from "./types.js";

/*
 * Bounce detection: is this mail a report about a mail we sent (a delivery failure, a delay, a
 * success notice, an abuse complaint), and which recipients, statuses and original Message-ID
 * does it name? Pure: bytes and the parsed message in, a report or null out.
 *
 * Three sources, most trustworthy first:
 *  - the machine-readable parts of a multipart/report: message/feedback-report (ARF, RFC 5965) and
 *    message/delivery-status (DSN, RFC 3464; message/global-delivery-status, RFC 6533);
 *  - the JSON notifications Amazon SES sends instead of a bounce;
 *  - the human-readable text every MTA writes (qmail, Exim, Postfix without DSN, Exchange, Gmail,
 *    Yahoo, Sendmail, ...): only when the sender or the subject says "mail system" and the text
 *    says "failure", so that an ordinary mail quoting an SMTP error is not taken for a bounce.
 *
 * mailparser does the MIME work. The DSN and ARF fields are RFC 822-style header fields in a part
 * body, which mailparser hands us as text; splitting them is the only parsing done here.
 */

export type BounceKind = "failure" | "delayed" | "delivered" | "abuse";
export type BounceFormat = "dsn" | "arf" | "heuristic";

export interface BounceRecipient {
  address: string;
  /** Enhanced status code (RFC 3463) as the report gives it, e.g. "5.1.1"; null when it gives none. */
  status: string | null;
  /** SMTP reply code, e.g. "550"; null when the report gives none. */
  replyCode: string | null;
  /** Short human text from the report: the diagnostic, or the line that explains the failure. */
  reason: string;
  /**
   * Did delivery of this message fail for good? From the status class (5.x.x / 4.x.x), else the
   * reply code class, else the wording ("permanent error", "will retry"); null when nothing tells.
   */
  permanent: boolean | null;
  /**
   * Is the address itself unusable (no such mailbox or domain, moved, accepts no mail), so that
   * writing to it again is pointless? Not the same as `permanent`: a 5.7.1 spam rejection fails
   * this message for good but says nothing about the address. (sisimai calls this a hard bounce.)
   */
  hardBounce: boolean;
}

export interface BounceReport {
  kind: BounceKind;
  format: BounceFormat;
  recipients: BounceRecipient[];
  /** Message-ID (bare, no <>) of the mail that bounced, from the returned message or its headers. */
  originalMessageId: string | null;
  /** Why it was judged a bounce, for the trail. */
  reasons: string[];
}

/* ------------------------------------------------------------------------------------------------
 * The MIME parts a report is made of
 * --------------------------------------------------------------------------------------------- */

interface ReportParts {
  /** Top-level content type and its report-type parameter, lower-case. */
  contentType: string;
  reportType: string | null;
  deliveryStatus: string[];
  feedbackReport: string[];
  /** The returned message or its headers (message/rfc822, text/rfc822-headers, ...). */
  returned: Buffer[];
}

const RETURNED_TYPES = new Set([
  "message/rfc822",
  "message/global",
  "text/rfc822-headers",
  "message/rfc822-headers",
  "message/global-headers",
  "message/partial",
]);

async function readParts(raw: Buffer): Promise<ReportParts> {
  let parsed: ParsedMail;
  try {
    // keepDeliveryStatus: otherwise mailparser folds message/delivery-status into the text body.
    parsed = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  } catch {
    return { contentType: "", reportType: null, deliveryStatus: [], feedbackReport: [], returned: [] };
  }
  const ct = parsed.headers.get("content-type") as { value?: string; params?: Record<string, string> } | undefined;
  const parts: ReportParts = {
    contentType: (ct?.value ?? "").toLowerCase(),
    reportType: ct?.params?.["report-type"]?.toLowerCase() ?? null,
    deliveryStatus: [],
    feedbackReport: [],
    returned: [],
  };
  for (const a of parsed.attachments as Attachment[]) {
    const type = (a.contentType ?? "").toLowerCase();
    if (type === "message/delivery-status" || type === "message/global-delivery-status") parts.deliveryStatus.push(a.content.toString("utf8"));
    else if (type === "message/feedback-report") parts.feedbackReport.push(a.content.toString("utf8"));
    else if (RETURNED_TYPES.has(type)) parts.returned.push(a.content);
  }
  return parts;
}

/* ------------------------------------------------------------------------------------------------
 * RFC 822-style field blocks (RFC 3464 §2.1, RFC 5965 §3.1)
 * --------------------------------------------------------------------------------------------- */

type Fields = Map<string, string[]>;

/** Blocks separated by blank lines; folded lines joined; field names lower-case. */
function fieldBlocks(text: string): Fields[] {
  const blocks: Fields[] = [];
  for (const chunk of text.replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/)) {
    const fields: Fields = new Map();
    for (const line of chunk.replace(/\n[ \t]+/g, " ").split("\n")) {
      const m = /^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$/.exec(line);
      if (!m) continue;
      const key = m[1].toLowerCase();
      fields.set(key, [...(fields.get(key) ?? []), m[2].trim()]);
    }
    if (fields.size > 0) blocks.push(fields);
  }
  return blocks;
}

const field = (f: Fields, name: string): string | null => f.get(name)?.[0] ?? null;

/** "rfc822; <a@b>" → "a@b" (RFC 3464 §2.3.2: address-type ";" generic-address). */
function typedAddress(value: string | null): string | null {
  if (!value) return null;
  const rest = value.includes(";") ? value.slice(value.indexOf(";") + 1) : value;
  const found = addressparser(rest.trim(), { flatten: true }).find((a) => a.address.includes("@"));
  const address = found?.address ?? rest.trim().replace(/^<|>$/g, "");
  return address === "" ? null : address.toLowerCase();
}

/** "smtp; 550 5.1.1 ..." → "550 5.1.1 ..." (RFC 3464 §2.3.6: diagnostic-type ";" *text). */
function typedText(value: string | null): { type: string | null; text: string } {
  if (!value) return { type: null, text: "" };
  const m = /^([A-Za-z][\w-]*)\s*;\s*([\s\S]*)$/.exec(value);
  return m ? { type: m[1].toLowerCase(), text: squash(m[2]) } : { type: null, text: squash(value) };
}

/* ------------------------------------------------------------------------------------------------
 * Codes, permanence and what the wording says
 * --------------------------------------------------------------------------------------------- */

const squash = (s: string) => s.replace(/\s+/g, " ").trim();
const clip = (s: string, max = 300) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

// Not part of an IP address, a version number or a longer number.
const STATUS_RE = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/;
const REPLY_STATUS_RE = /(?<![\d.])([245]\d\d)[ -]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d]|\.\d)/;
// A reply code where servers write one: at the start of a line or after "said:", "reason:", "#", ...
const REPLY_RE = /(?:^|[\s(:;#<\[]|said:?\s*|error:?\s*|reason:?\s*)([245][0-5]\d)(?=[ -]\S|\s*$|[.:,)\]])(?![\d.]*\.\d+\.\d+\.\d)/m;

/*
 * Servers often give a vague code first and the telling one later ("554 4.4.7 Message expired
 * <421 4.4.2 Connection timed out>"), and reporting MTAs often put a vaguer Status field over the
 * remote server's own reply: prefer the most specific code. x.0.0 says only "failed", 4.4.7 only
 * "gave up after retrying", x.y.0 names the subject (address, mailbox, ...) but not the problem.
 */
function vagueness(status: string): number {
  if (/^\d\.0\.0$/.test(status) || status === "4.4.7") return 2;
  return /^\d\.\d+\.0$/.test(status) ? 1 : 0;
}

function findStatus(text: string): string | null {
  const all = [...text.matchAll(new RegExp(STATUS_RE.source, "g"))].map((m) => `${m[1]}.${m[2]}.${m[3]}`);
  if (all.length === 0) return null;
  const best = Math.min(...all.map(vagueness));
  return all.find((s) => vagueness(s) === best) ?? null;
}

function findReplyCode(text: string): string | null {
  const pair = REPLY_STATUS_RE.exec(text);
  if (pair) return pair[1];
  const m = REPLY_RE.exec(text);
  return m ? m[1] : null;
}

/**
 * The Status field against the status in the Diagnostic-Code (the remote server's own words).
 * The more specific one wins; at equal rank the diagnostic, because the Status field is the
 * reporting MTA's translation of it; 5.3.x ("mail system") and x.5.x ("protocol") only say where it
 * failed. When the two disagree on the class, the reply code decides.
 */
function betterStatus(declared: string | null, diagnostic: string | null, replyCode: string | null = null): string | null {
  if (!declared || !diagnostic || declared === diagnostic) return declared ?? diagnostic;
  if (declared[0] !== diagnostic[0]) return replyCode?.[0] === diagnostic[0] ? diagnostic : declared;
  const [d, g] = [vagueness(declared), vagueness(diagnostic)];
  if (d !== g) return g < d ? diagnostic : declared;
  return diagnostic;
}

const PERMANENT_WORDS = /permanent(ly)?\b|fatal error|given up|giving up|gave up|not be delivered|could not be delivered|unknown user|user unknown|no such user|does not exist/i;
const TEMPORARY_WORDS = /temporar(y|ily)|will (be )?retr(y|ied)|still trying|will keep trying|delayed|deferred|has not yet been delivered|not yet been delivered|try again later/i;

function permanence(status: string | null, replyCode: string | null, wording: string): boolean | null {
  const cls = status?.[0] ?? replyCode?.[0];
  if (cls === "5") return true;
  if (cls === "4") return false;
  if (cls === "2") return null;
  if (TEMPORARY_WORDS.test(wording)) return false;
  if (PERMANENT_WORDS.test(wording)) return true;
  return null;
}

/** The SMTP command a failure answered, where the report says so (Postfix, Exim, qmail, Sendmail, ...). */
type Command = "connect" | "mail" | "rcpt" | "data";

const COMMANDS: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/in reply to (?:the )?(RCPT TO|MAIL FROM|end of DATA|DATA|HELO|EHLO|initial connection)/i, (m) => m[1]],
  [/after (RCPT TO|MAIL FROM|end of data|DATA|initial connection|HELO|EHLO)/i, (m) => m[1]],
  [/did not like our (final DATA|DATA|RCPT TO|MAIL FROM)/i, (m) => m[1]],
  [/^>>>\s*(RCPT TO|MAIL FROM|DATA|\.)[^\n]*\n<<<\s*[45]\d\d/im, (m) => m[1]],
  [/does not like (recipient|sender)|(failed after I sent the message)|most progress was (RCPT TO|MAIL FROM|DATA)/i, (m) => m[1] ?? m[2] ?? m[3]],
  [/\[(RCPT_TO|MAIL_FROM|DATA)\]/, (m) => m[1]],
];

function commandOf(text: string): Command | null {
  for (const [re, pick] of COMMANDS) {
    const m = re.exec(text);
    if (!m) continue;
    const c = pick(m).toLowerCase();
    if (/rcpt|recipient/.test(c)) return "rcpt";
    if (/mail|sender/.test(c)) return "mail";
    if (/data|\.|sent the message/.test(c)) return "data";
    return "connect";
  }
  return null;
}

/*
 * What kind of failure the words describe. Only "the address is bad" against "this message was
 * refused" matters here (hardBounce), and it needs the words: servers answer "550 5.1.1" to a full
 * mailbox and "550 5.7.1" to an unknown user. First match wins, so the order matters.
 */
type Wording = "address" | "host" | "moved" | "no-mail" | "refused" | "mailer" | null;

const WORDING: Array<[Exclude<Wording, null>, RegExp]> = [
  ["refused", /mailbox (is )?full|over ?quota|quota (exceeded|exceed)|exceeded (the )?(storage|quota)|mailbox size limit|insufficient (system )?storage|mail ?box has exceeded|storage (space|allocation)|disk (space|full)|is full\b/i],
  ["refused", /(account|mailbox|user|recipient)( is)? (has been )?(temporarily )?(disabled|suspended|inactive|deactivated|expired|locked|blocked)|not (an )?active (user|account)|no longer active|temporar(il)?y (locked|disabled|suspended)|\b(is|been|was) (disabled|inactive|suspended|deactivated|locked)\b/i],
  ["refused", /too many (recipients|messages|connections)|rate limit|recipient preferences/i],
  ["moved", /has moved|moved permanently|no longer (with|at|valid|in use|available)|address (has )?changed/i],
  ["no-mail", /does not accept (e-?)?mail|accepts no mail|null mx|not accepting network messages|couldn'?t find a mail exchanger|name service error|no mail exchanger|mx (record )?(lookup )?(failure|failed)/i],
  ["host", /host (or domain name )?(not found|unknown)|unknown host|domain (name )?(not found|does not exist|unknown|is not reachable|not reachable)|unknown domain|no such domain|name or service not known|nxdomain|unrouteable (mail )?domain|no (valid )?(mx|a) record|bad destination system|domain (is )?(invalid|not valid)|invalid domain|dns lookup fail|non-existent (domain|host)/i],
  [
    "address",
    /user(name)? (is )?unknown|unknown (user|recipient|mailbox|address|local part|account)|no such (user|mailbox|recipient|address|account|local user|person|list)|(user|mailbox|recipient|address|account|addressee)( name)? (does not|doesn'?t|did not) exist|(user|mailbox|recipient|address|account)( is)? not (found|known|exist|recogni[sz]ed|listed|valid)|(invalid|bad|unknown|non-?existent) (recipient|mailbox|user|address|e-?mail address|destination mailbox)|mailbox (unavailable|not available)|no mailbox here|not a valid (mailbox|user|recipient)|recipnotfound|name is not recogni[sz]ed|couldn'?t be found|could not be found|address (is )?not (valid|found)|unrouteable address|undeliverable address|no longer exists|is not a known user|user not local|unknown or illegal alias|not our customer|address lookup failed|doesn'?t have an? [\w.-]+ account|recipient address rejected: access denied|recipient address rejected\.?\s*$/im,
  ],
  ["mailer", /command output|procmail|pipe to |mailer error|local delivery failed/i],
  ["refused", /spam|blacklist|blocklist|block list|black list|policy|dmarc|\bspf\b|dkim|reverse dns|\bptr\b|\brbl\b|reputation|virus|malware|content (rejected|filter)|message (is )?too (big|large)|size limit|relay(ing)? (access )?denied|not permitted to relay|too many|timed? ?out|expired|connection refused|\brefused\b|unauthenticated|authentication required|\btls\b|try again later|not (yet )?been delivered/i],
];

function wordingOf(text: string): Wording {
  for (const [kind, re] of WORDING) if (re.test(text)) return kind;
  return null;
}

// Statuses about the address (RFC 3463 §3.2): bad mailbox, bad system, bad syntax, moved, null MX.
const BAD_ADDRESS_STATUS = /^5\.1\.(0|1|2|3|6|10)$/;

const SENDER_REFUSED = /sender (address )?(rejected|refused|denied|blocked)|rejected sender|sender verify failed/i;

function isHardBounce(status: string | null, permanent: boolean | null, reason: string, context: string, general: string, diagnosticType: string | null): boolean {
  if (permanent === false) return false;
  // Local delivery programs (procmail, a full disk) fail for reasons that say nothing about the address.
  if (diagnosticType === "x-unix") return false;
  // The sender's address was refused (MAIL FROM, 5.1.7/5.1.8): nothing is known about the recipient.
  const command = commandOf(squash(`${reason}\n${context}`)) ?? commandOf(general);
  if (command === "mail" || SENDER_REFUSED.test(reason) || (status !== null && /^5\.1\.[78]$/.test(status))) return false;
  const words = wordingOf(reason) ?? wordingOf(context);
  if (words === "address" || words === "host") {
    // The server took the address at RCPT TO and refused the message after DATA: "user unknown" is
    // then a content filter's cover story (common at Japanese carriers), unless the status says 5.1.x.
    return !(command === "data" && !(status ?? "").startsWith("5.1."));
  }
  if (words !== null) return words === "moved" || (words === "no-mail" && permanent === true);
  return status !== null && BAD_ADDRESS_STATUS.test(status);
}

/**
 * reason: the diagnostic or explaining line; context: the rest of the report about this recipient;
 * general: the whole report, whose "this is a permanent error" may be all there is to go on.
 */
function recipient(address: string, status: string | null, replyCode: string | null, reason: string, context: string, general: string, diagnosticType: string | null = null): BounceRecipient {
  const permanent = permanence(status, replyCode, `${reason}\n${context}\n${general}`);
  return { address, status, replyCode, reason: clip(squash(reason)), permanent, hardBounce: isHardBounce(status, permanent, reason, context, general, diagnosticType) };
}

/* ------------------------------------------------------------------------------------------------
 * ARF: abuse and complaint reports (RFC 5965), and the two common non-ARF complaint forms
 * --------------------------------------------------------------------------------------------- */

function fromFeedbackReport(parts: ReportParts, msg: InboundMessage, returnedTo: string[]): BounceReport | null {
  const isReport = parts.reportType === "feedback-report" || parts.feedbackReport.length > 0;
  if (!isReport) return null;
  // Some senders label the part text/plain: then the fields are in the text.
  const blocks = parts.feedbackReport.length > 0 ? parts.feedbackReport.flatMap(fieldBlocks) : fieldBlocks(msg.text);
  const fields = blocks.find((b) => b.has("feedback-type")) ?? new Map<string, string[]>();
  const feedbackType = field(fields, "feedback-type")?.toLowerCase() ?? "abuse";
  const named = [...(fields.get("original-rcpt-to") ?? []), ...(fields.get("removal-recipient") ?? [])]
    .map((v) => typedAddress(v))
    .filter((a): a is string => a !== null);
  const addresses = unique(named.length > 0 ? named : returnedTo);
  const reasons = [`multipart/report; report-type=${parts.reportType ?? "?"} with Feedback-Type: ${feedbackType}`];
  return {
    kind: "abuse",
    format: "arf",
    recipients: addresses.map((address) => abuseRecipient(address, feedbackType)),
    originalMessageId: null,
    reasons,
  };
}

function abuseRecipient(address: string, feedbackType: string): BounceRecipient {
  return { address, status: null, replyCode: null, reason: feedbackType, permanent: null, hardBounce: false };
}

/** Hotmail's JMRP complaints and Apple Mail's one-click unsubscribe are not ARF but mean the same. */
function fromComplaint(msg: InboundMessage, returnedTo: string[]): BounceReport | null {
  const hotmailRecipient = /X-HmXmrOriginalRecipient:\s*<?([^\s<>]+@[^\s<>]+)>?/i.exec(msg.text);
  const fromHotmail = msg.from !== null && /@(hotmail|outlook|live|msn)\.com$/.test(msg.from.address);
  if (fromHotmail && /complaint about message/i.test(msg.subject)) {
    const addresses = hotmailRecipient ? [hotmailRecipient[1].toLowerCase()] : returnedTo;
    return { kind: "abuse", format: "heuristic", recipients: addresses.map((a) => abuseRecipient(a, "abuse")), originalMessageId: null, reasons: [`complaint report from ${msg.from?.address} (Hotmail JMRP)`] };
  }
  if (/^true$/i.test(header(msg, "x-apple-unsubscribe") ?? "")) {
    const addresses = msg.to.map((a) => a.address);
    return { kind: "abuse", format: "heuristic", recipients: addresses.map((a) => abuseRecipient(a, "opt-out")), originalMessageId: null, reasons: ["X-Apple-Unsubscribe: true (Apple Mail unsubscribe request)"] };
  }
  return null;
}

/* ------------------------------------------------------------------------------------------------
 * DSN: message/delivery-status (RFC 3464)
 * --------------------------------------------------------------------------------------------- */

type Outcome = "failure" | "delayed" | "delivered";

function outcomeOf(action: string | null, status: string | null): Outcome {
  if (action === "delayed") return "delayed";
  if (action === "delivered" || action === "relayed" || action === "expanded") return "delivered";
  if (action === "failed") return "failure";
  return status?.startsWith("2") ? "delivered" : status?.startsWith("4") && !action ? "delayed" : "failure";
}

/** Recipients of the DSN fields, with the outcome each had. Empty when there are no recipient fields. */
function dsnRecipients(blocks: Fields[], humanText: string): Array<{ outcome: Outcome; recipient: BounceRecipient }> {
  const out: Array<{ outcome: Outcome; recipient: BounceRecipient }> = [];
  for (const b of blocks) {
    const address = typedAddress(field(b, "final-recipient")) ?? typedAddress(field(b, "original-recipient")) ?? typedAddress(field(b, "x-actual-recipient"));
    if (address === null) continue;
    const action = field(b, "action")?.toLowerCase().split(/[\s(;]/)[0] ?? null;
    const declared = (() => {
      const m = STATUS_RE.exec(field(b, "status") ?? "");
      return m ? `${m[1]}.${m[2]}.${m[3]}` : null;
    })();
    const diagnostic = typedText(field(b, "diagnostic-code"));
    // OpenSMTPD and others leave the Diagnostic-Code out and say it in the text.
    const human = humanLine(humanText, address) ?? "";
    const replyCode = findReplyCode(diagnostic.text) ?? findReplyCode(human);
    const status = betterStatus(declared, findStatus(diagnostic.text) ?? findStatus(human), replyCode);
    const reason = diagnostic.text || human || `Action: ${action ?? "?"}; Status: ${status ?? "?"}`;
    const context = human;
    out.push({ outcome: outcomeOf(action, status), recipient: recipient(address, status, replyCode, reason, context, reportRegion(humanText), diagnostic.type) });
  }
  return out;
}

/** The line of the human-readable part that talks about this address, if any. */
function humanLine(text: string, address: string): string | null {
  const lines = reportRegion(text).split("\n");
  const i = lines.findIndex((l) => l.toLowerCase().includes(address));
  if (i < 0) return null;
  const here = lines.slice(i, i + 3).join(" ");
  return squash(here) || null;
}

function fromDeliveryStatus(parts: ReportParts, msg: InboundMessage): { kind: Outcome; recipients: BounceRecipient[]; reasons: string[] } | null {
  let blocks = parts.deliveryStatus.flatMap(fieldBlocks);
  let where = `a ${parts.deliveryStatus.length > 0 ? "message/delivery-status part" : ""}`;
  let found = dsnRecipients(blocks, msg.text);
  if (found.length === 0) {
    // Amazon WorkMail, some Exchange and mangled mails put the DSN fields into the text body.
    blocks = fieldBlocks(msg.text).filter((b) => b.has("final-recipient") || b.has("original-recipient"));
    where = "DSN fields in the text body";
    found = blocks.some((b) => b.has("action") || b.has("status")) ? dsnRecipients(blocks, msg.text) : [];
  }
  if (found.length === 0) return null;
  const kind: Outcome = found.some((f) => f.outcome === "failure") ? "failure" : found.some((f) => f.outcome === "delayed") ? "delayed" : "delivered";
  const recipients = found.filter((f) => f.outcome === kind).map((f) => f.recipient);
  const reasons = [`${where.trim()} with ${found.length} recipient field block(s); Action says ${kind}`];
  if (parts.reportType) reasons.unshift(`multipart/report; report-type=${parts.reportType}`);
  return { kind, recipients, reasons };
}

/* ------------------------------------------------------------------------------------------------
 * Amazon SES notifications (JSON in the text body, often wrapped by SNS)
 * --------------------------------------------------------------------------------------------- */

interface SesRecipient {
  emailAddress?: string;
  status?: string;
  action?: string;
  diagnosticCode?: string;
}
interface SesNotification {
  notificationType?: string;
  eventType?: string;
  bounce?: { bounceType?: string; bouncedRecipients?: SesRecipient[] };
  complaint?: { complainedRecipients?: SesRecipient[]; complaintFeedbackType?: string };
  delivery?: { recipients?: string[]; smtpResponse?: string };
  mail?: { headers?: Array<{ name?: string; value?: string }>; commonHeaders?: { messageId?: string } };
  Message?: string;
}

function sesJson(body: string): SesNotification | null {
  // Sendmail breaks lines longer than 990 characters with "!", a line end and a space.
  const text = body.replace(/!\r?\n /g, "");
  const start = text.indexOf("{");
  if (start < 0 || !/"(notificationType|eventType|Message)"/.test(text)) return null;
  // The JSON is followed by SNS's unsubscribe footer: try the longest candidate that parses.
  for (let end = text.lastIndexOf("}"); end > start; end = text.lastIndexOf("}", end - 1)) {
    try {
      const value = JSON.parse(text.slice(start, end + 1)) as SesNotification;
      if (typeof value.Message === "string") return sesJson(value.Message);
      return value;
    } catch {
      // a shorter candidate may parse
    }
  }
  return null;
}

function fromSes(msg: InboundMessage): BounceReport | null {
  const n = sesJson(msg.text.trim().startsWith("{") ? msg.text : "");
  const type = (n?.notificationType ?? n?.eventType ?? "").toLowerCase();
  if (!n || !["bounce", "complaint", "delivery"].includes(type)) return null;
  const headerId = n.mail?.headers?.find((h) => h.name?.toLowerCase() === "message-id")?.value ?? n.mail?.commonHeaders?.messageId ?? null;
  const base = { format: "dsn" as const, originalMessageId: bareId(headerId), reasons: [`Amazon SES ${type} notification (JSON)`] };
  if (type === "complaint") {
    const feedback = n.complaint?.complaintFeedbackType ?? "abuse";
    return { ...base, kind: "abuse", recipients: (n.complaint?.complainedRecipients ?? []).map((r) => abuseRecipient((r.emailAddress ?? "").toLowerCase(), feedback)) };
  }
  if (type === "delivery") {
    const response = n.delivery?.smtpResponse ?? "";
    return { ...base, kind: "delivered", recipients: (n.delivery?.recipients ?? []).map((a) => recipient(a.toLowerCase(), findStatus(response), findReplyCode(response), response, "", "")) };
  }
  const transient = /^transient$/i.test(n.bounce?.bounceType ?? "");
  const recipients = (n.bounce?.bouncedRecipients ?? []).map((r) => {
    const diagnostic = typedText(r.diagnosticCode ?? "");
    const status = betterStatus(findStatus(r.status ?? ""), findStatus(diagnostic.text), findReplyCode(diagnostic.text));
    return recipient((r.emailAddress ?? "").toLowerCase(), status, findReplyCode(diagnostic.text), diagnostic.text || (n.bounce?.bounceType ?? ""), "", transient ? "temporary" : "", diagnostic.type);
  });
  return { ...base, kind: transient && recipients.every((r) => r.permanent !== true) ? "delayed" : "failure", recipients };
}

/* ------------------------------------------------------------------------------------------------
 * Bounces without machine-readable parts: the text MTAs write for people
 * --------------------------------------------------------------------------------------------- */

const DAEMON_LOCAL = /^(mailer-daemon|mailer_daemon|maildaemon|mail-daemon|postmaster|mdaemon|mmdf|smtp|bounces?|nobody|root|mail|mailadmin|mail-admin|mailerdaemon)$/i;
const DAEMON_NAME = /mail ?delivery (sub)?system|mailer[- _]?daemon|postmaster|mail administrator|system administrator|mail delivery|delivery (status|notification)|microsoft outlook|mail ?system|mail transport|mailer|internet mail delivery/i;

const BOUNCE_SUBJECT =
  /undeliver|undelivered|not delivered|delivery (status notification|failure|failed|has failed|problem|notification|report|error|incomplete)|returned mail|returning message|mail delivery failed|delivery failed|failure notice|failed delivery|non.?deliver|could not (be )?deliver|couldn't be delivered|mail (system )?error|returned to sender|message not delivered|rejected|bounce|warning: could not send|mail failure|delayed mail|delivery delayed|delivery notification|permanent error|delivery error|no se puede|unzustellbar|nicht zustellbar|zustellung|non remis|non recapitabile|niedostarczon|недостав|不達|送信できません|配信|エラー|error/i;

const FAILURE_WORDS =
  /could ?n[o']t be (delivered|sent)|cannot be delivered|can ?not be delivered|undeliver|not (be )?delivered|delivery (to the following recipients? )?(has )?failed|failed permanently|permanent (fatal )?error|unable to deliver|(wasn'?t|was not|were not|not) able to deliver|returned to sender|did not reach|delivery (failure|problem)|failed recipient|address(es)? failed|rejected|user unknown|unknown user|no such (user|mailbox|recipient)|mailbox (unavailable|is full|full)|does not exist|not delivered|has not been delivered|could not deliver|error (occurred )?(while|during) (trying to )?deliver|non-?delivery|bounced|failed to deliver|giving up|gave up|given up|delivery (attempts? )?(will continue|has been delayed|delayed)|delivery to the following|permanent failure|temporary failure|could not be forwarded|message (was )?(rejected|refused|blocked)|error delivering|unable to (relay|route)|retry time|retry timeout|expired|has been delayed|not yet been delivered|delivery incomplete|message could not|mail could not|failed to send|konnte nicht (zugestellt|ausgeliefert)|nicht zugestellt|unzustellbar|zustellung (ist )?fehlgeschlagen|n'a pas pu (ê|e)tre (remis|distribu|livr)|non remis|impossible de (remettre|distribuer)|no (se )?(pudo|puede) (ser )?entregar|non è stato possibile|не (может быть|удалось|было) доставлен|не доставлен|недостав|届きません|送信できませんでした|配送できません|配信できません|宛先不明|存在しません|送信に失敗|不達|受信拒否/i;

const DELAY_WORDS = /delay(ed)?\b|will (continue|keep) (to )?(try|retry|attempt)|will be retried|still (be )?trying|not yet been delivered|has not been delivered yet|warning: message|is still undelivered|will try (again|to deliver)|deferred/i;
const GAVE_UP_WORDS = /give up|gave up|given up|giving up|permanent|could ?n[o']t be delivered|failed permanently|undeliverable|has failed|was not delivered|not been delivered|expired|could not deliver|returned/i;

// Where the copy of the returned message starts in the text.
const RETURNED_MARKERS = [
  /^[ \t]*-+ ?(This is a copy of|Below this line is a copy of|Original message|Undelivered message|Returned message|Unsent message|The original message|Original message headers|Message headers follow|Headers? of the (original|returned) message)/im,
  /^[ \t]*(Message headers follow|Original message headers|The original message (headers|follows|was)|Original message:|Below is a copy of the original message|The header of the original message is following|------ original message|Attached is a copy of the message|The message header is attached)/im,
  /^[ \t]*(Return-Path|Received|DKIM-Signature|X-Received|ARC-Seal|Delivered-To|Authentication-Results|Message-ID|X-Google-Smtp-Source|Return-path):[ \t]*\S/m,
];

function reportRegion(text: string): string {
  let end = text.length;
  for (const re of RETURNED_MARKERS) {
    const m = re.exec(text);
    if (m && m.index > 0 && m.index < end) end = m.index;
  }
  return text.slice(0, end);
}

const ADDRESS_RE = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;
// The address in these places is not a recipient: the sender, a message id, a link.
const NOT_RECIPIENT_BEFORE = /(mail from|envelope-from|envelope from|return-path|sender|reply-to|message-id|in-reply-to|references|message id|^from|^\s*from|\bid|mailto|[=/?&])\s*[:=]?\s*[<("']?\s*$/i;
const STRONG_BEFORE = /(^\s*[<("'\[]?\s*|rcpt to:?\s*<?|recipient:?\s*<?|recipients?:\s*<?|\bto:?\s*<|deliver(ing|ed)? (your (mail|message) )?to:?\s*<?|address:?\s*<?|mailbox:?\s*<?|user:?\s*<?|original-recipient:[^;]*;\s*<?|final-recipient:[^;]*;\s*<?|an?\s*)$/i;

interface Occurrence {
  address: string;
  index: number;
  strong: boolean;
}

function occurrences(region: string, excluded: Set<string>): Occurrence[] {
  const out: Occurrence[] = [];
  for (const m of region.matchAll(ADDRESS_RE)) {
    const address = m[0].replace(/^[.'`{|}~-]+|\.+$/g, "").toLowerCase();
    const index = m.index ?? 0;
    const lineStart = region.lastIndexOf("\n", index - 1) + 1;
    const before = region.slice(lineStart, index);
    if (excluded.has(address) || NOT_RECIPIENT_BEFORE.test(before)) continue;
    out.push({ address, index, strong: STRONG_BEFORE.test(before) });
  }
  return out;
}

function chooseRecipients(occ: Occurrence[], failedHeader: string[]): string[] {
  if (failedHeader.length > 0) return failedHeader;
  const strong = unique(occ.filter((o) => o.strong).map((o) => o.address));
  const pool = strong.length > 0 ? strong : unique(occ.map((o) => o.address));
  const people = pool.filter((a) => !DAEMON_LOCAL.test(a.split("@")[0]));
  return people.length > 0 ? people : pool;
}

/** The text that belongs to one recipient: from each mention up to the next mention of another. */
function recipientText(region: string, occ: Occurrence[], address: string): string {
  const pieces: string[] = [];
  occ.forEach((o, i) => {
    if (o.address !== address) return;
    const next = occ.slice(i + 1).find((n) => n.address !== address);
    pieces.push(region.slice(o.index, next ? next.index : region.length));
  });
  return pieces.join("\n");
}

function codeLine(text: string): string | null {
  for (const line of text.split("\n")) {
    if (REPLY_STATUS_RE.test(line) || STATUS_RE.test(line) || REPLY_RE.test(line)) return line;
  }
  return null;
}

function explainingLine(text: string, address: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const code = codeLine(text);
  if (code) return code;
  const afterAddress = lines.find((l) => !l.toLowerCase().includes(address) && /[A-Za-z\u0080-\uffff]{3}/.test(l));
  return afterAddress ?? lines[0] ?? "";
}

interface Signals {
  daemonSender: boolean;
  nullSender: boolean;
  bounceSubject: boolean;
  failedHeader: string[];
  autoSubmitted: boolean;
}

function signalsOf(msg: InboundMessage): Signals {
  const fromHeader = header(msg, "from") ?? "";
  const local = msg.from?.address.split("@")[0] ?? "";
  const forwarded = /^\s*(fwd?|fw|wg|tr|re|aw|sv|vs|antw)\s*:/i.test(msg.subject);
  return {
    daemonSender: DAEMON_LOCAL.test(local) || DAEMON_NAME.test(msg.from?.name ?? "") || /mailer-daemon|<>/i.test(fromHeader) || msg.from === null,
    nullSender: (msg.headers["return-path"] ?? []).some((v) => /^<\s*>$/.test(v.trim())),
    bounceSubject: !forwarded && BOUNCE_SUBJECT.test(msg.subject),
    failedHeader: unique((msg.headers["x-failed-recipients"] ?? []).flatMap((v) => addressparser(v, { flatten: true }).map((a) => a.address.toLowerCase())).filter((a) => a.includes("@"))),
    autoSubmitted: /^auto-(generated|replied)/i.test(header(msg, "auto-submitted") ?? ""),
  };
}

function fromText(msg: InboundMessage, signals: Signals, excluded: Set<string>): { kind: Outcome; recipients: BounceRecipient[]; reasons: string[] } | null {
  const region = reportRegion(msg.text);
  const failure = FAILURE_WORDS.exec(region) ?? FAILURE_WORDS.exec(msg.subject);
  const code = REPLY_STATUS_RE.exec(region) ?? STATUS_RE.exec(region);
  const machine = signals.daemonSender || signals.nullSender || signals.autoSubmitted;
  const evidence = failure !== null || (code !== null && /^[45]/.test(code[1]));
  const judged = signals.failedHeader.length > 0 || (machine && evidence) || (signals.bounceSubject && failure !== null);
  if (!judged) return null;

  const occ = occurrences(region, excluded);
  const addresses = chooseRecipients(occ, signals.failedHeader);
  const delayed = DELAY_WORDS.test(`${msg.subject}\n${region}`) && !GAVE_UP_WORDS.test(`${msg.subject}\n${region}`);
  const recipients = addresses.map((address) => {
    const own = recipientText(region, occ, address);
    const status = findStatus(own) ?? findStatus(region);
    const replyCode = findReplyCode(own) ?? findReplyCode(region);
    const reason = explainingLine(own || region, address);
    return recipient(address, status, replyCode, reason, own, delayed ? "temporary" : region);
  });
  const reasons: string[] = [];
  if (signals.failedHeader.length > 0) reasons.push(`X-Failed-Recipients: ${signals.failedHeader.join(", ")}`);
  if (signals.daemonSender) reasons.push(`sender ${msg.from?.address ?? "(none)"} is a mail system`);
  if (signals.nullSender) reasons.push("empty envelope sender (Return-Path: <>)");
  if (signals.autoSubmitted) reasons.push(`Auto-Submitted: ${header(msg, "auto-submitted")}`);
  if (signals.bounceSubject) reasons.push(`subject "${clip(msg.subject, 80)}" reads like a bounce`);
  if (failure) reasons.push(`text says "${failure[0]}"`);
  if (code) reasons.push(`text carries SMTP code ${code[0].trim()}`);
  return { kind: delayed ? "delayed" : "failure", recipients, reasons };
}

/* ------------------------------------------------------------------------------------------------
 * The returned message: its Message-ID and its sender
 * --------------------------------------------------------------------------------------------- */

interface Returned {
  messageId: string | null;
  /** Addresses of the returned message's sender side (From, Sender, Return-Path, Reply-To). */
  senders: string[];
  /** Its To and Cc: complaint reports name the complainant only there. */
  recipients: string[];
}

const HEADER_LINE = (name: string) => new RegExp(`^${name}:[ \\t]*(.*(?:\\n[ \\t]+.*)*)`, "im");

function quotedHeader(text: string, name: string): string | null {
  const m = HEADER_LINE(name).exec(text);
  return m ? squash(m[1]) : null;
}

function addressesIn(value: string | null): string[] {
  if (!value) return [];
  return addressparser(value, { flatten: true })
    .map((a) => a.address.toLowerCase())
    .filter((a) => a.includes("@"));
}

async function returnedMessage(parts: ReportParts, msg: InboundMessage, raw: Buffer): Promise<Returned> {
  for (const content of parts.returned) {
    try {
      const p = await simpleParser(content, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
      const text = content.toString("utf8");
      const messageId = bareId(p.messageId) ?? bareId(quotedHeader(text, "message-id"));
      const one = (v: unknown) => (v && typeof v === "object" && "value" in v ? (v as { value: Array<{ address?: string }> }).value.map((a) => (a.address ?? "").toLowerCase()) : []);
      const senders = [...one(p.from), ...one(p.replyTo), ...addressesIn(quotedHeader(text, "return-path")), ...addressesIn(quotedHeader(text, "sender"))].filter((a) => a.includes("@"));
      const recipients = [...one(p.to), ...one(p.cc)].filter((a) => a.includes("@"));
      if (messageId || senders.length > 0) return { messageId, senders, recipients };
    } catch {
      // a mangled copy: fall back to the text below
    }
  }
  // The copy quoted in the text (qmail, Exim, Gmail), or an inline message/rfc822 part that
  // mailparser shows as text: headers after the report, in the decoded text or else in the raw body.
  const region = reportRegion(msg.text);
  const after = msg.text.slice(region.length);
  const rawText = raw.toString("latin1");
  const rawBody = rawText.slice(Math.max(0, rawText.search(/\r?\n\r?\n/)));
  for (const text of [after, rawBody]) {
    const messageId = bareId(quotedHeader(text, "message-id"));
    const senders = [...addressesIn(quotedHeader(text, "from")), ...addressesIn(quotedHeader(text, "return-path")), ...addressesIn(quotedHeader(text, "sender"))];
    if (messageId || senders.length > 0) return { messageId, senders, recipients: [...addressesIn(quotedHeader(text, "to")), ...addressesIn(quotedHeader(text, "cc"))] };
  }
  return { messageId: null, senders: [], recipients: [] };
}

/* ------------------------------------------------------------------------------------------------
 * The entry point
 * --------------------------------------------------------------------------------------------- */

function header(msg: InboundMessage, name: string): string | null {
  return msg.headers[name]?.[0]?.trim() ?? null;
}

function bareId(id: string | null | undefined): string | null {
  if (!id) return null;
  const m = /<([^<>\s]+)>/.exec(id);
  const bare = (m ? m[1] : id.trim()).trim();
  return bare === "" || !bare.includes("@") ? null : bare;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/**
 * Is this mail a delivery report or complaint about a mail we sent? Null for ordinary mail and for
 * out-of-office replies (see detectAutoReply for those).
 */
export async function detectBounce(raw: Buffer, msg: InboundMessage): Promise<BounceReport | null> {
  const parts = await readParts(raw);
  const returned = await returnedMessage(parts, msg, raw);
  const originalMessageId = returned.messageId ?? (parts.contentType === "multipart/report" ? msg.inReplyTo : null);

  const arf = fromFeedbackReport(parts, msg, returned.recipients) ?? fromComplaint(msg, returned.recipients) ?? fromSes(msg);
  if (arf) return { ...arf, originalMessageId: arf.originalMessageId ?? originalMessageId };

  const signals = signalsOf(msg);
  const machine = signals.daemonSender || signals.nullSender || signals.autoSubmitted || signals.bounceSubject || signals.failedHeader.length > 0;
  // A DSN part is trusted on its own; DSN fields pasted into a text body only from a mail system.
  const dsn = parts.deliveryStatus.length > 0 || machine ? fromDeliveryStatus(parts, msg) : null;
  if (dsn) return { kind: dsn.kind, format: "dsn", recipients: dsn.recipients, originalMessageId: originalMessageId ?? msg.inReplyTo, reasons: dsn.reasons };

  const excluded = new Set<string>([
    ...(msg.from ? [msg.from.address] : []),
    ...msg.to.map((a) => a.address),
    ...msg.cc.map((a) => a.address),
    ...msg.replyTo.map((a) => a.address),
    ...returned.senders,
  ]);
  const text = fromText(msg, signals, excluded);
  if (!text) return null;
  return { kind: text.kind, format: "heuristic", recipients: text.recipients, originalMessageId: originalMessageId ?? (signals.failedHeader.length > 0 || signals.daemonSender ? msg.inReplyTo : null), reasons: text.reasons };
}
