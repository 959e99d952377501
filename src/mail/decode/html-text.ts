import { convert, type FormatCallback, type HtmlToTextOptions } from "html-to-text";
import { TicketpostError } from "../../shared/errors.js";

/*
 * The one HTML-to-text conversion for every mail without a real text part (html-to-text). Its
 * defaults run the cells of a table together ("NamePaula Player"), which garbles every web-form
 * mail laid out as a table; here each table row is one line and its cells stay apart.
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
    tableToString: (rows: Cell[][]) => rows.map(rowToLine).filter((line) => line !== "").join("\n"),
    leadingLineBreaks: formatOptions.leadingLineBreaks ?? 1,
    trailingLineBreaks: formatOptions.trailingLineBreaks ?? 1,
  });
};

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  // Without a depth limit, deeply nested HTML overflows the stack with a RangeError.
  limits: { maxDepth: 1000 },
  formatters: { rowPerLine },
  selectors: [
    { selector: "img", format: "skip" },
    { selector: "table", format: "rowPerLine" },
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
    return convert(html, OPTIONS).replace(/[ \t]+$/gm, "").trim();
  } catch (err) {
    throw new TicketpostError("EPARSE", `HTML body could not be converted to text: ${(err as Error).message}`, { cause: err });
  }
}
