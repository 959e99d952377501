import fs from "node:fs";
import path from "node:path";

/*
 * The quote-stripping tables: one reply per file under test/mail/quotes/ (and quotes/own/),
 * written for these tests. A file is a front matter of "key: value" lines (lang, client,
 * layout, about, and optionally subject), then sections opened by "#### mail", "#### expected"
 * and, for the own-text table, one "#### own" per stored outbound text (the answered one first).
 */

export interface QuoteCase {
  file: string;
  lang: string;
  client: string;
  layout: string;
  about: string;
  subject?: string;
  mail: string;
  expected: string;
  own: string[];
}

export const QUOTES_DIR = path.resolve(process.cwd(), "test/mail/quotes");

export function readCase(file: string): QuoteCase {
  const text = fs.readFileSync(file, "utf8");
  const [head, ...sections] = text.split(/^#### /m);
  const meta = new Map(
    head
      .split("\n")
      .filter((l) => l.includes(":"))
      .map((l) => [l.slice(0, l.indexOf(":")).trim(), l.slice(l.indexOf(":") + 1).trim()]),
  );
  const parts = sections.map((s) => ({ name: s.slice(0, s.indexOf("\n")).trim(), body: s.slice(s.indexOf("\n") + 1).replace(/\n$/, "") }));
  const one = (name: string): string => {
    const found = parts.filter((p) => p.name === name);
    if (found.length !== 1) throw new Error(`${file}: expected one "#### ${name}" section, found ${found.length}`);
    return found[0].body;
  };
  for (const key of ["lang", "client", "layout", "about"]) if (!meta.get(key)) throw new Error(`${file}: no "${key}:" line`);
  return {
    file: path.basename(file),
    lang: meta.get("lang")!,
    client: meta.get("client")!,
    layout: meta.get("layout")!,
    about: meta.get("about")!,
    subject: meta.get("subject"),
    mail: one("mail"),
    expected: one("expected").trimEnd(),
    own: parts.filter((p) => p.name === "own").map((p) => p.body),
  };
}

export function readCases(dir: string): QuoteCase[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((f) => readCase(path.join(dir, f)));
}
