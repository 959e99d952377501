/**
 * Every error Ticketpost raises on purpose carries a stable code. Code decides on the code
 * (retry or not, which folder a mail goes to); people read the message; logs carry both.
 */
export const ERROR_CODES = {
  ECONFIG: { retryable: false, summary: "configuration is invalid" },
  EIMAP_AUTH: { retryable: false, summary: "IMAP login was refused" },
  EIMAP_CONNECT: { retryable: true, summary: "IMAP server could not be reached" },
  EIMAP: { retryable: true, summary: "IMAP command failed" },
  EOAUTH: { retryable: true, summary: "an OAuth2 access token could not be obtained for now" },
  EOAUTH_REFUSED: {
    retryable: false,
    summary: "the authorization server refused the OAuth2 grant (consent, client, tenant or permission)",
  },
  EPARSE: { retryable: false, summary: "mail could not be parsed" },
  EOVERSIZE: { retryable: false, summary: "mail is larger than the configured limit" },
  ELOOP: { retryable: false, summary: "mail is our own mail coming back" },
  EDB: { retryable: true, summary: "database operation failed" },
  ETEMPLATE: { retryable: false, summary: "notification template is missing or broken" },
  ESMTP_TEMP: { retryable: true, summary: "SMTP server refused the mail for now" },
  ESMTP_PERM: { retryable: false, summary: "SMTP server rejected the mail for good" },
  EBOUNCED: { retryable: false, summary: "the address bounced permanently; no mail goes to it until the flag is cleared" },
  EBLOB: { retryable: true, summary: "a stored file (blob) a mail attaches is missing or unreadable" },
  ESTORE: { retryable: true, summary: "a mail's bytes or files could not be written to the data directory" },
  ENOTFOUND: { retryable: false, summary: "no such object" },
  EREFUSED: { retryable: false, summary: "the action is not allowed; nothing changed" },
  EREAD: { retryable: false, summary: "a file to import could not be read" },
  EUSAGE: { retryable: false, summary: "command-line usage error" },
  EINTERNAL: { retryable: false, summary: "unexpected internal error" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class TicketpostError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TicketpostError";
    this.code = code;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
  }
}

/** Wraps anything thrown into a TicketpostError, keeping the code when it already has one. */
export function asTicketpostError(err: unknown, fallback: ErrorCode = "EINTERNAL"): TicketpostError {
  if (err instanceof TicketpostError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TicketpostError(fallback, message, { cause: err });
}
