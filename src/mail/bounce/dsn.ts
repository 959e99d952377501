import type { InboundMessage } from "../types.js";
import type { BounceRecipient, BounceReport } from "./types.js";
import { reportedMessageId, unique } from "./util.js";
import { headerValue } from "../headers.js";
import { type ReportParts, type Fields, fieldBlocks, field, typedAddress, typedText } from "./report-parts.js";
import { squash, STATUS_RE, vagueness, findStatus, findReplyCode, betterStatus, recipient } from "./wording.js";
import { reportRegion, ADDRESS_RE, codeLine } from "./text.js";

/* ------------------------------------------------------------------------------------------------
 * ARF: abuse and complaint reports (RFC 5965), and the two common non-ARF complaint forms
 * --------------------------------------------------------------------------------------------- */

export function fromFeedbackReport(parts: ReportParts, msg: InboundMessage, returnedTo: string[]): BounceReport | null {
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
    evidence: [],
  };
}

function abuseRecipient(address: string, feedbackType: string): BounceRecipient {
  return {
    address,
    localPartOnly: !address.includes("@"),
    status: null,
    replyCode: null,
    reason: feedbackType,
    permanent: null,
    hardBounce: false,
  };
}

/** Hotmail's JMRP complaints and Apple Mail's one-click unsubscribe are not ARF but mean the same. */
export function fromComplaint(msg: InboundMessage, returnedTo: string[], returned: Buffer[] = []): BounceReport | null {
  // Hotmail names the complainant in a header of the returned copy, which mailparser may show inline or not.
  const texts = [msg.text, ...returned.map((b) => b.toString("utf8"))];
  const hotmailRecipient = texts.map((t) => /X-HmXmrOriginalRecipient:\s*<?([^\s<>]+@[^\s<>]+)>?/i.exec(t)).find((m) => m !== null) ?? null;
  const fromHotmail = msg.from !== null && /@(hotmail|outlook|live|msn)\.com$/.test(msg.from.address);
  if (fromHotmail && /complaint about message/i.test(msg.subject)) {
    const addresses = hotmailRecipient ? [hotmailRecipient[1].toLowerCase()] : returnedTo;
    return {
      kind: "abuse",
      format: "heuristic",
      recipients: addresses.map((a) => abuseRecipient(a, "abuse")),
      originalMessageId: null,
      reasons: [`complaint report from ${msg.from?.address} (Hotmail JMRP)`],
      evidence: [],
    };
  }
  if (/^true$/i.test(headerValue(msg, "x-apple-unsubscribe") ?? "")) {
    const addresses = msg.to.map((a) => a.address);
    return {
      kind: "abuse",
      format: "heuristic",
      recipients: addresses.map((a) => abuseRecipient(a, "opt-out")),
      originalMessageId: null,
      reasons: ["X-Apple-Unsubscribe: true (Apple Mail unsubscribe request)"],
      evidence: ["X-Apple-Unsubscribe: true (a request Apple Mail generates itself)"],
    };
  }
  return null;
}

/* ------------------------------------------------------------------------------------------------
 * DSN: message/delivery-status (RFC 3464)
 * --------------------------------------------------------------------------------------------- */

export type Outcome = "failure" | "delayed" | "delivered";

function outcomeOf(action: string | null, status: string | null): Outcome {
  if (action === "delayed") return "delayed";
  if (action === "delivered" || action === "relayed" || action === "expanded") return "delivered";
  if (action === "failed") return "failure";
  return status?.startsWith("2") ? "delivered" : status?.startsWith("4") && !action ? "delayed" : "failure";
}

/**
 * The recipient a DSN block is about. Original-Recipient (RFC 3464 §2.3.1) is the address we wrote
 * to, as we gave it in ORCPT; Final-Recipient is where the last MTA tried (after aliases and
 * forwarding). Ours wins when it names an address; then Final-Recipient, then X-Actual-Recipient;
 * a bare local part only when no field names an address.
 */
function recipientOf(b: Fields): string | null {
  const named = ["original-recipient", "final-recipient", "x-actual-recipient"].map((name) => typedAddress(field(b, name)));
  return named.find((a) => a !== null && a.includes("@")) ?? named.find((a) => a !== null) ?? null;
}

