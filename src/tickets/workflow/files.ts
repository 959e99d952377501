import type { InboundAttachment } from "../../mail/types.js";
import type { StoredAttachment } from "../facts.js";
import type { FileRef, PlannedFiles } from "./plan.js";

/*
 * Which files a status mail carries. The files of the mail(s) it reports travel with it while
 * together they stay within notify.maxAttachmentBytes; beyond that, none is attached and all are
 * listed (name, type, size), and an agent can ask for them with #files, which mails them in
 * parts under the same limit. Pure: sizes and hashes are facts.
 */

/** The reply command that mails a ticket's files, as an agent of this language types it. */
export function filesCommand(language: string): string {
  return language === "de" ? "#dateien" : "#files";
}

export function fileOf(a: Pick<InboundAttachment, "sha256" | "filename" | "contentType" | "size" | "inline">): FileRef {
  return { sha256: a.sha256, filename: a.filename, contentType: a.contentType, size: a.size, inline: a.inline };
}

/** The same file (by content and name) once, in first-seen order. */
export function distinctFiles(files: FileRef[]): FileRef[] {
  const seen = new Set<string>();
  return files.filter((f) => {
    const key = `${f.sha256}/${f.filename}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What one mail to one recipient carries: everything within the limit, else a list (with #files for an agent). */
export function planFiles(files: FileRef[], limit: number, forAgent: boolean, language: string): PlannedFiles | undefined {
  const all = distinctFiles(files);
  if (all.length === 0) return undefined;
  const total = all.reduce((n, f) => n + f.size, 0);
  if (total <= limit) return { attach: all, list: [], command: null, limit, part: null };
  return { attach: [], list: all, command: forAgent ? filesCommand(language) : null, limit, part: null };
}

/**
 * The files in parts of at most `limit` bytes each, in their order (a file joins the current
 * part while it fits, else starts the next). A single file larger than the limit can travel in
 * no mail: it is listed in the last part. Always at least one part, so #files is always answered.
 */
export function fileParts(files: FileRef[], limit: number): PlannedFiles[] {
  const all = distinctFiles(files);
  const tooLarge = all.filter((f) => f.size > limit);
  const parts: FileRef[][] = [];
  let current: FileRef[] = [];
  let size = 0;
  for (const f of all.filter((x) => x.size <= limit)) {
    if (current.length && size + f.size > limit) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(f);
    size += f.size;
  }
  if (current.length || parts.length === 0) parts.push(current);
  return parts.map((attach, i) => ({
    attach,
    list: i === parts.length - 1 ? tooLarge : [],
    command: null,
    limit,
    part: { n: i + 1, of: parts.length },
  }));
}

/** The ticket's stored files an agent may be sent (all of them: agents see internal mail too). */
export function ticketFiles(stored: StoredAttachment[]): FileRef[] {
  return stored.map(fileOf);
}

/**
 * Files that must never reach a requester or participant: those of internal messages (notes,
 * strangers, unauthenticated agents, auto-replies, reports), unless the same content also came
 * in a public message (the requester's own file, or one already sent to them).
 */
export function internalFiles(stored: StoredAttachment[]): Set<string> {
  const pub = new Set(stored.filter((a) => a.visibility === "public").map((a) => a.sha256));
  return new Set(stored.filter((a) => a.visibility === "internal" && !pub.has(a.sha256)).map((a) => a.sha256));
}
