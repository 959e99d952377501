import type { BounceRecipient } from "./types.js";

/* ------------------------------------------------------------------------------------------------
 * Codes, permanence and what the wording says
 * --------------------------------------------------------------------------------------------- */

export const squash = (s: string) => s.replace(/\s+/g, " ").trim();
const clip = (s: string, max = 300) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

// Not part of an IP address, a version number or a longer number.
export const STATUS_RE = /(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)/;
export const REPLY_STATUS_RE = /(?<![\d.])([245]\d\d)[ -]+#?([245]\.\d{1,3}\.\d{1,3})(?![\d]|\.\d)/;
// A reply code where servers write one: at the start of a line or after "said:", "reason:", "#", ...
export const REPLY_RE = /(?:^|[\s(:;#<[]|said:?\s*|error:?\s*|reason:?\s*)([245][0-5]\d)(?=[ -]\S|\s*$|[.:,)\]])(?![\d.]*\.\d+\.\d+\.\d)/m;

/*
 * Servers often give a vague code first and the telling one later ("554 4.4.7 Message expired
 * <421 4.4.2 Connection timed out>"), and reporting MTAs often put a vaguer Status field over the
 * remote server's own reply: prefer the most specific code. x.0.0 says only "failed", 4.4.7 only
 * "gave up after retrying", x.y.0 names the subject (address, mailbox, ...) but not the problem.
 */
export function vagueness(status: string): number {
  if (/^\d\.0\.0$/.test(status) || status === "4.4.7") return 2;
  return /^\d\.\d+\.0$/.test(status) ? 1 : 0;
}

export function findStatus(text: string): string | null {
  const found = [...text.matchAll(new RegExp(STATUS_RE.source, "g"))].map((m) => `${m[1]}.${m[2]}.${m[3]}`);
  // A transcript's "250 2.1.5 Ok" is not what went wrong.
  const failures = found.filter((s) => s[0] !== "2");
  const all = failures.length > 0 ? failures : found;
  if (all.length === 0) return null;
  const best = Math.min(...all.map(vagueness));
  return all.find((s) => vagueness(s) === best) ?? null;
}

/** The reply code; with failuresOnly, a 4xx/5xx one ("Size (in bytes): 222" is no reply). */
export function findReplyCode(text: string, failuresOnly = false): string | null {
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
export function betterStatus(declared: string | null, diagnostic: string | null, replyCode: string | null = null): string | null {
  if (!declared || !diagnostic || declared === diagnostic) return declared ?? diagnostic;
  if (declared[0] !== diagnostic[0]) return replyCode?.[0] === diagnostic[0] ? diagnostic : declared;
  const [d, g] = [vagueness(declared), vagueness(diagnostic)];
  if (d !== g) return g < d ? diagnostic : declared;
  return diagnostic;
}

const PERMANENT_WORDS =
  /permanent(ly)?\b|fatal|gave up|given up|giving up|could ?n[o']t be delivered|undeliverable|not delivered|did not reach|rejected|refused|denied|blocked|unknown user|user unknown|no such|does not exist|not found|not listed|not recogni[sz]ed|disabled|invalid|failed/i;
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
  [
    /does not like (recipient|sender)|(failed after I sent the message)|most progress was (RCPT TO|MAIL FROM|DATA)|but (my name) was rejected|but (sender) was rejected/i,
    (m) => m[1] ?? m[2] ?? m[3] ?? (m[4] ? "helo" : m[5]),
  ],
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
  [
    "refused",
    /mailbox (is )?full|over ?quota|quota (exceeded|exceed)|exceeded (the )?(storage|quota)|mailbox size limit|insufficient (system )?storage|mail ?box has exceeded|storage (space|allocation)|disk (space|full)|is full\b/i,
  ],
  [
    "refused",
    /(account|mailbox|user|recipient)( is)? (has been )?(temporarily )?(disabled|suspended|inactive|deactivated|expired|locked|blocked)|not (an )?active (user|account)|no longer active|temporar(il)?y (locked|disabled|suspended)|\b(is|been|was) (disabled|inactive|suspended|deactivated|locked)\b/i,
  ],
  ["refused", /too many (recipients|messages|connections)|rate limit|recipient preferences/i],
  // A failed DNS lookup that the server itself calls temporary says nothing about the domain.
  ["refused", /not found, try again|temporary failure in name resolution|try again later/i],
  ["moved", /has moved|moved permanently|no longer (with|at|valid|in use|available)|address (has )?changed/i],
  [
    "no-mail",
    /does not accept (e-?)?mail|accepts no mail|null mx|not accepting network messages|couldn'?t find a mail exchanger|name service error|no mail exchanger|no mx found|mx (record )?(lookup )?(failure|failed)|indicated no smtp service/i,
  ],
  [
    "host",
    /host (or domain name )?(not found|unknown)|unknown host|domain (name )?(not found|does not exist|unknown|is not reachable|not reachable)|unknown domain|no such domain|name or service not known|nxdomain|unrouteable (mail )?domain|no (valid )?(mx|a) record|bad destination system|domain (is )?(invalid|not valid)|invalid domain|illegal (host|domain)|dns lookup fail|non-existent (domain|host)|(?<![@\w.-])[a-z0-9-]+(\.[a-z0-9-]+)+\.? does not exist/i,
  ],
  [
    "address",
    /user(name)? (is )?unknown|unknown (user|recipient|mailbox|address|local part|account)|no such (user|mailbox|recipient|address|account|local user|person|list)|(user|mailbox|recipient|address|account|addressee)( name)? (does not|doesn'?t|did not) exist|(user|mailbox|recipient|address|account)( is)? not (found|known|exist|recogni[sz]ed|listed|valid)|(invalid|bad|unknown|non-?existent) (recipient|mailbox|user|address|e-?mail address|destination mailbox)|mailbox (unavailable|not available)|no mailbox here|not a valid (mailbox|user|recipient)|recipnotfound|name is not recogni[sz]ed|couldn'?t be found|could not be found|address (is )?not (valid|found)|unrouteable address|undeliverable address|no longer exists|is not a known user|user not local|unknown or illegal alias|not our customer|address lookup failed|doesn'?t have an? [\w.-]+ account|recipient address rejected: access denied|recipient address rejected\.?\s*$|not listed in|(invalid|unknown) (final delivery )?user ?id|@[\w.-]+>? does not exist|no valid recipients?/im,
  ],
  ["mailer", /command output|procmail|pipe to |mailer error|local delivery failed/i],
  [
    "refused",
    /spam|blacklist|blocklist|block list|black list|policy|dmarc|\bspf\b|dkim|reverse dns|\bptr\b|\brbl\b|reputation|virus|malware|content (rejected|filter)|message (is )?too (big|large)|size limit|relay(ing)? (access )?denied|not permitted to relay|too many|timed? ?out|expired|connection refused|\brefused\b|unauthenticated|authentication required|\btls\b|try again later|not (yet )?been delivered/i,
  ],
];

export function wordingOf(text: string): Wording {
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

export function recipient(e: Evidence): BounceRecipient {
  const permanent = permanence(e);
  return {
    address: e.address,
    localPartOnly: !e.address.includes("@"),
    status: e.status,
    replyCode: e.replyCode,
    reason: clip(squash(e.reason)),
    permanent,
    hardBounce: isHardBounce(e, permanent),
  };
}
