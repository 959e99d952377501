import type { FileRef, PlannedFiles } from "../tickets/workflow/plan.js";
import type { FileView, FilesView } from "./events/types.js";

/*
 * The files a planned mail carries, as its templates show them and as its outbox rows reference
 * them. An image that was inline in the mail it came with (cid:) stays inline: it gets a
 * Content-ID, the HTML part shows it with <img src="cid:…"> and the sender adds it as a related
 * part (RFC 2392).
 */

/** The Content-ID (without angle brackets) of the i-th attached file, when it is shown inline. */
export function contentIdOf(file: FileRef, i: number): string | null {
  return file.inline && /^image\//i.test(file.contentType) ? `file${i + 1}.${file.sha256.slice(0, 16)}@ticketpost` : null;
}

const view = (f: FileRef, cid: string | null): FileView => ({ filename: f.filename, contentType: f.contentType, size: f.size, cid });

/** The template data of a mail's files; null when it carries none. */
export function filesView(files: PlannedFiles | undefined): FilesView | null {
  if (!files) return null;
  return {
    attached: files.attach.map((f, i) => view(f, contentIdOf(f, i))),
    listed: files.list.map((f) => view(f, null)),
    command: files.command,
    limit: files.limit,
    part: files.part,
  };
}
