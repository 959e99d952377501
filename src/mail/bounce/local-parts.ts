import { isReportMachineAddress, localPart } from "../addresses.js";

/*
 * Reports that name a recipient by its local part alone. Old Sendmail and some gateways answer
 * for a local mailbox without its domain ("<anna>... User unknown", "550 anna... not a valid user
 * here", "RCPT To:<anna>"); qmail lists "<anna>:". Such a name is no address: it is resolved
 * against the returned message's To/Cc when exactly one of those has that local part, and is
 * otherwise reported as a local part (BounceRecipient.localPartOnly), never guessed.
 */

const LOCAL = String.raw`[A-Za-z0-9][A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]*`;

const LOCAL_PART_LINES: RegExp[] = [
  // "<anna>" alone on its line, "<anna>:" (qmail), "<anna>... User unknown" (Sendmail).
  new RegExp(String.raw`^\s*<(${LOCAL})>(?:\s*$|:|\.\.\.)`, "gm"),
  // "anna... User unknown", "550 5.1.1 anna... not a valid user here", "550 <anna>... User unknown".
  new RegExp(String.raw`^\s*(?:(?:<<<\s*)?[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s+)?)?<?(${LOCAL})>?\.\.\.\s*\S`, "gm"),
  // ">>> RCPT To:<anna>" in a transcript.
  new RegExp(String.raw`RCPT TO:\s*<(${LOCAL})>`, "gim"),
];

/** The bare local parts a report names as recipients, lower-case, first seen first. */
export function bareLocalParts(region: string): string[] {
  const found: Array<{ local: string; index: number }> = [];
  for (const re of LOCAL_PART_LINES) {
    for (const m of region.matchAll(re)) found.push({ local: m[1].replace(/\.+$/, "").toLowerCase(), index: m.index ?? 0 });
  }
  const locals = found
    .sort((a, b) => a.index - b.index)
    .map((f) => f.local)
    .filter((l) => l !== "" && !isReportMachineAddress(l));
  return [...new Set(locals)];
}

/** The one returned To/Cc address with this local part, or the local part itself when none or several have it. */
export function resolveLocalPart(local: string, returnedTo: string[]): string {
  const matches = [...new Set(returnedTo.filter((a) => localPart(a) === local))];
  return matches.length === 1 ? matches[0] : local;
}

/** The lines that speak of this local part, with the line after each ("(reason: 550 ...)"). */
export function localPartText(region: string, local: string): string {
  const lines = region.split("\n");
  const mentions = (l: string) => l.toLowerCase().includes(local) && !l.toLowerCase().includes(`${local}@`);
  const picked = new Set<number>();
  lines.forEach((l, i) => {
    if (!mentions(l)) return;
    picked.add(i);
    if (i + 1 < lines.length && lines[i + 1].trim() !== "") picked.add(i + 1);
  });
  return [...picked]
    .sort((a, b) => a - b)
    .map((i) => lines[i])
    .join("\n");
}
