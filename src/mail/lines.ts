/**
 * A text split into lines that keep their own line ends ("a\n", "b"), so that joining any run of
 * them gives back exactly what was written. Expects LF line ends (parse gives text with LF);
 * returns [] for "".
 */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
