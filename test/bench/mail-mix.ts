import MailComposer from "nodemailer/lib/mail-composer";

/*
 * The benchmark's mail generator: a seeded, deterministic mix of what a support mailbox gets.
 * Mail i of a stream depends only on (seed, stream, i), so a --quick run uses the first mails
 * of a full run and two runs with the same seed send the same bytes. nodemailer's MailComposer
 * writes the MIME (quoted-printable German text, encoded-word subjects, base64 attachments), as a
 * real client would.
 */

export type Lang = "en" | "de";
export type MailShape = "plain" | "html" | "html-only" | "quoted";

export interface BenchMail {
  raw: Buffer;
  /** Without angle brackets. */
  messageId: string;
  from: string;
  shape: MailShape;
  lang: Lang;
  attachmentBytes: number;
}

export const SUPPORT_ADDRESS = "support@example.test";

/** mulberry32: small, fast and good enough to pick words and fill attachment bytes. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function streamSeed(seed: number, stream: string, i: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of `${stream}:${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

type Rand = () => number;
const pick = <T>(r: Rand, list: readonly T[]): T => list[Math.floor(r() * list.length)];
const between = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const FIRST = {
  en: [
    "Alice",
    "Brian",
    "Chloe",
    "David",
    "Emma",
    "Frank",
    "Grace",
    "Henry",
    "Isla",
    "Jack",
    "Karen",
    "Liam",
    "Megan",
    "Noah",
    "Olivia",
    "Peter",
    "Rachel",
    "Sam",
  ],
  de: [
    "Jürgen",
    "Anja",
    "Björn",
    "Doris",
    "Günther",
    "Heike",
    "Jörg",
    "Katrin",
    "Lukas",
    "Märta",
    "Nils",
    "Ömer",
    "Petra",
    "Sören",
    "Ute",
    "Wolfgang",
    "Zoë",
    "Tobias",
  ],
};
const LAST = {
  en: ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Wright", "Hughes", "Edwards", "Green", "Hall"],
  de: ["Müller", "Schäfer", "Weiß", "Köhler", "Groß", "Bäcker", "Schröder", "Krüger", "Hoffmann", "Fuß", "Lange", "Wagner"],
};
const DOMAINS = [
  "customer.test",
  "acme-gmbh.test",
  "beispiel-ag.test",
  "northwind.test",
  "contoso.test",
  "stadtwerke-nord.test",
  "mail.test",
];
const AGENTS = [
  { name: "Sandra Support", address: "sandra@vendor.test" },
  { name: "Thomas Vertrieb", address: "thomas.vertrieb@vendor.test" },
];

const SUBJECTS = {
  en: [
    "Printer on 3rd floor not working",
    "Cannot log in to the VPN",
    "Invoice 2025-0142 shows the wrong amount",
    "Password reset link expired",
    "Laptop battery drains within an hour",
    "Outlook keeps asking for my password",
    "Access to the shared drive for a new colleague",
    "Order 48213 has not arrived",
    "Contact form on the website returns an error",
    "New employee starting Monday: accounts needed",
    "Monitor flickers after the update",
    "Cannot open the attachment a customer sent",
    "Question about my contract",
    "Refund for a duplicate payment",
    "Mobile app crashes on start",
  ],
  de: [
    "Drucker im 2. OG druckt nicht",
    "VPN-Verbindung bricht ständig ab",
    "Rechnung 2025-0317: falscher Betrag",
    "Passwort zurücksetzen funktioniert nicht",
    "Zugang zum Laufwerk für neue Mitarbeiterin",
    "Bestellung 48213 nicht angekommen",
    "Fehlermeldung beim Öffnen von Excel-Dateien",
    "Kündigung meines Vertrags",
    "Rückerstattung für doppelte Abbuchung",
    "Bildschirm flackert nach dem Update",
    "Telefonanlage: Weiterleitung einrichten",
    "Lieferschein fehlt",
    "Anfrage zu unserem Wartungsvertrag",
    "Zugangsdaten für das Kundenportal",
    "E-Mails an Kunden kommen nicht an",
  ],
};

const SENTENCES = {
  en: [
    "Since Monday morning the problem happens several times a day.",
    "I already restarted the computer twice, but nothing changed.",
    "The error message says that the server could not be reached.",
    "My colleagues in the same office do not seem to have this issue.",
    "It started right after the latest update was installed over the weekend.",
    "Could you please have a look at this as soon as possible?",
    "We need this working before the quarterly report is due on Friday.",
    "I attached a screenshot of the message I get.",
    "The order was placed on the 3rd and the tracking number has not changed since.",
    "Our customer number is 104-22817, in case you need it.",
    "The amount on the invoice is 1,240.00 EUR but we agreed on 1,040.00 EUR.",
    "I tried it with Chrome and with Firefox, same result.",
    "When I click on the link, the page says the token is no longer valid.",
    "The device is about two years old and still under warranty.",
    "This blocks the whole team, so any workaround would already help.",
    "Let me know if you need any more details from my side.",
    "We followed the steps in your knowledge base article, without success.",
    "The issue only occurs when I am connected through the VPN.",
    "Please also check whether the same applies to our second location.",
    "Thank you in advance for your help.",
  ],
  de: [
    "Seit Montagmorgen tritt das Problem mehrmals täglich auf.",
    "Ich habe den Rechner bereits zweimal neu gestartet, leider ohne Erfolg.",
    "Die Fehlermeldung lautet, dass der Server nicht erreichbar sei.",
    "Bei den Kollegen im selben Büro funktioniert alles einwandfrei.",
    "Das Problem begann direkt nach dem Update am Wochenende.",
    "Könnten Sie sich das bitte möglichst bald ansehen?",
    "Wir brauchen das dringend vor dem Quartalsabschluss am Freitag.",
    "Im Anhang finden Sie einen Screenshot der Meldung.",
    "Die Bestellung wurde am 3. aufgegeben, die Sendungsverfolgung zeigt seitdem keinen Fortschritt.",
    "Unsere Kundennummer lautet 104-22817, falls Sie sie benötigen.",
    "Auf der Rechnung stehen 1.240,00 € statt der vereinbarten 1.040,00 €.",
    "Ich habe es mit Chrome und Firefox versucht, gleiches Ergebnis.",
    "Wenn ich auf den Link klicke, heißt es, der Schlüssel sei abgelaufen.",
    "Das Gerät ist etwa zwei Jahre alt und noch in der Gewährleistung.",
    "Das blockiert das ganze Team, ein Workaround würde schon helfen.",
    "Melden Sie sich gern, falls Sie weitere Angaben von mir brauchen.",
    "Wir sind der Anleitung aus Ihrer Wissensdatenbank gefolgt, ohne Erfolg.",
    "Der Fehler tritt nur auf, wenn ich über das VPN verbunden bin.",
    "Bitte prüfen Sie auch, ob unser zweiter Standort in Süddeutschland betroffen ist.",
    "Vielen Dank im Voraus für Ihre Unterstützung.",
  ],
};

const GREETING = {
  en: ["Hello,", "Hi team,", "Dear support team,", "Good morning,"],
  de: ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen,"],
};
const CLOSING = {
  en: ["Best regards", "Kind regards", "Thanks", "Cheers"],
  de: ["Viele Grüße", "Mit freundlichen Grüßen", "Beste Grüße", "Danke und Gruß"],
};
const REPLY_LINES = {
  en: [
    "Thanks for the quick answer.",
    "Unfortunately the problem is back since this morning.",
    "Here is the additional information you asked for.",
    "It works again, thank you!",
    "Any news on this?",
  ],
  de: [
    "Danke für die schnelle Rückmeldung.",
    "Leider ist das Problem seit heute früh wieder da.",
    "Anbei die gewünschten zusätzlichen Informationen.",
    "Es funktioniert wieder, vielen Dank!",
    "Gibt es hierzu schon Neuigkeiten?",
  ],
};
const MAILERS = ["Microsoft Outlook 16.0", "Mozilla Thunderbird 128.3.1", "Apple Mail (2.3774.500.171)", "Roundcube Webmail/1.6.9"];

interface Person {
  name: string;
  address: string;
  lang: Lang;
}

function ascii(s: string): string {
  return s
    .toLowerCase()
    .replace(/ä/g, "ae")
    .replace(/ö/g, "oe")
    .replace(/ü/g, "ue")
    .replace(/ß/g, "ss")
    .replace(/ë/g, "e")
    .replace(/[^a-z]/g, "");
}

/**
 * A customer from a pool of 400 names. With `unique`, the address is the sender's alone: each
 * request then earns its acknowledgement (the gateway caps automatic mails per address and hour).
 */
