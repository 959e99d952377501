import addressparser from "nodemailer/lib/addressparser";

/*
 * Addresses as src/mail compares them: parsed by nodemailer's addressparser (RFC 5322 §3.4
 * address lists, groups flattened), lower-cased, and the local parts that name a machine rather
 * than a person. parse.ts reads the mail's own From/To/Cc with mailparser; this is for addresses
 * written in other places (header values read as text, report fields, returned copies).
 */

/** Trimmed, angle brackets dropped, lower-case: the form every comparison uses. */
export function normalizeAddress(address: string): string {
  return address
    .trim()
    .replace(/^<\s*|\s*>$/g, "")
    .toLowerCase();
}

/**
 * Every addr-spec (with an "@") in an address list or a header value, normalised, in order,
 * without repeats; [] for null. Display names, comments and groups are parsed away.
 */
export function addressesIn(value: string | null | undefined): string[] {
  if (!value) return [];
  const found = addressparser(value, { flatten: true }).map((a) => normalizeAddress(a.address ?? ""));
  return [...new Set(found.filter((a) => a.includes("@")))];
}

/** The part before the last "@" ("" for ""); the whole value when there is no "@". */
export function localPart(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? address : address.slice(0, at);
}

/*
 * The mail system's own senders (RFC 5321 §4.5.1 postmaster; MAILER-DAEMON as Sendmail, Postfix,
 * Exim, qmail and Exchange write it). A mail from one of these is mail-system evidence.
 */
const MAIL_SYSTEM_LOCAL = /^(mailer[-_]?daemon|mail-?daemon|post_?master)$/i;
/*
 * Other machine local parts that send or receive reports (MDaemon, VERP-less "bounce@" return
 * addresses): never a person who failed to get a mail, but no proof that a mail system wrote.
 */
const REPORT_MACHINE_LOCAL = /^(mdaemon|bounces?)$/i;
/** no-reply@, noreply+x@, do-not-reply@, donotreply@: nobody reads what is sent there. */
const NO_REPLY_LOCAL = /^(no[-_]?reply|do[-_]?not[-_]?reply)([-+._].*)?$/i;

/*
 * Display names mail systems sign their reports with ("Mail Delivery System", "Mail Delivery
 * Subsystem", "Mail Administrator", "Delivery Status Notification", ...). A sign of a machine, not
 * evidence: anyone can put a display name on a mail.
 */
const MAIL_SYSTEM_NAME =
  /mail ?delivery (sub)?system|mailer[- _]?daemon|postmaster|mail administrator|mail delivery|delivery status notification|mail ?system\b/i;

/** Is this display name one mail systems sign with? */
export function isMailSystemName(displayName: string | null | undefined): boolean {
  return !!displayName && MAIL_SYSTEM_NAME.test(displayName);
}

/** MAILER-DAEMON@…, postmaster@… (or the bare local part, as some MTAs write From). */
export function isMailSystemAddress(address: string): boolean {
  return MAIL_SYSTEM_LOCAL.test(localPart(normalizeAddress(address)));
}

/** A mail-system address, or another address only machines handling reports use (mdaemon@, bounce@). */
export function isReportMachineAddress(address: string): boolean {
  const local = localPart(normalizeAddress(address));
  return MAIL_SYSTEM_LOCAL.test(local) || REPORT_MACHINE_LOCAL.test(local);
}

/** no-reply@ and its spellings. */
export function isNoReplyAddress(address: string): boolean {
  return NO_REPLY_LOCAL.test(localPart(normalizeAddress(address)));
}

/**
 * Does a From or Return-Path header value, as written, name the mail system? Covers what parse
 * cannot keep as an address: "MAILER-DAEMON" without a domain and the null path "<>" (RFC 5321
 * §4.5.5), besides MAILER-DAEMON@… and postmaster@….
 */
export function namesMailSystem(headerValue: string | null): boolean {
  if (headerValue === null || headerValue.trim() === "") return false;
  const bracketed = /<([^<>]*)>/.exec(headerValue)?.[1];
  const spec = (bracketed ?? headerValue.replace(/\([^()]*\)/g, "")).trim();
  return (bracketed !== undefined && spec === "") || isMailSystemAddress(spec);
}

/**
 * The person a Reply-To names when the From is a relay: the first Reply-To address (RFC 5322
 * §3.6.2) that is neither the From, nor no-reply, nor the mail system; null when there is none.
 * A web form that sends as no-reply@ (or as our own address) with the visitor in Reply-To relays
 * that visitor's words: the no-reply From says nothing about who wrote them.
 */
export function personInReplyTo(msg: { from: { address: string } | null; replyTo: Array<{ address: string }> }): string | null {
  const from = msg.from?.address ?? "";
  const person = msg.replyTo.find((a) => a.address !== from && !isNoReplyAddress(a.address) && !isReportMachineAddress(a.address));
  return person?.address ?? null;
}
