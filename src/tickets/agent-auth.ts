import { dkimVerify, type DNSResolver } from "mailauth/lib/dkim/verify.js";
import parseHeader from "mailauth/lib/parse-dkim-headers.js";
import type { TicketpostConfig } from "../config/schema.js";
import type { InboundMessage } from "../mail/types.js";
import type { AgentVerifier } from "./context.js";

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
    if (trustedIds.size === 0) return { ok: false, reason: "no trusted server is configured (agentAuth.trustedAuthservIds), so no agent mail can be authenticated" };
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
      const dkim = entries(parsed.dkim).find((e) => e.value === "pass" && ((e.header?.d ?? "").toLowerCase() === domain || (e.header?.i ?? "").toLowerCase().endsWith(`@${domain}`)));
      if (dkim) return { ok: true, reason: `${id}: dkim=pass for ${domain}` };
      const said = ["dmarc", "dkim", "spf"].map((m) => entries(parsed[m]).map((e) => `${m}=${e.value}`).join(" ")).filter(Boolean).join(" ");
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

export function agentVerifierFor(config: TicketpostConfig, rawOf: (msg: InboundMessage) => Promise<Buffer>, resolver?: DNSResolver): AgentVerifier {
  switch (config.agentAuth.mode) {
    case "trust-from":
      return trustFromAddress;
    case "dkim":
      return dkimVerifier(rawOf, resolver);
    default:
      return authenticationResultsVerifier(config.agentAuth.trustedAuthservIds);
  }
}
