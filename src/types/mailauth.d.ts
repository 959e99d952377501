// mailauth 4.x (the last line that runs on Node 20) ships no types; these are the parts we use.
declare module "mailauth/lib/parse-dkim-headers.js" {
  interface ResultEntry {
    value: string;
    comment?: string;
    header?: Record<string, string>;
    smtp?: Record<string, string>;
  }
  interface Parsed {
    header: string;
    /** The authserv-id: which server wrote the header. */
    value: string;
    [method: string]: ResultEntry | ResultEntry[] | string | undefined;
  }
  function headerParser(header: string): { parsed: Parsed; original: string };
  export default headerParser;
}

declare module "mailauth/lib/dkim/verify.js" {
  /** (name, rrtype) → DNS answer, e.g. for TXT: [["v=DKIM1; k=rsa; p=..."]]. */
  export type DNSResolver = (name: string, rrtype: string) => Promise<unknown>;
  export interface DkimResult {
    signingDomain?: string;
    selector?: string;
    status?: { result: string; comment?: string; aligned?: string | false };
  }
  export function dkimVerify(
    input: Buffer | string,
    options?: { resolver?: DNSResolver; curTime?: Date },
  ): Promise<{ headerFrom: string[]; envelopeFrom: string | false; results: DkimResult[] }>;
}

declare module "mailauth/lib/dkim/sign.js" {
  export function dkimSign(
    input: Buffer | string,
    options: {
      canonicalization?: string;
      signTime?: Date;
      signatureData: Array<{ signingDomain: string; selector: string; privateKey: string | Buffer; algorithm?: string }>;
    },
  ): Promise<{ signatures: string; errors: unknown[] }>;
}