function customer(r: Rand, unique?: string): Person {
  const k = Math.floor(400 * r() ** 1.6);
  const p = rng(streamSeed(7, "person", k));
  const lang: Lang = p() < 0.4 ? "de" : "en";
  const first = pick(p, FIRST[lang]);
  const last = pick(p, LAST[lang]);
  return { name: `${first} ${last}`, address: `${ascii(first)}.${ascii(last)}${unique ? `.${unique}` : k}@${pick(p, DOMAINS)}`, lang };
}

function paragraphs(r: Rand, lang: Lang): string[] {
  const roll = r();
  const count = roll < 0.7 ? between(r, 1, 3) : roll < 0.95 ? between(r, 4, 10) : between(r, 20, 60);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = between(r, 1, 4);
    out.push(Array.from({ length: n }, () => pick(r, SENTENCES[lang])).join(" "));
  }
  return out;
}

function signature(p: Person): string {
  return `${p.name}\n${p.address.split("@")[1].split(".")[0].toUpperCase()}\nTel. +49 40 ${String(p.name.length * 7919).padStart(6, "0")}`;
}

function quote(text: string): string {
  return text
    .split("\n")
    .map((l) => (l === "" || l.startsWith(">") ? `>${l}` : `> ${l}`))
    .join("\n");
}

