import { createRequire } from "node:module";
import type * as DecompressRtf from "@kenjiuno/decompressrtf";
import iconv from "iconv-lite";
import type * as RtfStreamParser from "rtf-stream-parser";
import type * as PlainText from "rtf-stream-parser/dist/src/ToPlainText.js";

// The RTF libraries (CommonJS) are loaded by the first TNEF body in RTF: most mails have none.
const require = createRequire(import.meta.url);
interface RtfLibraries {
  decompressRTF: typeof DecompressRtf.decompressRTF;
  deEncapsulateSync: typeof RtfStreamParser.deEncapsulateSync;
  Tokenize: typeof RtfStreamParser.Tokenize;
  ToPlainText: typeof PlainText.ToPlainText;
}
let loaded: RtfLibraries | undefined;
function rtfLibraries(): RtfLibraries {
  if (!loaded) {
    const { decompressRTF } = require("@kenjiuno/decompressrtf") as typeof DecompressRtf;
    const { deEncapsulateSync, Tokenize } = require("rtf-stream-parser") as typeof RtfStreamParser;
    const { ToPlainText } = require("rtf-stream-parser/dist/src/ToPlainText.js") as typeof PlainText;
    loaded = { decompressRTF, deEncapsulateSync, Tokenize, ToPlainText };
  }
  return loaded;
}

/*
 * The RTF body Outlook puts into TNEF (PidTagRtfCompressed): decompressed per [MS-OXRTFCP]
 * (@kenjiuno/decompressrtf), then either de-encapsulated per [MS-OXRTFEX] (HTML or text that
 * Outlook wrapped in RTF) or, for a mail written in Outlook's rich-text editor, read as plain text
 * (both rtf-stream-parser).
 */

/** A body taken out of RTF: HTML (to be converted) or text. */
export interface RtfBody {
  mode: "html" | "text";
  text: string;
}

const decode = (buf: Buffer, encoding: string) => iconv.decode(buf, iconv.encodingExists(encoding) ? encoding : "cp1252");

function plainText(rtf: Buffer): Promise<string> {
  const { Tokenize, ToPlainText } = rtfLibraries();
  return new Promise((resolve, reject) => {
    const tokenize = new Tokenize();
    const toText = new ToPlainText({ decode, warn: () => undefined });
    let out = "";
    toText.on("data", (chunk: string | Buffer) => (out += chunk.toString()));
    toText.on("end", () => resolve(out.replace(/\r\n?/g, "\n")));
    toText.on("error", reject);
    tokenize.on("error", reject);
    tokenize.pipe(toText);
    tokenize.end(rtf);
  });
}

/** Decompresses PidTagRtfCompressed and reads the body out of it. Throws when the data is not compressed RTF. */
export async function rtfBody(compressed: Buffer): Promise<RtfBody> {
  const { decompressRTF, deEncapsulateSync } = rtfLibraries();
  const rtf = Buffer.from(decompressRTF([...compressed]));
  try {
    const result = deEncapsulateSync(rtf, { decode, mode: "either", warn: () => undefined });
    return { mode: result.mode, text: result.text.toString() };
  } catch {
    return { mode: "text", text: await plainText(rtf) };
  }
}
