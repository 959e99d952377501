import { createHash } from "node:crypto";
import { crc32, deflateSync } from "node:zlib";

/*
 * Real PNG files for tests (PNG spec, W3C REC-PNG: signature, IHDR, IDAT, IEND), made here so no
 * fixture is copied: a gradient with a seeded pattern, RGB, 8 bits per channel. Noise makes the
 * size grow with the area, so a test can ask for files of roughly a given size.
 */

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A width×height RGB PNG; `noise` (0–255) adds seeded noise so the file does not compress away. */
export function makePng(width: number, height: number, seed = 1, noise = 0): Buffer {
  const rows: Buffer[] = [];
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const n = noise ? (rnd() * noise) >> 8 : 0;
      row[1 + x * 3] = (x * 255) / width + n;
      row[2 + x * 3] = (y * 255) / height + n;
      row[3 + x * 3] = 160 + n / 2;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Bytes that do not compress (a stand-in for a zip or a PDF's streams), seeded. */
export function randomishBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(String(seed)).digest();
  for (let i = 0; i < size; i += 32) {
    block = createHash("sha256").update(block).digest();
    block.copy(out, i, 0, Math.min(32, size - i));
  }
  return out;
}

/** A small but real PDF (one page, one line of text), with byte offsets in its xref table. */
export function makePdf(text: string): Buffer {
  const safe = text.replace(/[()\\]/g, "");
  const stream = `BT /F1 18 Tf 72 720 Td (${safe}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

export const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
