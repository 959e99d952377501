import { detectAutoReply, envelopeSender } from "./auto-reply.js";
import type { BounceReport } from "./bounce.js";
import type { InboundMessage } from "./types.js";

/*
 * What kind of mail this is: our own mail coming back (a loop), a delivery or abuse report, or a
 * request, and whether it is automatic, so that it never triggers an automatic answer (RFC 3834
 * §2). The automatic signs live in auto-reply.ts, the report parsing in bounce.ts; this stays pure.
 */

export const LOOP_HEADER = "x-ticketpost-loop";

/**
 * request: a person wrote (a new request or a reply); loop: our own mail came back; bounce: a
 * delivery failure or delay report; report: another machine report (a success DSN, an abuse
 * report) that is recorded and otherwise left alone.
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
  reasons: string[];
}

export interface ClassifyContext {
  messageIdDomain: string;
  /** Is this one of our own addresses (support, departments, their plus-forms)? */
  isOwn(address: string): boolean;
}

function first(msg: InboundMessage, name: string): string | null {
  return msg.headers[name]?.[0]?.trim() ?? null;
}

export function classifyMail(msg: InboundMessage, ctx: ClassifyContext, signals: Signals = {}): Classification {
  const loopHeader = first(msg, LOOP_HEADER);
  if (loopHeader !== null) {
    return { kind: "loop", automatic: true, reasons: [`carries our ${LOOP_HEADER} header (${loopHeader})`] };
  }
  const domain = ctx.messageIdDomain.toLowerCase();
  if (msg.messageId && msg.messageId.toLowerCase().startsWith("ticketpost.") && msg.messageId.toLowerCase().endsWith(`@${domain}`)) {
    return { kind: "loop", automatic: true, reasons: [`Message-ID ${msg.messageId} is one we generated`] };
  }
  if (msg.from && ctx.isOwn(msg.from.address)) {
    return { kind: "loop", automatic: true, reasons: [`sender ${msg.from.address} is our own address`] };
  }

  const b = signals.bounce;
  if (b) {
    const kind = b.kind === "failure" || b.kind === "delayed" ? "bounce" : "report";
    return { kind, automatic: true, reasons: [`${b.kind} report (${b.format})`, ...b.reasons] };
  }
  const auto = detectAutoReply(msg, envelopeSender(msg));
  return { kind: "request", automatic: auto.automatic, reasons: auto.reasons };
}
