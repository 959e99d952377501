import { createRequire } from "node:module";
import type { DNSResolver } from "mailauth/lib/dkim/verify.js";
import type ParseHeader from "mailauth/lib/parse-dkim-headers.js";
import type { TicketpostConfig } from "../config/schema.js";
import type { InboundMessage } from "../mail/types.js";
import type { AgentVerifier } from "./context.js";

// mailauth (CommonJS) is loaded when a mail from an agent is first verified: most commands and
// most mails never need it, and loading it costs every `ticketpost` start.
const require = createRequire(import.meta.url);
let parser: typeof ParseHeader | undefined;
const parseHeader: typeof ParseHeader = (header) =>
  (parser ??= require("mailauth/lib/parse-dkim-headers.js") as typeof ParseHeader)(header);

/*
 * A From header proves nothing: anyone can write "From: alice@example.com". Before an agent's
 * commands run, the mail must be authenticated. By default that is an Authentication-Results
 * header (RFC 8601) written by a server we trust (its authserv-id is configured) saying that
 * DMARC, or DKIM for the From domain, passed. Headers from other servers are ignored: a sender
 * can write any Authentication-Results they like, only our own MX's count (and a proper MX
 * removes forged copies of its own).
 */

/** For tests of the workflow itself, and for operators who opt out knowingly ("trust-from"). */
export const trustFromAddress: AgentVerifier = (_msg: InboundMessage, agent: string) => ({
  ok: true,
  reason: `${agent} is a configured agent (agentAuth.mode trust-from: the From address is trusted without authentication)`,
});

type Entry = { value: string; header?: Record<string, string> };

function entries(v: unknown): Entry[] {
  if (!v || typeof v === "string") return [];
  return (Array.isArray(v) ? v : [v]) as Entry[];
}

export function authenticationResultsVerifier(trusted: string[]): AgentVerifier {
  const trustedIds = new Set(trusted.map((t) => t.toLowerCase()));
  return (msg, agent) => {
    if (trustedIds.size === 0)
      return { ok: false, reason: "no trusted server is configured (agentAuth.trustedAuthservIds), so no agent mail can be authenticated" };
    const domain = (msg.from?.address ?? agent).split("@")[1]?.toLowerCase() ?? "";
    // The topmost header from a trusted server is the one our own border server wrote last.
    for (const value of msg.headers["authentication-results"] ?? []) {
      let parsed;
      try {
        parsed = parseHeader(`Authentication-Results: ${value}`).parsed;
      } catch {
        continue;
      }
      const id = String(parsed.value ?? "").toLowerCase();
      if (!trustedIds.has(id)) continue;
      const dmarc = entries(parsed.dmarc).find((e) => e.value === "pass" && (e.header?.from ?? "").toLowerCase() === domain);
      if (dmarc) return { ok: true, reason: `${id}: dmarc=pass for ${domain}` };
      const dkim = entries(parsed.dkim).find(
        (e) =>
          e.value === "pass" && ((e.header?.d ?? "").toLowerCase() === domain || (e.header?.i ?? "").toLowerCase().endsWith(`@${domain}`)),
      );
      if (dkim) return { ok: true, reason: `${id}: dkim=pass for ${domain}` };
      const said = ["dmarc", "dkim", "spf"]
        .map((m) =>
          entries(parsed[m])
            .map((e) => `${m}=${e.value}`)
            .join(" "),
        )
        .filter(Boolean)
        .join(" ");
      return { ok: false, reason: `${id} did not authenticate ${domain} (${said || "no dmarc or dkim result"})` };
    }
    return { ok: false, reason: `no Authentication-Results from a trusted server (${[...trustedIds].join(", ")}) for this mail` };
  };
}

/**
 * DKIM checked by Ticketpost itself (mailauth): a valid signature of the From domain. For a
 * gateway whose mail server writes no Authentication-Results. The resolver is injectable, so
 * tests need no network; by default it is the system's DNS.
 */
export function dkimVerifier(rawOf: (msg: InboundMessage) => Promise<Buffer>, resolver?: DNSResolver): AgentVerifier {
  return async (msg, agent) => {
    const domain = (msg.from?.address ?? agent).split("@")[1]?.toLowerCase() ?? "";
    const { dkimVerify } = await import("mailauth/lib/dkim/verify.js");
    let result;
    try {
      result = await dkimVerify(await rawOf(msg), resolver ? { resolver } : {});
    } catch (err) {
      return { ok: false, reason: `DKIM could not be checked: ${(err as Error).message}` };
    }
    if (result.headerFrom.length !== 1) return { ok: false, reason: `the mail has ${result.headerFrom.length} From addresses` };
    const pass = result.results.find((r) => r.status?.result === "pass" && r.signingDomain?.toLowerCase() === domain);
    if (pass) return { ok: true, reason: `dkim=pass for ${domain} (verified by Ticketpost, selector ${pass.selector})` };
    const said = result.results.map((r) => `${r.signingDomain ?? "?"}: ${r.status?.result ?? "?"}`).join(", ");
    return { ok: false, reason: `no valid DKIM signature of ${domain} (${said || "unsigned"})` };
  };
}

/** The topmost Authentication-Results header, parsed (the one the last server, the mailbox's own, wrote). */
function topmostResults(msg: InboundMessage): Record<string, unknown> | null {
  const top = (msg.headers["authentication-results"] ?? [])[0];
  if (!top) return null;
  try {
    return parseHeader(`Authentication-Results: ${top}`).parsed as Record<string, unknown>;
  } catch {
    return null;
  }
}