const BASE_DATE = Date.UTC(2025, 2, 3, 8, 0, 0);

function dateLine(lang: Lang, d: Date, who: string): string {
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  if (lang === "de")
    return `Am ${String(d.getUTCDate()).padStart(2, "0")}.${String(d.getUTCMonth() + 1).padStart(2, "0")}.${d.getUTCFullYear()} um ${hh}:${mm} schrieb ${who}:`;
  return `On ${d.toUTCString().slice(0, 16)} at ${hh}:${mm}, ${who} wrote:`;
}

/** An earlier conversation with someone else (a vendor's agent) that the customer forwards to support. */
function quotedHistory(r: Rand, lang: Lang, me: Person, date: Date): string {
  const agent = pick(r, AGENTS);
  const levels = between(r, 1, 4);
  let history = "";
  for (let level = levels; level >= 1; level--) {
    const who = level % 2 === 1 ? agent : me;
    const body = paragraphs(r, lang).slice(0, 3).join("\n\n");
    const when = new Date(date.getTime() - level * 86_400_000);
    if (r() < 0.3) {
      const block =
        lang === "de"
          ? `-----Ursprüngliche Nachricht-----\nVon: ${who.name} <${who.address}>\nGesendet: ${when.toUTCString()}\nAn: ${me.address}\nBetreff: ${pick(r, SUBJECTS[lang])}\n\n${body}`
          : `-----Original Message-----\nFrom: ${who.name} <${who.address}>\nSent: ${when.toUTCString()}\nTo: ${me.address}\nSubject: ${pick(r, SUBJECTS[lang])}\n\n${body}`;
      history = history ? `${block}\n\n${history}` : block;
    } else {
      const inner = history ? `${body}\n\n${history}` : body;
      history = `${dateLine(lang, when, `${who.name} <${who.address}>`)}\n${quote(inner)}`;
    }
  }
  return history;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Roughly what Outlook and webmailers send: styles, a wrapper div, paragraphs, blockquotes for quotes. */
function toHtml(text: string): string {
  const blocks = text.split(/\n{2,}/).map((block) => {
    if (block.startsWith(">"))
      return `<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">${escapeHtml(block.replace(/^> ?/gm, "")).replace(/\n/g, "<br>\n")}</blockquote>`;
    return `<p class="MsoNormal" style="margin:0 0 12px 0"><span style="font-family:Calibri,sans-serif;font-size:11pt">${escapeHtml(block).replace(/\n/g, "<br>\n")}</span></p>`;
  });
  return `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"><style>p.MsoNormal{margin:0;font-size:11pt;font-family:"Calibri",sans-serif}</style></head><body lang="DE" link="#0563C1"><div class="WordSection1">\n${blocks.join("\n")}\n</div></body></html>`;
}

/** Attachment-like bytes: the right magic numbers, then incompressible noise. */
export function fakeFile(r: Rand, kind: "pdf" | "png", size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  const words = new Uint32Array(buf.buffer, buf.byteOffset, Math.floor(size / 4));
  let s = Math.floor(r() * 2 ** 32) >>> 0;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s >>> 0;
  }
  for (let i = words.length * 4; i < size; i++) buf[i] = 0x20;
  const head =
    kind === "pdf"
      ? Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "latin1")
      : Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  head.copy(buf, 0);
  if (kind === "pdf") Buffer.from("\n%%EOF\n").copy(buf, Math.max(head.length, size - 7));
  return buf;
}

