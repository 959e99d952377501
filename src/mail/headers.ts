import type { InboundMessage } from "./types.js";

/*
 * Reading header fields of a parsed mail, and the marks we put on our own mail. parse keeps every
 * header as unfolded text by lower-case name (InboundMessage.headers); this is the one place that
 * reads them back, so that "first value, trimmed" means the same everywhere in src/mail.
 */

/** Anything that carries parse's header record (an InboundMessage, or a part of one in a test). */
export type WithHeaders = Pick<InboundMessage, "headers">;

/** Every value of a header field, trimmed, in the order the mail gives them; [] when absent. `name` is lower-case. */
export function headerValues(msg: WithHeaders, name: string): string[] {
  return (msg.headers[name] ?? []).map((v) => v.trim());
}

/** The first value of a header field, trimmed, or null when absent. `name` is lower-case. */
export function headerValue(msg: WithHeaders, name: string): string | null {
  return msg.headers[name]?.[0]?.trim() ?? null;
}

/**
 * The "Xxx-Yyy" spelling of a lower-case field name, for reasons people read
 * ("x-ms-exchange-inbox-rules-loop" → "X-MS-Exchange-Inbox-Rules-Loop").
 */
export function displayName(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()).replace(/^X-Ms-/, "X-MS-");
}

/** "<a@b>" → "a@b" (RFC 5322 §3.6.4 msg-id without its angle brackets); null for nothing. */
export function bareMessageId(id: string | undefined | null): string | null {
  if (!id) return null;
  const m = /<([^<>\s]+)>/.exec(id);
  const bare = (m ? m[1] : id.trim()).trim();
  return bare === "" ? null : bare;
}

/**
 * The media type of a Content-Type value, lower-case ("multipart/report"), and its report-type
 * parameter (RFC 6522 §3) when it has one. Enough for the few decisions made on headers alone;
 * MIME parsing proper is mailparser's.
 */
export function contentTypeOf(msg: WithHeaders): { type: string; reportType: string | null } {
  const value = headerValue(msg, "content-type") ?? "";
  const type = (/^\s*([\w.+-]+\/[\w.+-]+)/.exec(value)?.[1] ?? "").toLowerCase();
  const reportType = type === "multipart/report" ? (/report-type\s*=\s*"?([\w-]+)/i.exec(value)?.[1] ?? "report").toLowerCase() : null;
  return { type, reportType };
}

/**
 * The envelope sender as the delivering server recorded it in Return-Path (RFC 5321 §4.4): the
 * address without brackets, "" for the null sender "<>" of bounces and auto-replies, null when
 * the mail has no Return-Path.
 */
export function envelopeSender(msg: WithHeaders): string | null {
  const rp = msg.headers["return-path"]?.[0];
  if (rp === undefined) return null;
  return (/<([^>]*)>/.exec(rp)?.[1] ?? rp).trim();
}

/* ------------------------------------------------------------------------------------------------
 * Our own marks: what we put on every mail we send, and nothing else identifies our mail
 * --------------------------------------------------------------------------------------------- */

/** The header field every mail we send carries (RFC 5322 §3.6.8 optional field), lower-case. */
export const LOOP_HEADER = "x-ticketpost-loop";

/**
 * Is this Message-ID (bare or in brackets) one we generated? Ours are
 * `ticketpost.<ticket>.<time>.<random>@<messageIdDomain>` (src/notify/outbox.ts); the domain must
 * match exactly, any case: a subdomain or someone else's "ticketpost." is not ours.
 */
export function isOurMessageId(id: string | null | undefined, messageIdDomain: string): boolean {
  const bare = bareMessageId(id)?.toLowerCase();
  const domain = messageIdDomain.trim().toLowerCase();
  if (!bare || domain === "") return false;
  return bare.startsWith("ticketpost.") && bare.endsWith(`@${domain}`) && !bare.slice(0, -domain.length - 1).includes("@");
}

/** Every Message-ID of ours written anywhere in a text (a returned copy, a quoted header), bare and lower-case, first seen first. */
export function ourMessageIdsIn(text: string, messageIdDomain: string): string[] {
  const domain = messageIdDomain.trim().toLowerCase();
  if (domain === "") return [];
  const escaped = domain.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`ticketpost\\.[^\\s<>@"]+@${escaped}(?![\\w-]|\\.[\\w-])`, "gi");
  return [...new Set([...text.matchAll(re)].map((m) => m[0].toLowerCase()))];
}