function fromDomain(msg: InboundMessage, agent: string): string {
  return (msg.from?.address ?? agent).split("@")[1]?.toLowerCase() ?? "";
}

/** Where a verifier runs: the mailbox the mail was taken from (none for ingest, import, inspect). */
export interface MailboxOrigin {
  id: string;
  provider: "microsoft365" | "google" | null;
}

/**
 * Exchange Online (Microsoft 365). A colleague's mail carries `X-MS-Exchange-Organization-AuthAs:
 * Internal`, which Exchange writes for senders authenticated in the tenant and removes from every
 * mail that enters from outside (its header firewall). Mail from outside carries Microsoft's
 * Authentication-Results, which has no authserv-id: `spf=pass (sender IP is …) smtp.mailfrom=…;
 * dkim=pass (signature was verified) header.d=…;dmarc=pass action=none header.from=…;compauth=pass
 * reason=100` ("Anti-spam message headers in Microsoft 365", learn.microsoft.com). Neither header
 * means anything outside an Exchange Online mailbox, where anyone can write both: so they count
 * only for mail taken from a mailbox configured with `provider: "microsoft365"`.
 */
export function exchangeOnlineVerifier(origin: MailboxOrigin | null): AgentVerifier {
  return (msg, agent) => {
    if (origin?.provider !== "microsoft365") {
      return {
        ok: false,
        reason: `agentAuth.mode exchange-online trusts Exchange's headers only in a mailbox configured as Exchange Online (provider microsoft365); this mail came from ${origin ? `mailbox ${origin.id}` : "outside any mailbox"}`,
      };
    }
    const authAs = (msg.headers["x-ms-exchange-organization-authas"] ?? []).map((v) => v.trim().toLowerCase());
    if (authAs.length === 1 && authAs[0] === "internal")
      return { ok: true, reason: `${agent} is a colleague in the tenant (X-MS-Exchange-Organization-AuthAs: Internal)` };
    const domain = fromDomain(msg, agent);
    const ar = topmostResults(msg);
    if (!ar || ar.value)
      return {
        ok: false,
        reason: `no Authentication-Results from Exchange Online (the topmost one ${ar ? `names ${String(ar.value)}` : "is missing"}), and not sent inside the tenant`,
      };
    const dmarc = entries(ar.dmarc)[0];
    const aligned = (dmarc?.header?.from ?? "").toLowerCase() === domain;
    if (aligned && dmarc?.value === "pass") return { ok: true, reason: `Exchange Online: dmarc=pass for ${domain}` };
    const compauth = entries(ar.compauth)[0];
    if (aligned && compauth?.value === "pass") return { ok: true, reason: `Exchange Online: compauth=pass for ${domain}` };
    return {
      ok: false,
      reason: `Exchange Online did not authenticate ${domain} (dmarc=${dmarc?.value ?? "none"} header.from=${dmarc?.header?.from ?? "-"}, compauth=${compauth?.value ?? "none"})`,
    };
  };
}

/**
 * Google Workspace: Gmail writes `Authentication-Results: mx.google.com; dkim=pass
 * header.i=@…; spf=pass …; dmarc=pass (p=…) header.from=…` on top of every mail it receives.
 * Only the topmost header is Google's (a sender's own copy sits below it), and only in a Gmail
 * mailbox is the topmost header Google's: so it counts only for a mailbox with `provider: "google"`.
 */
export function googleWorkspaceVerifier(origin: MailboxOrigin | null): AgentVerifier {
  return (msg, agent) => {
    if (origin?.provider !== "google") {
      return {
        ok: false,
        reason: `agentAuth.mode google-workspace trusts Gmail's header only in a mailbox configured as Google (provider google); this mail came from ${origin ? `mailbox ${origin.id}` : "outside any mailbox"}`,
      };
    }
    const domain = fromDomain(msg, agent);
    const ar = topmostResults(msg);
    if (String(ar?.value ?? "").toLowerCase() !== "mx.google.com")
      return { ok: false, reason: `the topmost Authentication-Results is not Gmail's (mx.google.com)` };
    const dmarc = entries(ar!.dmarc).find((e) => e.value === "pass" && (e.header?.from ?? "").toLowerCase() === domain);
    if (dmarc) return { ok: true, reason: `mx.google.com: dmarc=pass for ${domain}` };
    const dkim = entries(ar!.dkim).find(
      (e) =>
        e.value === "pass" && ((e.header?.d ?? "").toLowerCase() === domain || (e.header?.i ?? "").toLowerCase().endsWith(`@${domain}`)),
    );
    if (dkim) return { ok: true, reason: `mx.google.com: dkim=pass for ${domain}` };
    return { ok: false, reason: `mx.google.com did not authenticate ${domain}` };
  };
}

export function agentVerifierFor(
  config: TicketpostConfig,
  rawOf: (msg: InboundMessage) => Promise<Buffer>,
  resolver?: DNSResolver,
  origin: MailboxOrigin | null = null,
): AgentVerifier {
  switch (config.agentAuth.mode) {
    case "trust-from":
      return trustFromAddress;
    case "dkim":
      return dkimVerifier(rawOf, resolver);
    case "exchange-online":
      return exchangeOnlineVerifier(origin);
    case "google-workspace":
      return googleWorkspaceVerifier(origin);
    default:
      return authenticationResultsVerifier(config.agentAuth.trustedAuthservIds);
  }
}
