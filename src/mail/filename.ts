import sanitize from "sanitize-filename";

const MAX_LENGTH = 120;

/**
 * A file name a sender chose, made safe to show and to offer for download: no folders (a name
 * like "../../etc/passwd" keeps only "passwd"), no control or reserved characters, no hidden
 * dot-files, bounded length with the extension kept. Files are stored by hash, never by this name.
 */
export function safeFilename(name: string | null | undefined, fallback = "attachment"): string {
  const base =
    String(name ?? "")
      .replace(/\\/g, "/")
      .split("/")
      .pop() ?? "";
  let clean = base
    .normalize("NFC")
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/^[.\s]+/, "")
    .trim();
  if (clean.length > MAX_LENGTH) {
    const dot = clean.lastIndexOf(".");
    const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : "";
    clean = clean.slice(0, MAX_LENGTH - ext.length) + ext;
  }
  // Single forbidden characters become "_"; a reserved name as a whole (CON, NUL, "..") goes.
  clean = sanitize(clean, { replacement: ((c: string) => (c.length === 1 && /[<>:"|?*]/.test(c) ? "_" : "")) as unknown as string }).trim();
  return clean || fallback;
}