interface Attachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

function maybeAttachment(r: Rand, lang: Lang, share = 0.2): Attachment | null {
  if (r() >= share) return null;
  const kind = r() < 0.6 ? "pdf" : "png";
  const size = between(r, 20 * 1024, 200 * 1024);
  const names =
    kind === "pdf"
      ? lang === "de"
        ? ["Rechnung-2025-0317.pdf", "Lieferschein.pdf", "Vertrag_Änderung.pdf"]
        : ["invoice-2025-0142.pdf", "order-confirmation.pdf", "contract.pdf"]
      : lang === "de"
        ? ["Fehlermeldung.png", "Bildschirmfoto 2025-03-03.png"]
        : ["screenshot.png", "error.png"];
  return { filename: pick(r, names), content: fakeFile(r, kind, size), contentType: kind === "pdf" ? "application/pdf" : "image/png" };
}

function compose(mail: Record<string, unknown>, boundary: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // A fixed base boundary keeps the bytes identical from run to run.
    new MailComposer({ ...mail, baseBoundary: boundary } as ConstructorParameters<typeof MailComposer>[0])
      .compile()
      .build((err, buf) => (err ? reject(err) : resolve(buf)));
  });
}

/**
 * Mail i of a stream of new requests: ~45% plain, ~25% text+HTML, ~5% HTML only, ~25% quoting an
 * earlier conversation ("Re:"/"AW:", In-Reply-To a Message-ID we never saw, so still a new
 * ticket); ~20% carry a PDF or PNG of 20–200 KB; ~40% German.
 */
export async function newRequest(seed: number, stream: string, i: number): Promise<BenchMail> {
  const r = rng(streamSeed(seed, stream, i));
  const me = customer(r, `${stream}${i}`);
  const lang = r() < 0.9 ? me.lang : me.lang === "de" ? "en" : "de";
  const roll = r();
  const shape: MailShape = roll < 0.45 ? "plain" : roll < 0.7 ? "html" : roll < 0.75 ? "html-only" : "quoted";
  const date = new Date(BASE_DATE + i * 97_000);
  const domain = me.address.split("@")[1];
  const messageId = `${stream}.${i}.${((r() * 2 ** 32) >>> 0).toString(16)}@${domain}`;
  let subject = pick(r, SUBJECTS[lang]);
  const body = [pick(r, GREETING[lang]), ...paragraphs(r, lang), `${pick(r, CLOSING[lang])}\n${signature(me)}`];
  const headers: Record<string, string> = { "X-Mailer": pick(r, MAILERS) };
  let inReplyTo: string | undefined;
  let references: string[] | undefined;
  if (shape === "quoted") {
    subject = `${lang === "de" ? "AW" : "Re"}: ${subject}`;
    body.push(quotedHistory(r, lang, me, date));
    inReplyTo = `<ext.${i}.${((r() * 2 ** 32) >>> 0).toString(16)}@vendor.test>`;
    references = [`<ext.${i}.0@vendor.test>`, inReplyTo];
  }
  const text = body.join("\n\n");
  const attachment = maybeAttachment(r, lang);
  const cc = r() < 0.1 ? customer(r) : null;
  const raw = await compose(
    {
      from: { name: me.name, address: me.address },
      to: SUPPORT_ADDRESS,
      cc: cc ? { name: cc.name, address: cc.address } : undefined,
      subject,
      date,
      messageId: `<${messageId}>`,
      inReplyTo,
      references,
      headers,
      text: shape === "html-only" ? undefined : text,
      html: shape === "plain" || (shape === "quoted" && r() < 0.6) ? undefined : toHtml(text),
      attachments: attachment ? [attachment] : [],
    },
    `${stream}${i}`,
  );
  return { raw, messageId, from: me.address, shape, lang, attachmentBytes: attachment?.content.length ?? 0 };
}

