/*
 * The shapes bounce detection returns. Kept apart from the entry point (index.ts) so that the
 * readers in this folder import them without importing the entry point that imports them.
 */

export type BounceKind = "failure" | "delayed" | "delivered" | "abuse";
export type BounceFormat = "dsn" | "arf" | "heuristic";

export interface BounceRecipient {
  /**
   * The recipient the report is about: an addr-spec, lower-case ("anna@example.org"). When the
   * report names only a local part (old Sendmail: "<anna>... User unknown"; a DSN with
   * "Final-Recipient: rfc822; anna"), this is that local part, lower-case, and `localPartOnly`
   * is true: it is no address, and nothing may be flagged under it until it is resolved against
   * the mail we sent (the pipeline's job) or left unknown. Never one of our own addresses.
   */
  address: string;
  /** True when `address` is a bare local part without a domain (see `address`). */
  localPartOnly: boolean;
  /** Enhanced status code (RFC 3463) as the report gives it, e.g. "5.1.1"; null when it gives none. */
  status: string | null;
  /** SMTP reply code, e.g. "550"; null when the report gives none. */
  replyCode: string | null;
  /** Short human text from the report: the diagnostic, or the line that explains the failure. */
  reason: string;
  /**
   * Did delivery of this message fail for good? From the status class (5.x.x / 4.x.x), else the
   * reply code class, else the wording ("permanent error", "will retry"); null when nothing tells.
   */
  permanent: boolean | null;
  /**
   * Is the address itself unusable (no such mailbox or domain, moved, accepts no mail), so that
   * writing to it again is pointless? Not the same as `permanent`: a 5.7.1 spam rejection fails
   * this message for good but says nothing about the address. (sisimai calls this a hard bounce.)
   */
  hardBounce: boolean;
}

export interface BounceReport {
  kind: BounceKind;
  format: BounceFormat;
  recipients: BounceRecipient[];
  /** Message-ID (bare, no <>) of the mail that bounced, from the returned message or its headers. */
  originalMessageId: string | null;
  /** Why it reads as a report, for the trail. */
  reasons: string[];
  /**
   * The mail-system evidence the report rests on, one line each, for the trail: a null or
   * MAILER-DAEMON/postmaster envelope sender or From, a message/delivery-status (or
   * global-delivery-status, feedback-report) part, a returned message (message/rfc822,
   * text/rfc822-headers, ...), one of our Message-IDs quoted, or a provider's machine format
   * (Amazon SES JSON, Hotmail JMRP, Apple Mail's unsubscribe header).
   *
   * EMPTY when the mail only reads like a report (the wording of a machine's mail): then it is no
   * report. classifyMail keeps it a request, and nothing in it (its recipients least of all) may
   * be acted upon.
   */
  evidence: string[];
}

/**
 * What detectBounce may know about us. Both are optional so that a report can be read without a
 * configuration (the corpus test, `inspect` of a file); the pipeline passes both.
 */
export interface BounceContext {
  /**
   * The domain of our Message-IDs (config messageIdDomain): one of ours quoted in the report is
   * evidence, and it is the original Message-ID when the report names no other.
   */
  messageIdDomain?: string;
  /** Is this one of our own addresses? Ours are never a failed recipient. */
  isOwn?(address: string): boolean;
}
