import { simpleParser, type Attachment, type ParsedMail } from "mailparser";
import addressparser from "nodemailer/lib/addressparser";
import { detectAutoReply } from "./auto-reply.js";
import { parseMail } from "./parse.js";
import type { InboundMessage } from "./types.js";

/*
 * Bounce detection: is this mail a report about a mail we sent (a delivery failure, a delay, a
 * success notice, an abuse complaint), and which recipients, statuses and original Message-ID
 * does it name? Pure and deterministic: bytes and the parsed message in, a report or null out.
 *
 * Three sources, most trustworthy first:
 *  - the machine-readable parts of a multipart/report: message/feedback-report (ARF, RFC 5965) and
 *    message/delivery-status (DSN, RFC 3464; message/global-delivery-status, RFC 6533);
 *  - the JSON notifications Amazon SES sends instead of a bounce;
 *  - the text MTAs write for people (qmail, Exim, Postfix without DSN, Exchange, Gmail, Yahoo,
 *    old Sendmail, ...), read only when a machine sent it (MAILER-DAEMON/postmaster, the null
 *    sender, no-reply, Auto-Submitted, X-Failed-Recipients) and the text speaks of failure: a
 *    person who forwards a bounce or quotes "550 user unknown" is asking the helpdesk for help.
 *
 * mailparser does the MIME work. The DSN and ARF fields are RFC 822-style header fields in a part
 * body, which mailparser hands over as text; splitting those is the only field parsing done here.
 * The rest is reading prose, with the corpus in ../shared/corpora/bounces as the judge (see
 * test/mail/bounce-corpus.test.ts and its accepted differences).
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
  const found = [...text.matchAll(new RegExp(STATUS_RE.source, "g"))].map((m) => `${m[1]}.${m[2]}.${m[3]}`);
  // A transcript's "250 2.1.5 Ok" is not what went wrong.
  const failures = found.filter((s) => s[0] !== "2");
  const all = failures.length > 0 ? failures : found;
  if (all.length === 0) return null;
  const best = Math.min(...all.map(vagueness));
  return all.find((s) => vagueness(s) === best) ?? null;
}

/** The reply code; with failuresOnly, a 4xx/5xx one ("Size (in bytes): 222" is no reply). */
function findReplyCode(text: string, failuresOnly = false): string | null {
  for (const re of [REPLY_STATUS_RE, REPLY_RE]) {
    for (const m of text.matchAll(new RegExp(re.source, `${re.flags}g`))) {
      if (!failuresOnly || /^[45]/.test(m[1])) return m[1];
    }
  }
  return null;
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

const PERMANENT_WORDS = /permanent(ly)?\b|fatal|gave up|given up|giving up|could ?n[o']t be delivered|undeliverable|not delivered|did not reach|rejected|refused|denied|blocked|unknown user|user unknown|no such|does not exist|not found|not listed|not recogni[sz]ed|disabled|invalid|failed/i;
const TEMPORARY_WORDS =
  /temporar(y|ily)|will (be )?retr(y|ied)|will (continue|keep) (to )?try|still trying|delayed|deferred|try again later|not yet been delivered|expired|retry time(out)?|timed? ?out|not reachable|unable to connect|could not connect|connection (refused|reset)|did not accept our requests to connect|not responding|failing for a long time/i;

/**
 * The status class decides (RFC 3463 §3.1), else the reply code's (RFC 5321 §4.2.1), else the
 * words: this recipient's before the report's. A final failure report that says nothing either way
 * is permanent: the MTA has given up and returned the message.
 */
function permanence(e: Evidence): boolean | null {
  const cls = e.status?.[0] ?? e.replyCode?.[0];
  if (cls === "5") return true;
  if (cls === "4") return false;
  if (cls === "2") return null;
  for (const text of [`${e.reason}\n${e.context ?? ""}`, e.general ?? ""]) {
    if (TEMPORARY_WORDS.test(text)) return false;
    if (PERMANENT_WORDS.test(text)) return true;
  }
  return e.final === true ? true : null;
}

/** The SMTP command a failure answered, where the report says so (Postfix, Exim, qmail, Sendmail, ...). */
type Command = "connect" | "mail" | "rcpt" | "data";

const COMMANDS: Array<[RegExp, (m: RegExpExecArray) => string]> = [
  [/in reply to (?:the )?(RCPT TO|MAIL FROM|end of DATA|DATA|HELO|EHLO|initial connection)/i, (m) => m[1]],
  [/after (RCPT TO|MAIL FROM|end of data|DATA|initial connection|HELO|EHLO)/i, (m) => m[1]],
  [/did not like our (final DATA|DATA|RCPT TO|MAIL FROM)/i, (m) => m[1]],
  [/^>>>\s*(RCPT TO|MAIL FROM|DATA|\.)[^\n]*\n<<<\s*[45]\d\d/im, (m) => m[1]],
  [/does not like (recipient|sender)|(failed after I sent the message)|most progress was (RCPT TO|MAIL FROM|DATA)|but (my name) was rejected|but (sender) was rejected/i, (m) => m[1] ?? m[2] ?? m[3] ?? (m[4] ? "helo" : m[5])],
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
  // A failed DNS lookup that the server itself calls temporary says nothing about the domain.
  ["refused", /not found, try again|temporary failure in name resolution|try again later/i],
  ["moved", /has moved|moved permanently|no longer (with|at|valid|in use|available)|address (has )?changed/i],
  ["no-mail", /does not accept (e-?)?mail|accepts no mail|null mx|not accepting network messages|couldn'?t find a mail exchanger|name service error|no mail exchanger|no mx found|mx (record )?(lookup )?(failure|failed)|indicated no smtp service/i],
  ["host", /host (or domain name )?(not found|unknown)|unknown host|domain (name )?(not found|does not exist|unknown|is not reachable|not reachable)|unknown domain|no such domain|name or service not known|nxdomain|unrouteable (mail )?domain|no (valid )?(mx|a) record|bad destination system|domain (is )?(invalid|not valid)|invalid domain|illegal (host|domain)|dns lookup fail|non-existent (domain|host)|(?<![@\w.-])[a-z0-9-]+(\.[a-z0-9-]+)+\.? does not exist/i],
  [
    "address",
    /user(name)? (is )?unknown|unknown (user|recipient|mailbox|address|local part|account)|no such (user|mailbox|recipient|address|account|local user|person|list)|(user|mailbox|recipient|address|account|addressee)( name)? (does not|doesn'?t|did not) exist|(user|mailbox|recipient|address|account)( is)? not (found|known|exist|recogni[sz]ed|listed|valid)|(invalid|bad|unknown|non-?existent) (recipient|mailbox|user|address|e-?mail address|destination mailbox)|mailbox (unavailable|not available)|no mailbox here|not a valid (mailbox|user|recipient)|recipnotfound|name is not recogni[sz]ed|couldn'?t be found|could not be found|address (is )?not (valid|found)|unrouteable address|undeliverable address|no longer exists|is not a known user|user not local|unknown or illegal alias|not our customer|address lookup failed|doesn'?t have an? [\w.-]+ account|recipient address rejected: access denied|recipient address rejected\.?\s*$|not listed in|(invalid|unknown) (final delivery )?user ?id|@[\w.-]+>? does not exist|no valid recipients?/im,
  ],
  ["mailer", /command output|procmail|pipe to |mailer error|local delivery failed/i],
  ["refused", /spam|blacklist|blocklist|block list|black list|policy|dmarc|\bspf\b|dkim|reverse dns|\bptr\b|\brbl\b|reputation|virus|malware|content (rejected|filter)|message (is )?too (big|large)|size limit|relay(ing)? (access )?denied|not permitted to relay|too many|timed? ?out|expired|connection refused|\brefused\b|unauthenticated|authentication required|\btls\b|try again later|not (yet )?been delivered/i],
];

function wordingOf(text: string): Wording {
  const flat = squash(text);
  for (const [kind, re] of WORDING) if (re.test(flat)) return kind;
  return null;
}

// Statuses about the address (RFC 3463 §3.2): bad mailbox, bad system, bad syntax, moved, null MX.
const BAD_ADDRESS_STATUS = /^5\.1\.(0|1|2|3|6|10)$/;

const EXPLICIT_ADDRESS = /doesn'?t have an? [\w.-]+ account|no longer exists/i;
const SENDER_REFUSED = /sender (address )?(rejected|refused|denied|blocked)|rejected sender|sender verify failed/i;

/** What a report says about one recipient, before it is judged. */
interface Evidence {
  address: string;
  status: string | null;
  replyCode: string | null;
  /** The diagnostic, or the line that explains the failure. */
  reason: string;
  /** What else the report says about this recipient. */
  context?: string;
  /** The whole report: its "this is a permanent error" may be all there is to go on. */
  general?: string;
  /** The report is about this recipient alone, so the SMTP command it names is this one's. */
  alone?: boolean;
  /** The report says the MTA gave up (a failure, not a delay). */
  final?: boolean;
  diagnosticType?: string | null;
}

function isHardBounce(e: Evidence, permanent: boolean | null): boolean {
  const { status, reason } = e;
  const context = e.context ?? "";
  if (permanent === false) return false;
  // Local delivery programs (procmail, a full disk) fail for reasons that say nothing about the address.
  if (e.diagnosticType === "x-unix") return false;
  // The sender's address was refused (MAIL FROM, 5.1.7/5.1.8): nothing is known about the recipient.
  const command = commandOf(squash(`${reason}\n${context}`)) ?? (e.alone ? commandOf(e.general ?? "") : null);
  if (command === "mail" || SENDER_REFUSED.test(reason) || (status !== null && /^5\.1\.[78]$/.test(status))) return false;
  // Refused at the greeting or HELO: the server never heard the address.
  if (command === "connect") return false;
  const words = wordingOf(reason) ?? wordingOf(context);
  if (words === "address" || words === "host") {
    // The server took the address at RCPT TO and refused the message after DATA: "user unknown" is
    // then a content filter's cover story (common at Japanese carriers), unless the status says 5.1.x.
    // Yahoo's "This user doesn't have a yahoo.com account" after DATA is no cover story.
    return !(command === "data" && !(status ?? "").startsWith("5.1.") && !EXPLICIT_ADDRESS.test(`${reason}\n${context}`));
  }
  if (words !== null) return words === "moved" || (words === "no-mail" && permanent === true);
  return status !== null && BAD_ADDRESS_STATUS.test(status);
}

function recipient(e: Evidence): BounceRecipient {
  const permanent = permanence(e);
  return { address: e.address, status: e.status, replyCode: e.replyCode, reason: clip(squash(e.reason)), permanent, hardBounce: isHardBounce(e, permanent) };
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
  const alone = blocks.filter((b) => b.has("final-recipient") || b.has("original-recipient")).length === 1;
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
    const human = humanSection(humanText, address) ?? { line: "", section: "" };
    const replyCode = findReplyCode(diagnostic.text) ?? findReplyCode(human.section);
    const reported = betterStatus(declared, findStatus(diagnostic.text), replyCode);
    // The text only fills in where the fields are silent or vague (OpenSMTPD's "Status: 5.0.0").
    const inText = findStatus(human.section);
    const status = inText && (!reported || (vagueness(reported) === 2 && vagueness(inText) < 2 && inText[0] === reported[0])) ? inText : reported;
    // "Status: 5.4.4 (Illegal host/domain name found)": Oracle Messaging Server explains in a comment.
    const comment = /\(([^)]*[A-Za-z]{3}[^)]*)\)/.exec(field(b, "status") ?? "")?.[1] ?? "";
    const reason = diagnostic.text || comment || human.line || `Action: ${action ?? "?"}; Status: ${status ?? "?"}`;
    const context = human.section;
    const general = reportRegion(humanText);
    const outcome = outcomeOf(action, status);
    out.push({ outcome, recipient: recipient({ address, status, replyCode, reason, context, general, alone, final: outcome === "failure", diagnosticType: diagnostic.type }) });
  }
  return out;
}

/**
 * What the human-readable part says about this address: from its first mention (not in a summary
 * of the returned message's headers, "To: a@b") to the next line naming another address.
 */
function humanSection(text: string, address: string): { line: string; section: string } | null {
  const lines = reportRegion(text).split("\n");
  const isHeader = (l: string) => /^\s*(to|cc|bcc|from|subject|date|message-id|reply-to|sender|x-[\w-]+)\s*:/i.test(l);
  const i = lines.findIndex((l) => l.toLowerCase().includes(address) && !isHeader(l));
  if (i < 0) return null;
  const section = [lines[i]];
  for (const line of lines.slice(i + 1, i + 8)) {
    const other = (line.match(ADDRESS_RE) ?? []).some((a) => a.toLowerCase() !== address);
    if ((other && /^\s*<?[^\s@]+@/.test(line)) || /^\s*[A-Z][\w-]*-(Recipient|MTA):/i.test(line)) break;
    section.push(line);
  }
  const code = codeLine(section.join("\n"));
  const rest = section.slice(1).find((l) => /[A-Za-z\u0080-\uffff]{3}/.test(l) && !/^\s*-{3,}/.test(l));
  const line = code ?? (section[0].replace(/<?[^\s<>]+@[^\s<>]+>?:?/, "").trim().length > 3 ? section[0] : (rest ?? section[0]));
  return { line: squash(line), section: section.join("\n") };
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
  // A failure report lists the delayed recipients too: neither got the message (permanent says which).
  const recipients = found.filter((f) => f.outcome === kind || (kind === "failure" && f.outcome === "delayed")).map((f) => f.recipient);
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
    return { ...base, kind: "delivered", recipients: (n.delivery?.recipients ?? []).map((a) => recipient({ address: a.toLowerCase(), status: findStatus(response), replyCode: findReplyCode(response), reason: response })) };
  }
  const transient = /^transient$/i.test(n.bounce?.bounceType ?? "");
  const recipients = (n.bounce?.bouncedRecipients ?? []).map((r) => {
    const diagnostic = typedText(r.diagnosticCode ?? "");
    const status = betterStatus(findStatus(r.status ?? ""), findStatus(diagnostic.text), findReplyCode(diagnostic.text));
    const reason = diagnostic.text || (n.bounce?.bounceType ?? "");
    return recipient({ address: (r.emailAddress ?? "").toLowerCase(), status, replyCode: findReplyCode(diagnostic.text), reason, general: transient ? "temporary" : "", final: !transient, diagnosticType: diagnostic.type });
  });
  return { ...base, kind: transient && recipients.every((r) => r.permanent !== true) ? "delayed" : "failure", recipients };
}