/** Recipients of the DSN fields, with the outcome each had. Empty when there are no recipient fields. */
function dsnRecipients(blocks: Fields[], humanText: string): Array<{ outcome: Outcome; recipient: BounceRecipient }> {
  const out: Array<{ outcome: Outcome; recipient: BounceRecipient }> = [];
  const alone = blocks.filter((b) => b.has("final-recipient") || b.has("original-recipient")).length === 1;
  for (const b of blocks) {
    const address = recipientOf(b);
    if (address === null) continue;
    const final = typedAddress(field(b, "final-recipient"));
    const action =
      field(b, "action")
        ?.toLowerCase()
        .split(/[\s(;]/)[0] ?? null;
    const declared = (() => {
      const m = STATUS_RE.exec(field(b, "status") ?? "");
      return m ? `${m[1]}.${m[2]}.${m[3]}` : null;
    })();
    const diagnostic = typedText(field(b, "diagnostic-code"));
    // OpenSMTPD and others leave the Diagnostic-Code out and say it in the text.
    const human = humanSection(humanText, address) ?? (final ? humanSection(humanText, final) : null) ?? { line: "", section: "" };
    const replyCode = findReplyCode(diagnostic.text) ?? findReplyCode(human.section);
    const reported = betterStatus(declared, findStatus(diagnostic.text), replyCode);
    // The text only fills in where the fields are silent or vague (OpenSMTPD's "Status: 5.0.0").
    const inText = findStatus(human.section);
    const status =
      inText && (!reported || (vagueness(reported) === 2 && vagueness(inText) < 2 && inText[0] === reported[0])) ? inText : reported;
    // "Status: 5.4.4 (Illegal host/domain name found)": Oracle Messaging Server explains in a comment.
    const comment = /\(([^)]*[A-Za-z]{3}[^)]*)\)/.exec(field(b, "status") ?? "")?.[1] ?? "";
    const reason = diagnostic.text || comment || human.line || `Action: ${action ?? "?"}; Status: ${status ?? "?"}`;
    const context = human.section;
    const general = reportRegion(humanText);
    const outcome = outcomeOf(action, status);
    out.push({
      outcome,
      recipient: recipient({
        address,
        status,
        replyCode,
        reason,
        context,
        general,
        alone,
        final: outcome === "failure",
        diagnosticType: diagnostic.type,
      }),
    });
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

export function fromDeliveryStatus(
  parts: ReportParts,
  msg: InboundMessage,
  isOwn: (address: string) => boolean,
): { kind: Outcome; recipients: BounceRecipient[]; reasons: string[] } | null {
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
  const kind: Outcome = found.some((f) => f.outcome === "failure")
    ? "failure"
    : found.some((f) => f.outcome === "delayed")
      ? "delayed"
      : "delivered";
  // A failure report lists the delayed recipients too: neither got the message (permanent says which).
  const recipients = found
    .filter((f) => f.outcome === kind || (kind === "failure" && f.outcome === "delayed"))
    .map((f) => f.recipient)
    .filter((r) => !isOwn(r.address));
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

export function fromSes(msg: InboundMessage): BounceReport | null {
  const n = sesJson(msg.text.trim().startsWith("{") ? msg.text : "");
  const type = (n?.notificationType ?? n?.eventType ?? "").toLowerCase();
  if (!n || !["bounce", "complaint", "delivery"].includes(type)) return null;
  const headerId = n.mail?.headers?.find((h) => h.name?.toLowerCase() === "message-id")?.value ?? n.mail?.commonHeaders?.messageId ?? null;
  const base = {
    format: "dsn" as const,
    originalMessageId: reportedMessageId(headerId),
    reasons: [`Amazon SES ${type} notification (JSON)`],
    evidence: [`an Amazon SES ${type} notification (JSON naming the mail it reports on)`],
  };
  if (type === "complaint") {
    const feedback = n.complaint?.complaintFeedbackType ?? "abuse";
    return {
      ...base,
      kind: "abuse",
      recipients: (n.complaint?.complainedRecipients ?? []).map((r) => abuseRecipient((r.emailAddress ?? "").toLowerCase(), feedback)),
    };
  }
  if (type === "delivery") {
    const response = n.delivery?.smtpResponse ?? "";
    return {
      ...base,
      kind: "delivered",
      recipients: (n.delivery?.recipients ?? []).map((a) =>
        recipient({ address: a.toLowerCase(), status: findStatus(response), replyCode: findReplyCode(response), reason: response }),
      ),
    };
  }
  const transient = /^transient$/i.test(n.bounce?.bounceType ?? "");
  const recipients = (n.bounce?.bouncedRecipients ?? []).map((r) => {
    const diagnostic = typedText(r.diagnosticCode ?? "");
    const status = betterStatus(findStatus(r.status ?? ""), findStatus(diagnostic.text), findReplyCode(diagnostic.text));
    const reason = diagnostic.text || (n.bounce?.bounceType ?? "");
    return recipient({
      address: (r.emailAddress ?? "").toLowerCase(),
      status,
      replyCode: findReplyCode(diagnostic.text),
      reason,
      general: transient ? "temporary" : "",
      final: !transient,
      diagnosticType: diagnostic.type,
    });
  });
  return { ...base, kind: transient && recipients.every((r) => r.permanent !== true) ? "delayed" : "failure", recipients };
}
