import { simpleParser } from "mailparser";
import { addressesIn } from "../addresses.js";
import type { InboundMessage } from "../types.js";
import { rawBodyText, reportedMessageId } from "./util.js";
import type { ReportParts } from "./report-parts.js";
import { squash } from "./wording.js";
import { reportRegion } from "./text.js";

/* ------------------------------------------------------------------------------------------------
 * The returned message: its Message-ID and its sender
 * --------------------------------------------------------------------------------------------- */

export interface Returned {
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

export async function returnedMessage(parts: ReportParts, msg: InboundMessage, raw: Buffer): Promise<Returned> {
  for (const content of parts.returned) {
    try {
      const p = await simpleParser(content, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
      const text = content.toString("utf8");
      const messageId = reportedMessageId(p.messageId) ?? reportedMessageId(quotedHeader(text, "message-id"));
      const one = (v: unknown) =>
        v && typeof v === "object" && "value" in v
          ? (v as { value: Array<{ address?: string }> }).value.map((a) => (a.address ?? "").toLowerCase())
          : [];
      const senders = [
        ...one(p.from),
        ...one(p.replyTo),
        ...addressesIn(quotedHeader(text, "return-path")),
        ...addressesIn(quotedHeader(text, "sender")),
      ].filter((a) => a.includes("@"));
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
    const messageId = reportedMessageId(quotedHeader(text, "message-id"));
    const senders = [
      ...addressesIn(quotedHeader(text, "from")),
      ...addressesIn(quotedHeader(text, "return-path")),
      ...addressesIn(quotedHeader(text, "sender")),
    ];
    if (messageId || senders.length > 0)
      return { messageId, senders, recipients: [...addressesIn(quotedHeader(text, "to")), ...addressesIn(quotedHeader(text, "cc"))] };
  }
  return { messageId: null, senders: [], recipients: [] };
}
