import iconv from "iconv-lite";

/*
 * A reader for TNEF (winmail.dat, application/ms-tnef), as specified in [MS-OXTNEF] (Microsoft
 * Open Specifications, "Transport Neutral Encapsulation Format (TNEF) Data Algorithm").
 *
 * Why our own: the one TNEF package on npm (node-tnef 1.4.0) writes a bunyan log line to stdout
 * on every call (which would corrupt `--json` output), replaces String.prototype.replaceAll for
 * the whole process, ignores the attBody attribute and copies the remaining input for every
 * attribute (quadratic). This reader does only what a ticket needs: the message body (attBody,
 * PidTagBody, PidTagBodyHtml, PidTagRtfCompressed) and the attachments with their names.
 */

export class TnefError extends Error {}

/** What a TNEF stream carries, still undecoded where a library does the rest (RTF). */
export interface TnefContent {
  subject: string | null;
  /** Plain text body: PidTagBody, else attBody. */
  text: string | null;
  /** PidTagBodyHtml, decoded by PidTagInternetCodepage. */
  html: string | null;
  /** PidTagRtfCompressed, still compressed ([MS-OXRTFCP]). */
  compressedRtf: Buffer | null;
  attachments: Array<{ filename: string; contentType: string | null; content: Buffer }>;
}

const SIGNATURE = 0x223e9f78;
const LEVEL_MESSAGE = 1;
// Attribute ids (low word of the 32-bit attribute id; the high word is the type), [MS-OXTNEF] 2.1.3.
const ATT_SUBJECT = 0x8004;
const ATT_BODY = 0x800c;
const ATT_ATTACH_DATA = 0x800f;
const ATT_ATTACH_TITLE = 0x8010;
const ATT_ATTACH_RENDDATA = 0x9002;
const ATT_MSG_PROPS = 0x9003;
const ATT_ATTACHMENT = 0x9005;
const ATT_OEM_CODEPAGE = 0x9007;
// Property ids, [MS-OXPROPS].
const PID = {
  subject: 0x0037,
  body: 0x1000,
  rtfCompressed: 0x1009,
  bodyHtml: 0x1013,
  internetCodepage: 0x3fde,
  displayName: 0x3001,
  attachDataBinary: 0x3701,
  attachFilename: 0x3704,
  attachLongFilename: 0x3707,
  attachMimeTag: 0x370e,
} as const;
// Property types, [MS-OXCDATA] 2.11.1: fixed sizes as stored in a TNEF property list (2-byte values padded to 4).
const FIXED_SIZE: Record<number, number> = {
  0x0001: 0,
  0x0002: 4,
  0x0003: 4,
  0x0004: 4,
  0x0005: 8,
  0x0006: 8,
  0x0007: 8,
  0x000a: 4,
  0x000b: 4,
  0x0014: 8,
  0x0040: 8,
  0x0048: 16,
};
const PT_STRING8 = 0x001e;
const PT_UNICODE = 0x001f;
const PT_BINARY = 0x0102;
const PT_OBJECT = 0x000d;
const MV_FLAG = 0x1000;

interface Property {
  id: number;
  type: number;
  values: Buffer[];
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
  ) {}
  need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new TnefError(`TNEF data ends early at byte ${this.pos}`);
  }
  u16(): number {
    this.need(2);
    return this.buf.readUInt16LE((this.pos += 2) - 2);
  }
  u32(): number {
    this.need(4);
    return this.buf.readUInt32LE((this.pos += 4) - 4);
  }
  bytes(n: number): Buffer {
    this.need(n);
    return this.buf.subarray(this.pos, (this.pos += n));
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}

/** A MAPI property list ([MS-OXTNEF] 2.1.3.4 MsgPropertyList / AttachPropertyList). */
function readProperties(data: Buffer): Property[] {
  const r = new Reader(data);
  const count = r.u32();
  const out: Property[] = [];
  for (let i = 0; i < count && !r.done; i++) {
    const rawType = r.u16();
    const id = r.u16();
    if (id >= 0x8000) {
      r.bytes(16); // property set GUID
      if (r.u32() === 0) r.u32();
      else r.bytes(pad4(r.u32()));
    }
    const type = rawType & ~MV_FLAG;
    const variable = type === PT_STRING8 || type === PT_UNICODE || type === PT_BINARY || type === PT_OBJECT;
    const n = rawType & MV_FLAG || variable ? r.u32() : 1;
    if (n > data.length) throw new TnefError("TNEF property count out of range");
    const values: Buffer[] = [];
    for (let v = 0; v < n; v++) {
      if (variable) {
        const len = r.u32();
        values.push(r.bytes(len));
        r.bytes(pad4(len) - len);
      } else {
        const size = FIXED_SIZE[type];
        if (size === undefined) throw new TnefError(`unknown MAPI property type 0x${type.toString(16)}`);
        values.push(r.bytes(size));
      }
    }
    out.push({ id, type, values });
  }
  return out;
}