export async function newRequests(seed: number, stream: string, from: number, count: number): Promise<BenchMail[]> {
  const out: BenchMail[] = [];
  for (let i = from; i < from + count; i++) out.push(await newRequest(seed, stream, i));
  return out;
}

/** What a reply needs to know about the acknowledgement it answers (a row of the outbox table). */
export interface AckInfo {
  messageId: string;
  inReplyTo: string | null;
  subject: string;
  textBody: string;
  toAddress: string;
  toName: string | null;
  language: string;
}

/** The requester answers the acknowledgement like a mail client: "Re:"/"AW:", threading headers, the ack quoted below. */
export async function replyTo(seed: number, i: number, ack: AckInfo): Promise<BenchMail> {
  const r = rng(streamSeed(seed, "reply", i));
  const lang: Lang = ack.language === "de" ? "de" : "en";
  const me: Person = { name: ack.toName ?? ack.toAddress, address: ack.toAddress, lang };
  const date = new Date(BASE_DATE + 86_400_000 + i * 61_000);
  const messageId = `reply.${i}.${((r() * 2 ** 32) >>> 0).toString(16)}@${me.address.split("@")[1]}`;
  const lines = [
    pick(r, GREETING[lang]),
    pick(r, REPLY_LINES[lang]),
    ...paragraphs(r, lang).slice(0, between(r, 0, 3)),
    `${pick(r, CLOSING[lang])}\n${me.name}`,
  ];
  const text = `${lines.join("\n\n")}\n\n${dateLine(lang, new Date(date.getTime() - 3_600_000), `ACME Support <${SUPPORT_ADDRESS}>`)}\n${quote(ack.textBody.trim())}\n`;
  const attachment = maybeAttachment(r, lang, 0.1);
  const shape: MailShape = r() < 0.3 ? "html" : "plain";
  const raw = await compose(
    {
      from: { name: me.name, address: me.address },
      to: SUPPORT_ADDRESS,
      subject: `${lang === "de" ? "AW" : "Re"}: ${ack.subject}`,
      date,
      messageId: `<${messageId}>`,
      inReplyTo: `<${ack.messageId}>`,
      references: [...(ack.inReplyTo ? [`<${ack.inReplyTo}>`] : []), `<${ack.messageId}>`],
      headers: { "X-Mailer": pick(r, MAILERS) },
      text,
      html: shape === "html" ? toHtml(text) : undefined,
      attachments: attachment ? [attachment] : [],
    },
    `reply${i}`,
  );
  return { raw, messageId, from: me.address, shape, lang, attachmentBytes: attachment?.content.length ?? 0 };
}

/** One short request carrying a large scan. */
export async function bigMail(seed: number, attachmentBytes: number): Promise<BenchMail> {
  const r = rng(streamSeed(seed, "big", 0));
  const me = customer(r, "big");
  const messageId = `big.${attachmentBytes}@${me.address.split("@")[1]}`;
  const raw = await compose(
    {
      from: { name: me.name, address: me.address },
      to: SUPPORT_ADDRESS,
      subject: "Scans of all signed delivery notes 2024",
      date: new Date(BASE_DATE),
      messageId: `<${messageId}>`,
      text: "Hello,\n\nattached are the scans you asked for, all in one file.\n\nBest regards\n" + me.name,
      attachments: [{ filename: "delivery-notes-2024.pdf", content: fakeFile(r, "pdf", attachmentBytes), contentType: "application/pdf" }],
    },
    "big",
  );
  return { raw, messageId, from: me.address, shape: "plain", lang: "en", attachmentBytes };
}

export interface MixSummary {
  mails: number;
  totalBytes: number;
  avgBytes: number;
  maxBytes: number;
  withAttachment: number;
  german: number;
  shapes: Record<MailShape, number>;
}

export function summarize(mails: BenchMail[]): MixSummary {
  const shapes: Record<MailShape, number> = { plain: 0, html: 0, "html-only": 0, quoted: 0 };
  let total = 0;
  let max = 0;
  for (const m of mails) {
    shapes[m.shape]++;
    total += m.raw.length;
    max = Math.max(max, m.raw.length);
  }
  return {
    mails: mails.length,
    totalBytes: total,
    avgBytes: mails.length ? Math.round(total / mails.length) : 0,
    maxBytes: max,
    withAttachment: mails.filter((m) => m.attachmentBytes > 0).length,
    german: mails.filter((m) => m.lang === "de").length,
    shapes,
  };
}
