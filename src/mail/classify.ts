import { detectAutoReply } from "./auto-reply.js";
import { personInReplyTo } from "./addresses.js";
import type { BounceReport } from "./bounce/index.js";
import { envelopeSender, headerValue, isOurMessageId, LOOP_HEADER } from "./headers.js";
import type { InboundMessage } from "./types.js";

export { LOOP_HEADER } from "./headers.js";

/*
 * What kind of mail this is: our own mail coming back (a loop), a delivery or abuse report, or a
 * request, and whether it is automatic, so that it never triggers an automatic answer (RFC 3834
 * §2). The automatic signs live in auto-reply.ts, the report reading in bounce/; this stays pure.
 *
 * Every mail ends as exactly one kind, and a guess never makes a mail disappear: a loop only by
 * the marks we put on our own mail, a report only with mail-system evidence. Everything else is a
 * request, automatic or not.
 */

/**
 * request: a person wrote (a new request or a reply), or a machine wrote something that is no
 * report of ours (an alert, an out-of-office answer, a challenge); loop: our own mail came back;
 * bounce: a delivery failure or delay report; report: another machine report (a success DSN, an
 * abuse report) that is recorded and otherwise left alone.
 */
export type MailKind = "request" | "loop" | "bounce" | "report";

/** What the bounce detector found (it reads the raw bytes, so it runs before classification). */
export interface Signals {
  bounce?: BounceReport | null;
}

export interface Classification {
  kind: MailKind;
  /** True when the mail was sent by a machine; it gets no acknowledgement. */
  automatic: boolean;
  /** Why, one line each, for the trail; never empty. */
  reasons: string[];
}

export interface ClassifyContext {
  /** The domain of our Message-IDs (config messageIdDomain): a mail with one of ours is our own. */
  messageIdDomain: string;
  /**
   * Is this one of our own addresses (support, departments, their plus-forms)? Only to say so in
   * the reasons: our address in From makes no loop (a web form may send as support@).
   */
  isOwn(address: string): boolean;
}

/** Our own mail, recognised by the marks only we put on it; null when it has none. */
function ownMail(msg: InboundMessage, ctx: ClassifyContext): string | null {
  const loopHeader = headerValue(msg, LOOP_HEADER);
  if (loopHeader !== null) return `carries our ${LOOP_HEADER} header (${loopHeader})`;
  if (isOurMessageId(msg.messageId, ctx.messageIdDomain)) return `Message-ID ${msg.messageId} is one we generated`;
  return null;
}

/** A report is believed only on mail-system evidence; its kind decides bounce or report. */
function asReport(b: BounceReport): Classification {
  const kind = b.kind === "failure" || b.kind === "delayed" ? "bounce" : "report";
  return { kind, automatic: true, reasons: [`${b.kind} report (${b.format})`, ...b.reasons, ...b.evidence.map((e) => `evidence: ${e}`)] };
}

/**
 * The kind of a parsed mail. `signals.bounce` is detectBounce's reading of the same mail (null or
 * absent when it found none). Pure; the message is not changed.
 */
export function classifyMail(msg: InboundMessage, ctx: ClassifyContext, signals: Signals = {}): Classification {
  const own = ownMail(msg, ctx);
  if (own !== null) return { kind: "loop", automatic: true, reasons: [own] };

  const b = signals.bounce;
  if (b && b.evidence.length > 0) return asReport(b);

  const auto = detectAutoReply(msg, envelopeSender(msg));
  const reasons: string[] = [];
  if (msg.from && ctx.isOwn(msg.from.address)) {
    const person = personInReplyTo(msg);
    reasons.push(
      `sender ${msg.from.address} is one of our addresses, but the mail carries none of our marks: not our own mail${person ? `; the request of ${person} (Reply-To)` : ""}`,
    );
  }
  if (b) {
    // A monitoring alert says "expired" and "rejected", a shop's form "not delivered": wording is
    // no evidence, and dropping a request on it would lose the request.
    reasons.push(`reads like a bounce, but no mail-system evidence: kept as a request (${b.reasons.join("; ")})`);
    return { kind: "request", automatic: true, reasons: [...reasons, ...auto.reasons.filter((r) => !/^no sign/.test(r))] };
  }
  return { kind: "request", automatic: auto.automatic, reasons: [...reasons, ...auto.reasons] };
}