const pad4 = (n: number) => (n + 3) & ~3;

function string8(bytes: Buffer, codepage: number): string {
  const trimmed = bytes.subarray(0, bytes.indexOf(0) >= 0 ? bytes.indexOf(0) : bytes.length);
  const name = codepage === 65001 ? "utf8" : `cp${codepage}`;
  return iconv.encodingExists(name) ? iconv.decode(trimmed, name) : iconv.decode(trimmed, "cp1252");
}

function propString(p: Property | undefined, codepage: number): string | null {
  if (!p || p.values.length === 0) return null;
  if (p.type === PT_UNICODE) return p.values[0].toString("utf16le").replace(/\u0000+$/, "");
  if (p.type === PT_STRING8 || p.type === PT_BINARY) return string8(p.values[0], codepage);
  return null;
}

/**
 * Reads a TNEF stream. Throws TnefError when the bytes are not TNEF or end early; what was read
 * before a damaged attribute is not returned (the caller keeps the winmail.dat then).
 */
export function readTnef(data: Buffer): TnefContent {
  const r = new Reader(data);
  if (r.u32() !== SIGNATURE) throw new TnefError("not a TNEF stream (signature missing)");
  r.u16(); // legacy key
  const out: TnefContent = { subject: null, text: null, html: null, compressedRtf: null, attachments: [] };
  let codepage = 1252;
  let attBody: Buffer | null = null;
  let messageProps: Property[] = [];
  const attachments: Array<{ title: string | null; data: Buffer | null; props: Property[] }> = [];
  while (!r.done) {
    const level = r.bytes(1)[0];
    const id = r.u32() & 0xffff;
    const value = r.bytes(r.u32());
    r.u16(); // checksum: a damaged value shows as a damaged body or file, which the reader sees
    if (level === LEVEL_MESSAGE) {
      if (id === ATT_OEM_CODEPAGE && value.length >= 4) codepage = value.readUInt32LE(0);
      else if (id === ATT_BODY) attBody = value;
      else if (id === ATT_SUBJECT) out.subject = string8(value, codepage);
      else if (id === ATT_MSG_PROPS) messageProps = readProperties(value);
      continue;
    }
    if (id === ATT_ATTACH_RENDDATA) attachments.push({ title: null, data: null, props: [] });
    const current = attachments[attachments.length - 1];
    if (!current) continue;
    if (id === ATT_ATTACH_TITLE) current.title = string8(value, codepage);
    else if (id === ATT_ATTACH_DATA) current.data = value;
    else if (id === ATT_ATTACHMENT) current.props = readProperties(value);
  }
  const prop = (props: Property[], pid: number) => props.find((p) => p.id === pid);
  const cpProp = prop(messageProps, PID.internetCodepage);
  const htmlCodepage = cpProp && cpProp.values[0]?.length >= 4 ? cpProp.values[0].readUInt32LE(0) : codepage;
  out.text = propString(prop(messageProps, PID.body), codepage) ?? (attBody ? string8(attBody, codepage) : null);
  out.html = propString(prop(messageProps, PID.bodyHtml), htmlCodepage);
  out.compressedRtf = prop(messageProps, PID.rtfCompressed)?.values[0] ?? null;
  out.subject = propString(prop(messageProps, PID.subject), codepage) ?? out.subject;
  for (const a of attachments) {
    const binary = prop(a.props, PID.attachDataBinary)?.values[0] ?? null;
    const content = a.data ?? binary;
    if (!content) continue;
    const filename =
      propString(prop(a.props, PID.attachLongFilename), codepage) ??
      propString(prop(a.props, PID.attachFilename), codepage) ??
      a.title ??
      propString(prop(a.props, PID.displayName), codepage) ??
      "attachment";
    out.attachments.push({ filename, contentType: propString(prop(a.props, PID.attachMimeTag), codepage), content });
  }
  return out;
}
