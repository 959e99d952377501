import { detectAutoReply } from "./auto-reply.js";
import { parseMail } from "./parse.js";
import type { InboundMessage } from "./types.js";
import { rawBodyText, header } from "./bounce/util.js";
import { readParts } from "./bounce/report-parts.js";
import { fromFeedbackReport, fromComplaint, fromDeliveryStatus, fromSes } from "./bounce/dsn.js";
import { isMachine, signalsOf, fromText } from "./bounce/text.js";
import { returnedMessage } from "./bounce/returned.js";

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
