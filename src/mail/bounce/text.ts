import { addressesIn, isMailSystemName, isNoReplyAddress, isReportMachineAddress, namesMailSystem, personInReplyTo } from "../addresses.js";
import { bareLocalParts, localPartText, resolveLocalPart } from "./local-parts.js";
import type { InboundMessage } from "../types.js";
import type { BounceRecipient } from "./types.js";
import { unique } from "./util.js";
import { envelopeSender, headerValue, headerValues } from "../headers.js";
import { squash, STATUS_RE, REPLY_STATUS_RE, REPLY_RE, findStatus, findReplyCode, wordingOf, recipient } from "./wording.js";
import type { Outcome } from "./dsn.js";

/* ------------------------------------------------------------------------------------------------
 * Bounces without machine-readable parts: the text MTAs write for people
 * --------------------------------------------------------------------------------------------- */

const FAILURE_WORDS =
  /could ?n[o']t be (delivered|sent)|(may|might) not exist|permission to post|can(no|')t send|was aborted|malformed (recipient )?address|fatal errors?|(account|mailbox)( is| has been)? disabled|cannot be delivered|can ?not be delivered|undeliver|not (be )?delivered|delivery (to the following recipients? )?(has )?failed|failed permanently|permanent (fatal )?error|unable to deliver|(wasn'?t|was not|were not|not) able to deliver|returned to sender|did not reach|delivery (failure|problem)|failed recipient|address(es)? failed|rejected|user unknown|unknown user|host unknown|not a valid user|returned mail\b|no such (user|mailbox|recipient)|mailbox (unavailable|is full|full)|does not exist|not delivered|has not been delivered|could not deliver|error (occurred )?(while|during) (trying to )?deliver|non-?delivery|bounced|failed to deliver|giving up|gave up|given up|delivery (attempts? )?(will continue|has been delayed|delayed)|delivery to the following|permanent failure|temporary failure|could not be forwarded|message (was )?(rejected|refused|blocked)|error delivering|unable to (relay|route)|retry time|retry timeout|expired|has been delayed|not yet been delivered|delivery incomplete|message could not|mail could not|failed to send|konnte nicht (zugestellt|ausgeliefert)|nicht zugestellt|unzustellbar|zustellung (ist )?fehlgeschlagen|n'a pas pu (ê|e)tre (remis|distribu|livr)|non remis|impossible de (remettre|distribuer)|no (se )?(pudo|puede) (ser )?entregar|non è stato possibile|не (может быть|удалось|было) доставлен|не доставлен|недостав|届きません|送信できませんでした|配送できません|配信できません|宛先不明|存在しません|送信に失敗|不達|受信拒否/i;

const DELAY_WORDS =
  /delay(ed)?\b|will (continue|keep) (to )?(try|retry|attempt)|will be retried|still (be )?trying|not yet been delivered|has not been delivered yet|warning: message|is still undelivered|will try (again|to deliver)|deferred/i;
const GAVE_UP_WORDS =
  /give up|gave up|given up|giving up|permanent|could ?n[o']t be delivered|failed permanently|undeliverable|has failed|was not delivered|not been delivered|expired|could not deliver|returned/i;

// Where the copy of the returned message starts in the text.
const RETURNED_MARKERS = [
  /^[ \t]*-+ ?(This is a copy of|Below this line is a copy of|Original message|Undelivered message|Returned message|Unsent message|The original message|Original message headers|Message headers follow|Headers? of the (original|returned) message)/im,
  /^[ \t]*(Message headers follow|Original message follows|Original message headers|The original message (headers|follows)|Original message:|Below is a copy of the original message|The header of the original message is following|------ original message|Attached is a copy of the message|The message header is attached)/im,
  /^[ \t]*(Return-Path|Received|DKIM-Signature|X-Received|ARC-Seal|Delivered-To|Authentication-Results|Message-ID|X-Google-Smtp-Source|Return-path):[ \t]*\S/m,
];

export function reportRegion(text: string): string {
  let end = text.length;
  for (const re of RETURNED_MARKERS) {
    const m = re.exec(text);
    if (m && m.index > 0 && m.index < end) end = m.index;
  }
  return text.slice(0, end);
}

export const ADDRESS_RE =
  /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;
// The address in these places is not a recipient: the sender, a message id, a link.
const NOT_RECIPIENT_BEFORE =
  /(mail from|envelope-from|envelope from|return-path|sender|reply-to|message-id|in-reply-to|references|message id|^from|^\s*from|\bid|mailto|generated (from|by)|[=/?&])\s*[:=]?\s*[<("']?\s*$/i;
const STRONG_BEFORE =
  /(^\s*[<("'[]?\s*|^\s*[45]\d\d[ -]<?|rcpt to:?\s*<?|recipient:?\s*<?|recipients?:\s*<?|\bto:?\s*<|deliver(ing|ed)? (your (mail|message) )?to:?\s*<?|address:?\s*<?|mailbox:?\s*<?|user:?\s*<?|original-recipient:[^;]*;\s*<?|final-recipient:[^;]*;\s*<?|an?\s*)$/i;

interface Occurrence {
  address: string;
  index: number;
  strong: boolean;
}

function occurrences(region: string, excluded: (address: string) => boolean): Occurrence[] {
  const out: Occurrence[] = [];
  for (const m of region.matchAll(ADDRESS_RE)) {
    const address = m[0].replace(/^[.'`{|}~-]+|\.+$/g, "").toLowerCase();
    const index = m.index ?? 0;
    const lineStart = region.lastIndexOf("\n", index - 1) + 1;
    const before = region.slice(lineStart, index);
    if (excluded(address) || NOT_RECIPIENT_BEFORE.test(before)) continue;
    out.push({ address, index, strong: STRONG_BEFORE.test(before) });
  }
  return out;
}

function chooseRecipients(occ: Occurrence[], failedHeader: string[]): string[] {
  if (failedHeader.length > 0) return failedHeader;
  const strong = unique(occ.filter((o) => o.strong).map((o) => o.address));
  const pool = strong.length > 0 ? strong : unique(occ.map((o) => o.address));
  // Not "mail@" or "root@": people and shared mailboxes write from those.
  const people = pool.filter((a) => !isReportMachineAddress(a));
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
  const end = lines.findIndex(
    (l, i) => i > 0 && first !== null && replyOf(l) !== null && replyOf(l) !== first && replyOf(lines[0]) !== null,
  );
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

export function codeLine(text: string): string | null {
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
  const says = (l: string) =>
    /[A-Za-z\u0080-\uffff]{3}/.test(l) &&
    !isSeparator(l) &&
    !isHeaderLike(l) &&
    !isAddressOnly(l) &&
    !/^\s*\(?(ultimately )?generated (from|by)/i.test(l);
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
export const isMachine = (s: Signals) => s.daemonSender || s.noReplySender || s.nullSender || s.autoSubmitted;

export function signalsOf(msg: InboundMessage): Signals {
  const address = msg.from?.address ?? "";
  return {
    // A form that sends as no-reply@ with the visitor in Reply-To relays a person's words.
    noReplySender: isNoReplyAddress(address) && personInReplyTo(msg) === null,
    // "MAILER-DAEMON" without a domain and "<>" are no addresses parse keeps: read the header too.
    daemonSender: isReportMachineAddress(address) || isMailSystemName(msg.from?.name) || namesMailSystem(headerValue(msg, "from")),
    nullSender: envelopeSender(msg) === "",
    failedHeader: unique(headerValues(msg, "x-failed-recipients").flatMap(addressesIn)),
    autoSubmitted: /^auto-(generated|replied)/i.test(headerValue(msg, "auto-submitted") ?? ""),
  };
}

interface TextContext {
  signals: Signals;
  /** Never recipients: the report's own From and Reply-To, and our own addresses. */
  excluded: (address: string) => boolean;
  /** Our own addresses: not even X-Failed-Recipients makes one of them a recipient. */
  ours: (address: string) => boolean;
  /** The original sender (the report's To, the returned message's From): recipients only if nobody else is named. */
  senders: Set<string>;
  /** The returned message's To and Cc: the recipients when the report names none. */
  returnedTo: string[];
}

/**
 * named: the report names its recipients by address (else they are local parts it names, resolved
 * where the returned message allows, or the returned message's To and Cc).
 */
export function fromText(
  msg: InboundMessage,
  ctx: TextContext,
  rawBody: string,
): { kind: Outcome; recipients: BounceRecipient[]; reasons: string[]; named: boolean } | null {
  const { signals } = ctx;
  const region = reportRegion(msg.text);
  // qmail's "wasn't able to deliver" reaches us with typographic apostrophes, too.
  const plain = (t: string) => t.replace(/[\u2018\u2019]/g, "'");
  const failure = FAILURE_WORDS.exec(plain(region)) ?? FAILURE_WORDS.exec(plain(msg.subject));
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
  if (!named) found = unnamed(region, ctx);
  const recipients = found.map(({ address, own: segment, region: where }) => {
    const own = story(segment);
    const status = findStatus(own) ?? findStatus(where);
    const replyCode = findReplyCode(own, true) ?? findReplyCode(where, true) ?? findReplyCode(own);
    const reason = explainingLine(own, where);
    return recipient({
      address,
      status,
      replyCode,
      reason,
      context: own,
      general: delayed ? "temporary" : where,
      alone: found.length === 1,
      final: !delayed,
    });
  });
  return { kind: delayed ? "delayed" : "failure", recipients, reasons: describe(msg, signals, failure, code), named };
}

/** Recipients of a report that names no address: the local parts it names, else the returned message's To and Cc. */
function unnamed(region: string, ctx: TextContext): Array<{ address: string; own: string; region: string }> {
  const locals = bareLocalParts(region);
  if (locals.length > 0) {
    const returnedTo = ctx.returnedTo.filter((a) => !ctx.excluded(a));
    return locals.map((local) => ({ address: resolveLocalPart(local, returnedTo), own: localPartText(region, local), region }));
  }
  return unique(ctx.returnedTo).map((address) => ({ address, own: "", region }));
}

function describe(msg: InboundMessage, signals: Signals, failure: RegExpExecArray | null, code: string | null): string[] {
  const reasons: string[] = [];
  if (signals.failedHeader.length > 0) reasons.push(`X-Failed-Recipients: ${signals.failedHeader.join(", ")}`);
  if (signals.daemonSender) reasons.push(`sender ${msg.from?.address ?? "(none)"} is a mail system`);
  if (signals.noReplySender) reasons.push(`sender ${msg.from?.address} is a no-reply address`);
  if (signals.nullSender) reasons.push("empty envelope sender (Return-Path: <>)");
  if (signals.autoSubmitted) reasons.push(`Auto-Submitted: ${headerValue(msg, "auto-submitted")}`);
  if (failure) reasons.push(`text says "${failure[0]}"`);
  if (code) reasons.push(`text carries SMTP code ${code}`);
  return reasons;
}

function textRecipients(region: string, ctx: TextContext): Array<{ address: string; own: string; region: string }> {
  const all = occurrences(region, ctx.excluded);
  const others = all.filter((o) => !ctx.senders.has(o.address));
  const occ = others.length > 0 ? others : all;
  // Nobody named: Verizon and others just return the message (it failed for whom it was sent to).
  const addresses = chooseRecipients(
    occ,
    ctx.signals.failedHeader.filter((a) => !ctx.ours(a)),
  );
  return addresses.map((address) => ({ address, own: recipientText(region, occ, address), region }));
}
