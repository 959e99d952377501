import { detectAutoReply } from "../auto-reply.js";
import { contentTypeOf, headerValue } from "../headers.js";
import { parseMail } from "../parse.js";
import { normalizeLineEndings } from "../raw.js";
import type { InboundMessage } from "../types.js";
import type { BounceContext, BounceReport } from "./types.js";
import { rawBodyText } from "./util.js";
import { readParts, type ReportParts } from "./report-parts.js";
import { fromFeedbackReport, fromComplaint, fromDeliveryStatus, fromSes } from "./dsn.js";
import { isMachine, signalsOf, fromText } from "./text.js";
import { returnedMessage, type Returned } from "./returned.js";
import { mailSystemEvidence, ourIdsIn } from "./evidence.js";

export type { BounceContext, BounceFormat, BounceKind, BounceRecipient, BounceReport } from "./types.js";

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
 * Reading is not believing: every report carries the mail-system evidence it rests on
 * (BounceReport.evidence, see evidence.ts). A mail that reads like a report without any is
 * returned with `evidence: []`, and classifyMail keeps it a request.
 *
 * mailparser does the MIME work. The DSN and ARF fields are RFC 822-style header fields in a part
 * body, which mailparser hands over as text; splitting those is the only field parsing done here.
 * The rest is reading prose, with the corpus in ../shared/corpora/bounces as the judge (see
 * test/mail/bounce-corpus.test.ts and its accepted differences).
 */

/**
 * When the boundary in the header matches none in the body (44 of the corpus mails have MIME
 * defects, some from exactly this), mailparser finds no part and the text is empty: the raw body
 * is then all there is to read.
 */
function withReadableText(msg: InboundMessage, raw: Buffer): InboundMessage {
  return msg.text.trim() !== "" ? msg : { ...msg, text: rawBodyText(raw) };
}

async function nestedReport(content: Buffer, ctx: BounceContext): Promise<BounceReport | null> {
  try {
    const report = await detect(content, await parseMail(content), ctx, 1);
    return report && (report.kind === "failure" || report.kind === "delayed") ? report : null;
  } catch {
    return null;
  }
}

/**
 * Is this mail a delivery report or complaint about a mail we sent? Null for ordinary mail and for
 * out-of-office replies (see detectAutoReply for those). A report's `evidence` is empty when the
 * mail only reads like one (see BounceReport.evidence); its recipients never include an address
 * `ctx.isOwn` calls ours. `raw` may have any line ends (normalised here, RFC 5322 §2.1).
 */
export async function detectBounce(raw: Buffer, parsedMsg: InboundMessage, ctx: BounceContext = {}): Promise<BounceReport | null> {
  return detect(normalizeLineEndings(raw), parsedMsg, ctx, 0);
}

/** Hotmail's JMRP complaints and Apple Mail's unsubscribe requests come from no mail system. */
const mayBeComplaint = (msg: InboundMessage) =>
  /complaint about message/i.test(msg.subject) || headerValue(msg, "x-apple-unsubscribe") !== null;

async function detect(raw: Buffer, parsedMsg: InboundMessage, ctx: BounceContext, depth: number): Promise<BounceReport | null> {
  const msg = withReadableText(parsedMsg, raw);
  const signals = signalsOf(msg);
  const machine = isMachine(signals) || signals.failedHeader.length > 0;
  // Most of what a helpdesk gets is a person's mail: it is not parsed a second time.
  if (!machine && contentTypeOf(msg).type !== "multipart/report" && !mayBeComplaint(msg)) return null;

  const isOwn = (address: string) => ctx.isOwn?.(address) === true;
  const parts = await readParts(raw);
  const returned = await returnedMessage(parts, msg, raw);
  const ourIds = ourIdsIn(rawBodyText(raw), parts, ctx.messageIdDomain);
  const evidence = mailSystemEvidence(msg, parts, ourIds);
  const originalMessageId = returned.messageId ?? (parts.contentType === "multipart/report" ? msg.inReplyTo : null) ?? ourIds[0] ?? null;
  const trusted = (report: BounceReport): BounceReport => ({
    ...report,
    recipients: report.recipients.filter((r) => !isOwn(r.address)),
    evidence: [...evidence, ...report.evidence],
  });

  const arf =
    fromFeedbackReport(parts, msg, returned.recipients) ?? fromComplaint(msg, returned.recipients, parts.returned) ?? fromSes(msg);
  if (arf) return trusted({ ...arf, originalMessageId: arf.originalMessageId ?? originalMessageId });

  // A DSN part is trusted on its own; DSN fields pasted into a text body only from a mail system.
  const dsn = parts.deliveryStatus.length > 0 || machine ? fromDeliveryStatus(parts, msg, isOwn) : null;
  if (dsn)
    return trusted({
      kind: dsn.kind,
      format: "dsn",
      recipients: dsn.recipients,
      originalMessageId: originalMessageId ?? msg.inReplyTo,
      reasons: dsn.reasons,
      evidence: [],
    });

  const prose = await proseReport({ msg, raw, signals, parts, returned, isOwn }, ctx, depth);
  if (!prose) return null;
  const fallback = signals.failedHeader.length > 0 || signals.daemonSender ? msg.inReplyTo : null;
  return trusted({ ...prose, originalMessageId: prose.originalMessageId ?? originalMessageId ?? fallback });
}

interface Reading {
  msg: InboundMessage;
  raw: Buffer;
  signals: ReturnType<typeof signalsOf>;
  parts: ReportParts;
  returned: Returned;
  isOwn: (address: string) => boolean;
}

/** A report in the text MTAs write for people; its originalMessageId only when a nested report gives one. */
async function proseReport(r: Reading, ctx: BounceContext, depth: number): Promise<BounceReport | null> {
  const { msg, parts, returned } = r;
  // An out-of-office answer may well say "not delivered" or "no longer with us", a challenge "will
  // not be delivered until you confirm"; both come from the null sender, and neither is a bounce.
  const answer = detectAutoReply(msg).kind;
  if (answer === "auto-reply" || answer === "challenge") return null;
  const own = new Set<string>([...(msg.from ? [msg.from.address] : []), ...msg.replyTo.map((a) => a.address)]);
  // A bounce goes to the original sender, so its To names the sender too.
  const senders = new Set<string>([...msg.to.map((a) => a.address), ...msg.cc.map((a) => a.address), ...returned.senders]);
  const excluded = (address: string) => own.has(address) || r.isOwn(address);
  const text = fromText(msg, { signals: r.signals, excluded, ours: r.isOwn, senders, returnedTo: returned.recipients }, rawBodyText(r.raw));
  if (!text) return null;
  const report: BounceReport = {
    kind: text.kind,
    format: "heuristic",
    recipients: text.recipients,
    originalMessageId: null,
    reasons: text.reasons,
    evidence: [],
  };
  // A relay passing on a bounce it got names nobody itself: the recipients and the message that
  // bounced are those of the inner report.
  const nested = !text.named && depth === 0 && parts.returned.length > 0 ? await nestedReport(parts.returned[0], ctx) : null;
  if (nested === null || nested.recipients.length === 0) return report;
  return {
    ...report,
    recipients: nested.recipients,
    originalMessageId: nested.originalMessageId,
    reasons: [...report.reasons, "the returned message is itself a bounce: its recipients"],
  };
}
