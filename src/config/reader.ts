import { TicketpostError } from "../shared/errors.js";

/** Reads one level of the JSON config, naming the full key ("imap.port") in every error. */
export type Json = Record<string, unknown>;

export function fail(key: string, problem: string): never {
  throw new TicketpostError("ECONFIG", `config: ${key} ${problem}`);
}

export class Reader {
  constructor(
    private readonly obj: Json,
    private readonly prefix: string,
  ) {}
  private key(k: string) {
    return this.prefix ? `${this.prefix}.${k}` : k;
  }
  private raw(k: string): unknown {
    return this.obj[k];
  }
  section(k: string): Reader {
    const v = this.raw(k);
    if (v === undefined || v === null) return new Reader({}, this.key(k));
    if (typeof v !== "object" || Array.isArray(v)) fail(this.key(k), "must be an object");
    return new Reader(v as Json, this.key(k));
  }
  string(k: string, def?: string): string {
    const v = this.raw(k);
    if (v === undefined || v === null) {
      if (def === undefined) fail(this.key(k), "is required");
      return def;
    }
    if (typeof v !== "string" || v.trim() === "") fail(this.key(k), "must be a non-empty string");
    return v;
  }
  optionalString(k: string): string | null {
    const v = this.raw(k);
    if (v === undefined || v === null || v === "") return null;
    if (typeof v !== "string") fail(this.key(k), "must be a string");
    return v;
  }
  int(k: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(k);
    if (v === undefined || v === null) return def;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      fail(this.key(k), `must be a whole number from ${min} to ${max}`);
    }
    return v;
  }
  bool(k: string, def: boolean): boolean {
    const v = this.raw(k);
    if (v === undefined || v === null) return def;
    if (typeof v !== "boolean") fail(this.key(k), "must be true or false");
    return v;
  }
  /** A list of objects, each read with its own Reader ("departments[0].id"). */
  objects(k: string): Reader[] {
    const v = this.raw(k);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) fail(this.key(k), "must be a list");
    return v.map((item, i) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) fail(`${this.key(k)}[${i}]`, "must be an object");
      return new Reader(item as Json, `${this.key(k)}[${i}]`);
    });
  }
  strings(k: string): string[] {
    const v = this.raw(k);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.trim() === ""))
      fail(this.key(k), "must be a list of non-empty strings");
    return (v as string[]).map((x) => x.trim());
  }
  stringMap(k: string): Record<string, string> {
    const v = this.raw(k);
    if (v === undefined || v === null) return {};
    if (typeof v !== "object" || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string"))
      fail(this.key(k), "must be an object of strings");
    return { ...(v as Record<string, string>) };
  }
  name(k: string): string {
    return this.key(k);
  }
  /** The value as written, or null when the key is absent or null (to tell "not set" apart). */
  optionalRaw(k: string): unknown {
    return this.raw(k) ?? null;
  }
  /** The dotted key of this level itself ("mailboxes[1]"). */
  get path(): string {
    return this.prefix;
  }
  unknownKeys(known: string[]): void {
    for (const k of Object.keys(this.obj)) {
      if (!known.includes(k)) fail(this.key(k), `is not a known setting (known: ${known.join(", ")})`);
    }
  }
}

export const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

export function address(r: Reader, k: string, def?: string): string {
  const v = r.string(k, def).trim().toLowerCase();
  if (!ADDRESS.test(v)) fail(r.name(k), `must be a mail address like support@example.com (got "${v}")`);
  return v;
}
