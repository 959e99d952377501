import { convert, type FormatCallback, type HtmlToTextOptions } from "html-to-text";
import { TicketpostError } from "../../shared/errors.js";

/*
 * The one HTML-to-text conversion for every mail without a real text part (html-to-text). Its
 * defaults run the cells of a table together ("NamePaula Player"), which garbles every web-form
 * mail laid out as a table; here each table row is one line and its cells stay apart, and so
 * does a form field laid out as a div holding a label and a value.
 */

interface Cell {
  text: string;
}

/** A label cell and its value read "Label: value"; more cells are joined with " | ". */
function rowToLine(cells: Cell[]): string {
  const texts = cells.map((c) => c.text.trim());
  const filled = texts.filter((t) => t !== "");
  // A layout table (a cell holding paragraphs) is stacked, not squeezed onto one line.
  if (texts.some((t) => t.includes("\n"))) return filled.join("\n");
  if (texts.length === 2 && texts[0] !== "" && texts[0].length <= 60) {
    return `${texts[0]}${/[:：]$/.test(texts[0]) ? "" : ":"} ${texts[1]}`.trimEnd();
  }
  return filled.join(" | ");
}

const rowPerLine: FormatCallback = (elem, walk, builder, formatOptions) => {
  builder.openTable();
  const visit = (node: { type: string; name?: string; children?: unknown[]; attribs?: Record<string, string> }): void => {
    if (node.type !== "tag") return;
    if (node.name === "tr") {
      builder.openTableRow();
      for (const cell of (node.children ?? []) as Array<typeof node>) {
        if (cell.type !== "tag" || (cell.name !== "td" && cell.name !== "th")) continue;
        builder.openTableCell({});
        walk(cell.children as never, builder);
        builder.closeTableCell({});
      }
      builder.closeTableRow();
    } else if (["thead", "tbody", "tfoot", "center"].includes(node.name ?? "")) {
      for (const child of (node.children ?? []) as Array<typeof node>) visit(child);
    }
  };
  for (const child of elem.children as never[]) visit(child);
  builder.closeTable({
    tableToString: (rows: Cell[][]) =>
      rows
        .map(rowToLine)
        .filter((line) => line !== "")
        .join("\n"),
    leadingLineBreaks: formatOptions.leadingLineBreaks ?? 1,
    trailingLineBreaks: formatOptions.trailingLineBreaks ?? 1,
  });
};

type Node = { type: string; name?: string; data?: string; children?: Node[]; parent?: Node | null };

const BLOCKS = new Set(["div", "span", "label", "strong", "b"]);

function textOf(node: Node): string {
  if (node.type === "text") return node.data ?? "";
  return (node.children ?? []).map(textOf).join("");
}

/**
 * The label and value of a form field laid out with elements instead of a table
 * (`<div class="row"><div>Name</div><div>Paula</div></div>`, as page-builder form plugins mail
 * them): exactly two element children, the first a short one-line label; null for anything else.
 */
function fieldPair(elem: Node): [Node, Node] | null {
  const kids = (elem.children ?? []).filter((c) => c.type === "tag" || (c.type === "text" && (c.data ?? "").trim() !== ""));
  if (kids.length !== 2 || kids.some((k) => k.type !== "tag" || !BLOCKS.has(k.name ?? ""))) return null;
  if (kids.some((k) => (k.children ?? []).some((c) => c.type === "tag" && ["div", "p", "table", "ul", "ol", "br"].includes(c.name ?? ""))))
    return null;
  const label = textOf(kids[0]).replace(/\s+/g, " ").trim();
  // A label names a field ("Customer no.", "E-mail:"); a greeting or a sentence is no label.
  if (label === "" || label.length > 40 || label.split(" ").length > 5 || /[,;!?]$/.test(label)) return null;
  return [kids[0], kids[1]];
}

/** A field pair among at least two such siblings: a form lists several fields, a letter has none. */
function formField(elem: Node): [Node, Node] | null {
  const pair = fieldPair(elem);
  if (!pair) return null;
  const siblings = (elem.parent?.children ?? []).filter((c) => c.type === "tag" && c.name === "div");
  return siblings.filter((c) => c === elem || fieldPair(c) !== null).length >= 2 && siblings.some((c) => c !== elem && fieldPair(c))
    ? pair
    : null;
}

/** A div that is a form field reads "Label: value" on one line; any other div is a block as usual. */
const fieldDiv: FormatCallback = (elem, walk, builder, formatOptions) => {
  const pair = formField(elem as unknown as Node);
  builder.openBlock({ leadingLineBreaks: formatOptions.leadingLineBreaks ?? 1 });
  if (pair) {
    const label = textOf(pair[0]).replace(/\s+/g, " ").trim();
    builder.addInline(`${label}${/[:：]$/.test(label) ? "" : ":"} `);
    walk(pair[1].children as never, builder);
  } else {
    walk(elem.children as never, builder);
  }
  builder.closeBlock({ trailingLineBreaks: formatOptions.trailingLineBreaks ?? 1 });
};

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  // Without a depth limit, deeply nested HTML overflows the stack with a RangeError.
  limits: { maxDepth: 1000 },
  formatters: { rowPerLine, fieldDiv },
  selectors: [
    { selector: "img", format: "skip" },
    { selector: "table", format: "rowPerLine" },
    { selector: "div", format: "fieldDiv" },
    { selector: "a", options: { hideLinkHrefIfSameAsText: true } },
    { selector: "h1", options: { uppercase: false } },
    { selector: "h2", options: { uppercase: false } },
    { selector: "h3", options: { uppercase: false } },
    { selector: "h4", options: { uppercase: false } },
    { selector: "h5", options: { uppercase: false } },
    { selector: "h6", options: { uppercase: false } },
  ],
};

/**
 * HTML as plain text: one line per table row with its cells apart, lists as "* item", link
 * targets kept as "text [https://…]". Throws TicketpostError EPARSE when html-to-text fails.
 */
export function htmlToPlainText(html: string): string {
  try {
    return convert(html, OPTIONS)
      .replace(/[ \t]+$/gm, "")
      .trim();
  } catch (err) {
    throw new TicketpostError("EPARSE", `HTML body could not be converted to text: ${(err as Error).message}`, { cause: err });
  }
}