/* ------------------------------------------------------------------------------------------------
 * Bounces without machine-readable parts: the text MTAs write for people
 * --------------------------------------------------------------------------------------------- */

// Not "mail@" or "root@": people and shared mailboxes write from those.
const DAEMON_LOCAL = /^(mailer-daemon|mailer_daemon|maildaemon|mail-daemon|mailerdaemon|post_?master|mdaemon|bounces?)$/i;
const DAEMON_NAME = /mail ?delivery (sub)?system|mailer[- _]?daemon|postmaster|mail administrator|mail delivery|delivery status notification|mail ?system\b/i;

const FAILURE_WORDS =
  /could ?n[o']t be (delivered|sent)|(may|might) not exist|permission to post|can(no|')t send|was aborted|malformed (recipient )?address|fatal errors?|(account|mailbox)( is| has been)? disabled|cannot be delivered|can ?not be delivered|undeliver|not (be )?delivered|delivery (to the following recipients? )?(has )?failed|failed permanently|permanent (fatal )?error|unable to deliver|(wasn'?t|was not|were not|not) able to deliver|returned to sender|did not reach|delivery (failure|problem)|failed recipient|address(es)? failed|rejected|user unknown|unknown user|no such (user|mailbox|recipient)|mailbox (unavailable|is full|full)|does not exist|not delivered|has not been delivered|could not deliver|error (occurred )?(while|during) (trying to )?deliver|non-?delivery|bounced|failed to deliver|giving up|gave up|given up|delivery (attempts? )?(will continue|has been delayed|delayed)|delivery to the following|permanent failure|temporary failure|could not be forwarded|message (was )?(rejected|refused|blocked)|error delivering|unable to (relay|route)|retry time|retry timeout|expired|has been delayed|not yet been delivered|delivery incomplete|message could not|mail could not|failed to send|konnte nicht (zugestellt|ausgeliefert)|nicht zugestellt|unzustellbar|zustellung (ist )?fehlgeschlagen|n'a pas pu (ê|e)tre (remis|distribu|livr)|non remis|impossible de (remettre|distribuer)|no (se )?(pudo|puede) (ser )?entregar|non è stato possibile|не (может быть|удалось|было) доставлен|не доставлен|недостав|届きません|送信できませんでした|配送できません|配信できません|宛先不明|存在しません|送信に失敗|不達|受信拒否/i;

const DELAY_WORDS = /delay(ed)?\b|will (continue|keep) (to )?(try|retry|attempt)|will be retried|still (be )?trying|not yet been delivered|has not been delivered yet|warning: message|is still undelivered|will try (again|to deliver)|deferred/i;
const GAVE_UP_WORDS = /give up|gave up|given up|giving up|permanent|could ?n[o']t be delivered|failed permanently|undeliverable|has failed|was not delivered|not been delivered|expired|could not deliver|returned/i;

// Where the copy of the returned message starts in the text.
const RETURNED_MARKERS = [
  /^[ \t]*-+ ?(This is a copy of|Below this line is a copy of|Original message|Undelivered message|Returned message|Unsent message|The original message|Original message headers|Message headers follow|Headers? of the (original|returned) message)/im,
  /^[ \t]*(Message headers follow|Original message follows|Original message headers|The original message (headers|follows)|Original message:|Below is a copy of the original message|The header of the original message is following|------ original message|Attached is a copy of the message|The message header is attached)/im,
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
const NOT_RECIPIENT_BEFORE = /(mail from|envelope-from|envelope from|return-path|sender|reply-to|message-id|in-reply-to|references|message id|^from|^\s*from|\bid|mailto|generated (from|by)|[=/?&])\s*[:=]?\s*[<("']?\s*$/i;
const STRONG_BEFORE = /(^\s*[<("'\[]?\s*|^\s*[45]\d\d[ -]<?|rcpt to:?\s*<?|recipient:?\s*<?|recipients?:\s*<?|\bto:?\s*<|deliver(ing|ed)? (your (mail|message) )?to:?\s*<?|address:?\s*<?|mailbox:?\s*<?|user:?\s*<?|original-recipient:[^;]*;\s*<?|final-recipient:[^;]*;\s*<?|an?\s*)$/i;

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

/**
 * Old Sendmail lists one SMTP reply per line, some naming no address ("550 example.org (smtp)...
 * 550 Host unknown" belongs to the next recipient): a recipient's story ends where a reply with
 * another code starts.
 */
function story(segment: string): string {
  const lines = segment.split("\n");
  const replyOf = (l: string) => /^\s*(?:<<<\s*)?([245]\d\d)[ -]/.exec(l)?.[1] ?? null;
  const first = lines.map(replyOf).find((c) => c !== null) ?? null;
  const end = lines.findIndex((l, i) => i > 0 && first !== null && replyOf(l) !== null && replyOf(l) !== first && replyOf(lines[0]) !== null);
  return (end < 0 ? lines : lines.slice(0, end)).join("\n");
}

/** The text that belongs to one recipient: from each mention up to the next mention of another. */
function recipientText(region: string, occ: Occurrence[], address: string): string {
  const pieces: string[] = [];
  occ.forEach((o, i) => {
    if (o.address !== address) return;
    const next = occ.slice(i + 1).find((n) => n.address !== address);
    // From the start of the line: "Unknown user: a@b" explains itself before the address.
    const from = region.lastIndexOf("\n", o.index - 1) + 1;
    const to = next ? region.lastIndexOf("\n", next.index - 1) + 1 : region.length;
    pieces.push(region.slice(from, Math.max(to, o.index + address.length)));
  });
  return pieces.join("\n");
}

function codeLine(text: string): string | null {
  return text.split("\n").find((line) => failureCode(line) !== null) ?? null;
}

const isSeparator = (l: string) => /^\s*([-=*_#]{3,}|\.\.\.)/.test(l) || /[-=*]{5,}\s*$/.test(l);
const isHeaderLike = (l: string) => /^\s*(to|cc|from|subject|sent|date|message-id|reply-to|[A-Za-z]+(-[A-Za-z]+)+)\s*:/i.test(l);
const isAddressOnly = (l: string) => /^\s*[<("']?[^\s@<>]+@[^\s<>]+[>)"']?\s*:?\s*$/.test(l);

/** Line i and the lines that continue it (wrapped text, "because:" and what follows). */
function continued(lines: string[], i: number): string {
  const out = [lines[i]];
  // A new SMTP reply is a new story (Sendmail lists one per recipient); "550-" lines continue one.
  const replyOf = (l: string) => /^\s*(?:<<<\s*)?([245]\d\d)[ -]/.exec(l)?.[1] ?? null;
  const first = replyOf(lines[i]);
  let j = i + 1;
  if (/:\s*$/.test(lines[i])) while (j < lines.length && lines[j].trim() === "") j++;
  for (; j < lines.length && out.length < 4; j++) {
    const l = lines[j];
    if (l.trim() === "" || isSeparator(l) || isHeaderLike(l) || isAddressOnly(l) || /^\s*<?[^\s@<>]+@[^\s<>]+>?:/.test(l)) break;
    if (/^\s*(>>>|<<<)/.test(l) || (replyOf(l) !== null && replyOf(l) !== first)) break;
    out.push(l);
  }
  return squash(out.join(" "));
}

/**
 * The text that explains one recipient's failure, best first: an SMTP reply in its own part of the
 * report; words of failure there; an SMTP reply elsewhere in the report (MailMarshal gives it
 * before the list of recipients); any line of its own part; words of failure elsewhere (Lotus Notes
 * names the reason above the address); the first line of the report that says anything.
 */
function explainingLine(own: string, region: string): string {
  const says = (l: string) => /[A-Za-z\u0080-\uffff]{3}/.test(l) && !isSeparator(l) && !isHeaderLike(l) && !isAddressOnly(l) && !/^\s*\(?(ultimately )?generated (from|by)/i.test(l);
  const lines = own.split("\n");
  const all = region.split("\n");
  const choices: Array<[string[], (l: string, n: number) => boolean]> = [
    [lines, (l) => failureCode(l) !== null],
    [lines, (l) => says(l) && (wordingOf(l) !== null || FAILURE_WORDS.test(l))],
    [all, (l) => failureCode(l) !== null],
    [lines, (l, n) => n > 0 && says(l)],
    [all, (l) => says(l) && wordingOf(l) !== null],
    [all, (l) => says(l) && FAILURE_WORDS.test(l)],
    [all, (l) => says(l)],
  ];
  for (const [from, test] of choices) {
    const i = from.findIndex(test);
    if (i >= 0) return continued(from, i);
  }
  return squash(lines[0]);
}

/** The first 4xx/5xx reply or status code in the text: "250 2.0.0 Ok" in a transcript is no failure. */
function failureCode(text: string): string | null {
  for (const re of [REPLY_STATUS_RE, STATUS_RE, REPLY_RE]) {
    for (const m of text.matchAll(new RegExp(re.source, `${re.flags.replace("g", "")}g`))) {
      if (/^[45]/.test(m[1])) return squash(m[0]).replace(/^[^\d#]+/, "");
    }
  }
  return null;
}

interface Signals {
  daemonSender: boolean;
  /** no-reply@ and the like: a machine, though not necessarily a mail system. */
  noReplySender: boolean;
  nullSender: boolean;
  failedHeader: string[];
  autoSubmitted: boolean;
}

/**
 * Sent by a machine. A subject alone is not enough: people forward bounces and write "mail
 * delivery failed" in their own subjects, and a helpdesk must read those as requests.
 */
const isMachine = (s: Signals) => s.daemonSender || s.noReplySender || s.nullSender || s.autoSubmitted;

function signalsOf(msg: InboundMessage): Signals {
  const fromHeader = header(msg, "from") ?? "";
  const local = msg.from?.address.split("@")[0] ?? "";
  return {
    noReplySender: /^(no-?reply|do-?not-?reply|donotreply)([-+._].*)?$/i.test(local),
    // "MAILER-DAEMON" without a domain and "<>" are no addresses parse keeps: read the header too.
    daemonSender: DAEMON_LOCAL.test(local) || DAEMON_NAME.test(msg.from?.name ?? "") || /mailer-daemon|<\s*>/i.test(fromHeader),
    nullSender: (msg.headers["return-path"] ?? []).some((v) => /^<\s*>$/.test(v.trim())),
    failedHeader: unique((msg.headers["x-failed-recipients"] ?? []).flatMap((v) => addressparser(v, { flatten: true }).map((a) => a.address.toLowerCase())).filter((a) => a.includes("@"))),
    autoSubmitted: /^auto-(generated|replied)/i.test(header(msg, "auto-submitted") ?? ""),
  };
}

interface TextContext {
  signals: Signals;
  /** Never recipients: the report's own From and Reply-To. */
  excluded: Set<string>;
  /** The original sender (the report's To, the returned message's From): recipients only if nobody else is named. */
  senders: Set<string>;
  /** The returned message's To and Cc: the recipients when the report names none. */
  returnedTo: string[];
}

/** named: the report names its recipients (else they are the returned message's To and Cc). */
function fromText(msg: InboundMessage, ctx: TextContext, rawBody: string): { kind: Outcome; recipients: BounceRecipient[]; reasons: string[]; named: boolean } | null {
  const { signals } = ctx;
  const region = reportRegion(msg.text);
  const failure = FAILURE_WORDS.exec(region) ?? FAILURE_WORDS.exec(msg.subject);
  const code = failureCode(region);
  const machine = isMachine(signals);
  const evidence = failure !== null || code !== null;
  const judged = signals.failedHeader.length > 0 || (machine && evidence);
  if (!judged) return null;

  let found = textRecipients(region, ctx);
  // A part with a malformed Content-Type can hide the report from mailparser: read the raw body.
  if (found.length === 0 && rawBody !== msg.text) found = textRecipients(reportRegion(rawBody), ctx);
  const delayed = DELAY_WORDS.test(`${msg.subject}\n${region}`) && !GAVE_UP_WORDS.test(`${msg.subject}\n${region}`);
  const named = found.length > 0;
  if (!named) found = unique(ctx.returnedTo).map((address) => ({ address, own: "", region }));
  const recipients = found.map(({ address, own: segment, region: where }) => {
    const own = story(segment);
    const status = findStatus(own) ?? findStatus(where);
    const replyCode = findReplyCode(own, true) ?? findReplyCode(where, true) ?? findReplyCode(own);
    const reason = explainingLine(own, where);
    return recipient({ address, status, replyCode, reason, context: own, general: delayed ? "temporary" : where, alone: found.length === 1, final: !delayed });
  });
  return { kind: delayed ? "delayed" : "failure", recipients, reasons: describe(msg, signals, failure, code), named };
}

function describe(msg: InboundMessage, signals: Signals, failure: RegExpExecArray | null, code: string | null): string[] {
  const reasons: string[] = [];
  if (signals.failedHeader.length > 0) reasons.push(`X-Failed-Recipients: ${signals.failedHeader.join(", ")}`);
  if (signals.daemonSender) reasons.push(`sender ${msg.from?.address ?? "(none)"} is a mail system`);
  if (signals.noReplySender) reasons.push(`sender ${msg.from?.address} is a no-reply address`);
  if (signals.nullSender) reasons.push("empty envelope sender (Return-Path: <>)");
  if (signals.autoSubmitted) reasons.push(`Auto-Submitted: ${header(msg, "auto-submitted")}`);
  if (failure) reasons.push(`text says "${failure[0]}"`);
  if (code) reasons.push(`text carries SMTP code ${code}`);
  return reasons;
}

function textRecipients(region: string, ctx: TextContext): Array<{ address: string; own: string; region: string }> {
  const all = occurrences(region, ctx.excluded);
  const others = all.filter((o) => !ctx.senders.has(o.address));
  const occ = others.length > 0 ? others : all;
  // Nobody named: Verizon and others just return the message (it failed for whom it was sent to).
  const addresses = chooseRecipients(occ, ctx.signals.failedHeader);
  return addresses.map((address) => ({ address, own: recipientText(region, occ, address), region }));
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
  for (const text of [after, rawBodyText(raw)]) {
    const messageId = bareId(quotedHeader(text, "message-id"));
    const senders = [...addressesIn(quotedHeader(text, "from")), ...addressesIn(quotedHeader(text, "return-path")), ...addressesIn(quotedHeader(text, "sender"))];
    if (messageId || senders.length > 0) return { messageId, senders, recipients: [...addressesIn(quotedHeader(text, "to")), ...addressesIn(quotedHeader(text, "cc"))] };
  }
  return { messageId: null, senders: [], recipients: [] };
}

/* ------------------------------------------------------------------------------------------------
 * The entry point
 * --------------------------------------------------------------------------------------------- */

/**
 * When the boundary in the header matches none in the body (44 of the corpus mails have MIME
 * defects, some from exactly this), mailparser finds no part and the text is empty: the raw body
 * is then all there is to read.
 */
function withReadableText(msg: InboundMessage, raw: Buffer): InboundMessage {
  return msg.text.trim() !== "" ? msg : { ...msg, text: rawBodyText(raw) };
}

function rawBodyText(raw: Buffer): string {
  const rawText = raw.toString("utf8").replace(/\r\n?/g, "\n");
  const bodyStart = rawText.indexOf("\n\n");
  return bodyStart < 0 ? "" : rawText.slice(bodyStart + 2);
}

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

async function nestedReport(content: Buffer): Promise<BounceReport | null> {
  try {
    const report = await detect(content, await parseMail(content), 1);
    return report && (report.kind === "failure" || report.kind === "delayed") ? report : null;
  } catch {
    return null;
  }
}

/**
 * Is this mail a delivery report or complaint about a mail we sent? Null for ordinary mail and for
 * out-of-office replies (see detectAutoReply for those).
 */
export async function detectBounce(raw: Buffer, parsedMsg: InboundMessage): Promise<BounceReport | null> {
  return detect(raw, parsedMsg, 0);
}

/** Hotmail's JMRP complaints and Apple Mail's unsubscribe requests come from no mail system. */
const mayBeComplaint = (msg: InboundMessage) => /complaint about message/i.test(msg.subject) || header(msg, "x-apple-unsubscribe") !== null;

async function detect(raw: Buffer, parsedMsg: InboundMessage, depth: number): Promise<BounceReport | null> {
  const msg = withReadableText(parsedMsg, raw);
  const signals = signalsOf(msg);
  const machine = isMachine(signals) || signals.failedHeader.length > 0;
  // Most of what a helpdesk gets is a person's mail: it is not parsed a second time.
  const isReport = /^\s*multipart\/report\b/i.test(header(msg, "content-type") ?? "");
  if (!machine && !isReport && !mayBeComplaint(msg)) return null;

  const parts = await readParts(raw);
  const returned = await returnedMessage(parts, msg, raw);
  const originalMessageId = returned.messageId ?? (parts.contentType === "multipart/report" ? msg.inReplyTo : null);
  const arf = fromFeedbackReport(parts, msg, returned.recipients) ?? fromComplaint(msg, returned.recipients) ?? fromSes(msg);
  if (arf) return { ...arf, originalMessageId: arf.originalMessageId ?? originalMessageId };

  // A DSN part is trusted on its own; DSN fields pasted into a text body only from a mail system.
  const dsn = parts.deliveryStatus.length > 0 || machine ? fromDeliveryStatus(parts, msg) : null;
  if (dsn) return { kind: dsn.kind, format: "dsn", recipients: dsn.recipients, originalMessageId: originalMessageId ?? msg.inReplyTo, reasons: dsn.reasons };

  // An out-of-office answer may well say "not delivered" or "no longer with us"; it is no bounce.
  if (detectAutoReply(msg).kind === "auto-reply") return null;
  const excluded = new Set<string>([...(msg.from ? [msg.from.address] : []), ...msg.replyTo.map((a) => a.address)]);
  // A bounce goes to the original sender, so its To names the sender too.
  const senders = new Set<string>([...msg.to.map((a) => a.address), ...msg.cc.map((a) => a.address), ...returned.senders]);
  const text = fromText(msg, { signals, excluded, senders, returnedTo: returned.recipients }, rawBodyText(raw));
  if (!text) return null;
  const fallback = signals.failedHeader.length > 0 || signals.daemonSender ? msg.inReplyTo : null;
  const report: BounceReport = { kind: text.kind, format: "heuristic", recipients: text.recipients, originalMessageId: originalMessageId ?? fallback, reasons: text.reasons };
  // A relay passing on a bounce it got names nobody itself: the recipients and the message that
  // bounced are those of the inner report.
  const nested = !text.named && depth === 0 && parts.returned.length > 0 ? await nestedReport(parts.returned[0]) : null;
  if (nested === null || nested.recipients.length === 0) return report;
  return { ...report, recipients: nested.recipients, originalMessageId: nested.originalMessageId ?? report.originalMessageId, reasons: [...report.reasons, "the returned message is itself a bounce: its recipients"] };
}
