import { bareMessageId } from "../headers.js";

/** The body of a raw mail as text (LF line ends), for reading when MIME parsing found no text; "" without a body. */
export function rawBodyText(raw: Buffer): string {
  const rawText = raw.toString("utf8").replace(/\r\n?/g, "\n");
  const bodyStart = rawText.indexOf("\n\n");
  return bodyStart < 0 ? "" : rawText.slice(bodyStart + 2);
}

/** A Message-ID as a report quotes it, bare; null unless it has the "@" every real one has (RFC 5322 §3.6.4). */
export function reportedMessageId(id: string | null | undefined): string | null {
  const bare = bareMessageId(id);
  return bare !== null && bare.includes("@") ? bare : null;
}

export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
