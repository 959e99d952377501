import { createHash } from "node:crypto";
import type { InboundMessage } from "./types.js";

/**
 * The content identity of a mail (see InboundMessage.fingerprint): a SHA-256 over the parsed,
 * decoded fields a sender writes, so that relays re-encoding the body (8bit → quoted-printable) or
 * adding trace headers (Received, Delivered-To, ARC-*, Authentication-Results; RFC 5322 §3.6.7,
 * RFC 5321 §4.4) do not make one mail two. The Message-ID is left out on purpose: identity is the
 * Message-ID *and* the fingerprint, and without a Message-ID the fingerprint alone.
 */
export function contentFingerprint(msg: Omit<InboundMessage, "fingerprint">): string {
  const h = createHash("sha256");
  const field = (name: string, value: string) => h.update(`${name}\u0000${value}\u0001`);
  const list = (xs: Array<{ address: string }>) => xs.map((a) => a.address).join(",");
  field("from", msg.from?.address ?? "");
  field("to", list(msg.to));
  field("cc", list(msg.cc));
  field("reply-to", list(msg.replyTo));
  field("subject", msg.subject.replace(/\s+/g, " ").trim());
  field("date", msg.date && !Number.isNaN(msg.date.getTime()) ? msg.date.toISOString() : "");
  field("in-reply-to", msg.inReplyTo ?? "");
  field("references", msg.references.join(" "));
  // Whitespace is what relays and re-encoders change (line endings, trailing blanks, re-wrapping).
  field("text", msg.text.replace(/\s+/g, " ").trim());
  field(
    "attachments",
    msg.attachments
      .map((a) => a.sha256)
      .sort()
      .join(","),
  );
  return h.digest("hex");
}
