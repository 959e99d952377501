import { createRequire } from "node:module";
import type Forge from "node-forge";

// node-forge (CommonJS) is loaded by the first S/MIME part: most mails have none, and loading it
// costs every `ticketpost` start that parses mail.
const require = createRequire(import.meta.url);
let loaded: typeof Forge | undefined;
const nodeForge = (): typeof Forge => (loaded ??= require("node-forge") as typeof Forge);

/*
 * Opaque S/MIME signatures (RFC 8551 §3.5.2: application/pkcs7-mime; smime-type=signed-data,
 * smime.p7m): the signed MIME entity is inside the CMS SignedData (RFC 5652 §5) and no reader
 * without S/MIME support sees it. node-forge reads the CMS structure; the signature is not
 * verified (a ticket system has no trust store for its requesters' certificates).
 */

export class SmimeError extends Error {}

interface Asn1Node {
  value: string | Asn1Node[];
}

/** The bytes of an OCTET STRING, also when a BER encoder split it into a constructed string. */
function octets(node: Asn1Node): string {
  return typeof node.value === "string" ? node.value : node.value.map(octets).join("");
}

/**
 * The signed content of a CMS SignedData (DER or BER): the MIME entity that was signed, as bytes.
 * Throws SmimeError when the data is not SignedData or carries no content (a detached signature).
 */
export function signedContent(der: Buffer): Buffer {
  const forge = nodeForge();
  let message: Forge.pkcs7.PkcsSignedData;
  try {
    message = forge.pkcs7.messageFromAsn1(
      forge.asn1.fromDer(forge.util.createBuffer(der.toString("binary")), false),
    ) as Forge.pkcs7.PkcsSignedData;
  } catch (err) {
    throw new SmimeError(`not a readable CMS structure: ${(err as Error).message}`);
  }
  const type = (message as { type?: string }).type;
  if (type === forge.pki.oids.envelopedData)
    throw new SmimeError("encrypted (EnvelopedData): it cannot be read without the recipient's key");
  if (type !== forge.pki.oids.signedData) throw new SmimeError("CMS structure is not SignedData");
  const captured = (message as unknown as { rawCapture?: { content?: Asn1Node | Asn1Node[] } }).rawCapture?.content;
  const node = Array.isArray(captured) ? captured[0] : captured;
  if (!node) throw new SmimeError("SignedData without content (a detached signature)");
  return Buffer.from(octets(node), "binary");
}
