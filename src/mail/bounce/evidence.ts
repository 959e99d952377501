import type { InboundMessage } from "../types.js";
import { envelopeSender, headerValue, ourMessageIdsIn } from "../headers.js";
import { isMailSystemAddress, namesMailSystem } from "../addresses.js";
import type { ReportParts } from "./report-parts.js";

/*
 * Mail-system evidence: what shows that a mail system, not a person or an application, wrote a
 * report about a mail we sent. The wording of a report is no evidence (a monitoring alert says
 * "expired" and "rejected", a shop's form "not delivered"); these are:
 *  - the envelope: the null reverse-path "<>" that RFC 5321 §4.5.5 requires of delivery reports,
 *    or MAILER-DAEMON/postmaster as envelope sender (Return-Path, written by the delivering server);
 *  - From MAILER-DAEMON or postmaster (RFC 5321 §4.5.1), as MTAs sign their reports;
 *  - the machine-readable parts of a report: message/delivery-status (RFC 3464),
 *    message/global-delivery-status (RFC 6533), message/feedback-report (RFC 5965);
 *  - the returned message: a message/rfc822 (or global, partial) or text/rfc822-headers part;
 *  - one of our own Message-IDs quoted: only a copy of a mail we sent carries one.
 * A provider's own machine format (Amazon SES JSON, Apple Mail's unsubscribe header) is evidence
 * for that format alone; its reader states it.
 */

/** The evidence in a mail, one line each for the trail; [] when there is none. */
export function mailSystemEvidence(msg: InboundMessage, parts: ReportParts, ourIds: string[]): string[] {
  const evidence: string[] = [];
  const envelope = envelopeSender(msg);
  if (envelope === "") evidence.push("null envelope sender (Return-Path: <>)");
  else if (envelope !== null && isMailSystemAddress(envelope)) evidence.push(`envelope sender ${envelope} is the mail system`);
  const from = headerValue(msg, "from");
  if (namesMailSystem(from)) evidence.push(`From ${from} is the mail system`);
  if (parts.deliveryStatus.length > 0) evidence.push("a message/delivery-status part");
  if (parts.feedbackReport.length > 0) evidence.push("a message/feedback-report part");
  if (parts.returned.length > 0) evidence.push(`the returned message (${[...new Set(parts.returnedTypes)].join(", ")} part)`);
  if (ourIds.length > 0) evidence.push(`quotes our Message-ID <${ourIds[0]}>`);
  return evidence;
}

/**
 * Our Message-IDs anywhere in the report's body: in the raw text (a copy quoted inline, or headers
 * after "--- Below this line is a copy of the message") and in the decoded returned parts (a
 * base64 message/rfc822 part hides them from the raw text).
 */
export function ourIdsIn(rawBody: string, parts: ReportParts, messageIdDomain: string | undefined): string[] {
  if (!messageIdDomain) return [];
  const texts = [rawBody, ...parts.returned.map((b) => b.toString("utf8"))];
  return [...new Set(texts.flatMap((t) => ourMessageIdsIn(t, messageIdDomain)))];
}
