import { convert } from "html-to-text";

/*
 * What the HTML part of a status mail says, as text (html-to-text), to compare with its text
 * part. The layout's chrome (class "tp-chrome": gateway, tag and title, which the subject
 * carries) and inline images are left out; link targets are not repeated.
 */

export function htmlPartText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: ".tp-chrome", format: "skip" },
      { selector: "img", format: "skip" },
      { selector: "a", options: { ignoreHref: true } },
      { selector: "ul", options: { itemPrefix: "- " } },
      { selector: "table", format: "dataTable" },
    ],
  });
}

/** The words of a text, in order: letters, digits and the marks of commands, addresses and tags kept, everything else a separator. */
export function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}#@.\-_/:+]+/u)
    .map((w) => w.replace(/^[.:\-/]+|[.:\-/]+$/g, ""))
    .filter((w) => w !== "");
}
