import type { BounceReport } from "./bounce.js";
import type { InboundMessage } from "./types.js";

/*
 * Classification needed by the core flow: is this our own mail coming back (a loop), and is it
 * automatic, so that it must never trigger an automatic answer (RFC 3834 §2)? The hygiene work
 * (bounces, out-of-office patterns, rate limits) extends this file; it stays pure.
 */

export const LOOP_HEADER = "x-ticketpost-loop";

/**
 * request: a person wrote (a new request or a reply); loop: our own mail came back; bounce: a
 * delivery failure or delay report; report: another machine report (a success DSN, an abuse
 * report) that is recorded and otherwise left alone.
 */
export type MailKind = "request" | "loop" | "bounce" | "report";

/** What the detectors found, computed before classification (bounce.ts, auto-reply.ts). */
export interface Signals {
  bounce?: BounceReport | null;
  autoReply?: { automatic: boolean; kind: string; reasons: string[] } | null;
}

export interface Classification {
  kind: MailKind;
  /** True when the mail was sent by a machine; it gets no acknowledgement. */
  automatic: boolean;
  reasons: string[];
}

export interface ClassifyContext {
  messageIdDomain: string;
  /** Our own addresses (support address and aliases), lower-case. */
  ownAddresses: string[];
}

function first(msg: InboundMessage, name: string): string | null {
  return msg.headers[name]?.[0]?.trim() ?? null;
}

export function classifyMail(msg: InboundMessage, ctx: ClassifyContext, signals: Signals = {}): Classification {
  const reasons: string[] = [];
  const loopHeader = first(msg, LOOP_HEADER);
  if (loopHeader !== null) {
    return { kind: "loop", automatic: true, reasons: [`carries our ${LOOP_HEADER} header (${loopHeader})`] };
  }
  const domain = ctx.messageIdDomain.toLowerCase();
  if (msg.messageId && msg.messageId.toLowerCase().startsWith("ticketpost.") && msg.messageId.toLowerCase().endsWith(`@${domain}`)) {
    return { kind: "loop", automatic: true, reasons: [`Message-ID ${msg.messageId} is one we generated`] };
  }
  if (msg.from && ctx.ownAddresses.includes(msg.from.address)) {
    return { kind: "loop", automatic: true, reasons: [`sender ${msg.from.address} is our own address`] };
  }

  const b = signals.bounce;
  if (b) {
    const kind = b.kind === "failure" || b.kind === "delayed" ? "bounce" : "report";
    return { kind, automatic: true, reasons: [`${b.kind} report (${b.format})`, ...b.reasons] };
  }
  if (signals.autoReply) {
    const a = signals.autoReply;
    return { kind: "request", automatic: a.automatic, reasons: a.reasons.length ? a.reasons : ["no sign of an automatic sender"] };
  }

  let automatic = false;
  const autoSubmitted = first(msg, "auto-submitted");
  if (autoSubmitted !== null && !/^no\b/i.test(autoSubmitted)) {
    automatic = true;
    reasons.push(`Auto-Submitted: ${autoSubmitted}`);
  }
  const precedence = first(msg, "precedence");
  if (precedence !== null && /^(bulk|junk|list|auto_reply)\b/i.test(precedence)) {
    automatic = true;
    reasons.push(`Precedence: ${precedence}`);
  }
  if (!automatic) reasons.push("no sign of an automatic sender");
  return { kind: "request", automatic, reasons };
}
