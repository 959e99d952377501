import type { InboundMessage } from "../types.js";

export function rawBodyText(raw: Buffer): string {
  const rawText = raw.toString("utf8").replace(/\r\n?/g, "\n");
  const bodyStart = rawText.indexOf("\n\n");
  return bodyStart < 0 ? "" : rawText.slice(bodyStart + 2);
}

export function header(msg: InboundMessage, name: string): string | null {
  return msg.headers[name]?.[0]?.trim() ?? null;
}

export function bareId(id: string | null | undefined): string | null {
  if (!id) return null;
  const m = /<([^<>\s]+)>/.exec(id);
  const bare = (m ? m[1] : id.trim()).trim();
  return bare === "" || !bare.includes("@") ? null : bare;
}

export function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
