export interface MailAddress {
  /** Lower-cased, as compared everywhere. */
  address: string;
  name: string | null;
}

export interface InboundAttachment {
  /** As sent by the client (unsafe: never use as a path; files are stored by hash). */
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  inline: boolean;
  /** The bytes, unless they were streamed straight to the blob store (big mails). */
  content?: Buffer;
}

/** One parsed mail, plain data: what every stage after parse works on. */
export interface InboundMessage {
  /** Message-ID without angle brackets, or null when the mail has none. */
  messageId: string | null;
  /** What duplicates are recognised by: the Message-ID, or a hash of the bytes when missing. */
  dedupKey: string;
  inReplyTo: string | null;
  references: string[];
  subject: string;
  from: MailAddress | null;
  replyTo: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  /** Delivered-To and X-Original-To: the address the mail really arrived at. */
  deliveredTo: string[];
  date: Date | null;
  /** The plain-text body (HTML-only mails converted to text). */
  text: string;
  attachments: InboundAttachment[];
  /** Header values by lower-case name, as classify needs them. */
  headers: Record<string, string[]>;
  rawSize: number;
  rawSha256: string;
  /**
   * Content identity (hex SHA-256) over what the sender wrote: From, To, Cc, Reply-To, Subject,
   * Date, In-Reply-To, References, the decoded text and the attachments' hashes. Trace and
   * delivery headers (Received, Delivered-To, Return-Path, Authentication-Results, ARC-*, a
   * relay's DKIM-Signature, transfer encodings) do not change it, so one mail delivered twice has
   * one fingerprint, and a different mail that reuses a Message-ID has another.
   */
  fingerprint: string;
  /** What parse had to do to read the mail (charset detected, container opened, …), for the trail. */
  notes: string[];
}
