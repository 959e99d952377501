import { expect } from "chai";
import { detectAutoReply, type AutoReplyKind } from "../../src/mail/auto-reply.js";
import { classifyMail } from "../../src/mail/classify.js";
import { parseMail } from "../../src/mail/parse.js";

/*
 * Automatic mail in any language is never acknowledged: out-of-office subjects as responders write
 * them in many languages, challenge/response filters with and without Auto-Submitted, and the
 * mails of people that look alike and must stay ordinary requests. Subjects and texts written for
 * the test, in the style of each responder.
 */

async function mail(subject: string, body: string, extra: string[] = []) {
  const lines = [
    "From: Sam Doe <sam@customer.example.org>",
    "To: support@help.example.net",
    `Subject: ${subject}`,
    "Message-ID: <m1@customer.example.org>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    ...extra,
    "",
    body,
    "",
  ];
  return parseMail(Buffer.from(lines.join("\r\n"), "utf8"));
}

const OUT_OF_OFFICE: Array<[language: string, subject: string]> = [
  ["Polish", "Automatyczna odpowiedź: [#T-4] Drukarka"],
  ["Polish (Outlook)", "Odpowiedź automatyczna: Drukarka"],
  ["Hebrew", "מענה אוטומטי: מדפסת"],
  ["Hebrew, another wording", "תשובה אוטומטית: מדפסת"],
  ["Danish", "Automatisk svar: Printer"],
  ["Danish absence", "Fraværende: Printer"],
  ["Norwegian absence, whole subject", "Fraværende"],
  ["Swedish", "Automatiskt svar: Skrivare"],
  ["Swedish absence", "Frånvaro: Skrivare"],
  ["Scandinavian Autosvar", "Autosvar: Printer"],
  ["Finnish", "Automaattinen vastaus: Tulostin"],
  ["Finnish absence", "Poissaolo - Tulostin"],
  ["Spanish absence", "Fuera de la oficina: [#T-4] Impresora"],
  ["Dutch absence", "Afwezig: Printer"],
  ["French absence", "Absence du bureau : Imprimante"],
  ["Polish absence", "Nieobecność w biurze: Drukarka"],
  ["Italian absence", "Fuori sede: Stampante"],
  ["Czech absence", "Mimo kancelář: Tiskárna"],
  ["German absence", "Abwesend: Drucker"],
  ["Czech", "Automatická odpověď: Tiskárna"],
  ["Russian", "Автоматический ответ: Принтер"],
  ["Ukrainian", "Автоматична відповідь: Принтер"],
  ["Japanese", "自動応答: プリンター"],
  ["Japanese absence notice", "不在のお知らせ"],
  ["Japanese bracketed", "【自動返信】プリンターの件"],
  ["Simplified Chinese", "自动回复: 打印机"],
  ["Traditional Chinese", "自動回覆: 印表機"],
  ["Korean", "자동 응답: 프린터"],
  ["Turkish", "Otomatik yanıt: Yazıcı"],
  ["Hungarian", "Automatikus válasz: Nyomtató"],
  ["Greek", "Αυτόματη απάντηση: Εκτυπωτής"],
  ["Romanian", "Răspuns automat: Imprimantă"],
  ["Croatian", "Automatski odgovor: Pisač"],
  ["Slovenian", "Samodejni odgovor: Tiskalnik"],
  ["Bulgarian", "Автоматичен отговор: Принтер"],
  ["Arabic", "رد تلقائي: الطابعة"],
  ["Vietnamese", "Trả lời tự động: Máy in"],
  ["Indonesian", "Balasan otomatis: Printer"],
  ["Catalan", "Resposta automàtica: Impressora"],
];

const PEOPLE: Array<[what: string, subject: string, body: string]> = [
  ["a Swede announcing an absence", "Frånvaro nästa vecka", "Hej, jag behöver tillgång till skrivaren innan jag går på semester."],
  [
    "a German asking for a deputy while absent",
    "Abwesend ab Montag, bitte Vertretung einrichten",
    "Hallo, bitte richtet für meine Abwesenheit eine Vertretung ein.",
  ],
  ["a Spaniard announcing an absence", "Ausente el lunes por médico", "Hola, el lunes no estaré; ¿podéis revisar mi portátil el martes?"],
  ["a Japanese question about forwarding while absent", "不在時の転送設定について", "不在時にメールを転送する方法を教えてください。"],
  ["an English absence request", "Absence request for Monday", "Please record my absence."],
  [
    "a customer stuck at a website's captcha",
    "Cannot register",
    "Your registration page asks me to confirm I'm human, but the captcha never loads.",
  ],
  [
    "a customer asking us to verify an address",
    "Please verify my new address",
    "I moved; please verify my address before you deliver the new laptop.",
  ],
];

const CHALLENGES: Array<[what: string, subject: string, body: string, extra: string[]]> = [
  [
    "a BoxTrapper-style challenge",
    "Your email requires verification verify#a1b2c3",
    "The message you sent requires that you verify that you are a real live human being and not a spam source.\n\nThis is an automated message from BoxTrapper.",
    [],
  ],
  [
    "a Spam Arrest-style challenge",
    "Please confirm your message",
    "I use Spam Arrest to keep my inbox clean. Click the link below to verify your email so that your message is delivered to me.",
    [],
  ],
  [
    "a challenge asking to confirm you are human before delivery",
    "Re: [#T-9] We received your request",
    "Hello! Before your message can be delivered, please confirm you are human by clicking the link below.",
    ["Auto-Submitted: auto-replied"],
  ],
  [
    "a hosted sender-verification notice without automatic headers",
    "Sender verification required",
    "We are holding your message until you verify your e-mail address. It will be delivered once you confirm.",
    [],
  ],
  [
    "a message held pending verification",
    "Undelivered: awaiting sender confirmation",
    "Your message has been held pending verification of the sender. Reply to this mail to release it.",
    [],
  ],
  [
    "a German challenge",
    "Bitte bestätigen Sie Ihre Nachricht",
    "Ihre Nachricht wird erst zugestellt, wenn Sie bestätigen, dass Sie ein Mensch sind.",
    [],
  ],
];

describe("mail/auto-reply in many languages, and challenge/response", () => {
  for (const [language, subject] of OUT_OF_OFFICE) {
    it(`an out-of-office reply in ${language} ("${subject}") is an automatic reply, never acknowledged`, async () => {
      const msg = await mail(subject, "Ich bin nicht im Büro / I am away.");
      const verdict = detectAutoReply(msg);
      expect(verdict.kind, verdict.reasons.join("; ")).to.equal("auto-reply" satisfies AutoReplyKind);
      expect(verdict.reasons.join("\n")).to.match(/out-of-office subject/);
      const c = classifyMail(msg, { messageIdDomain: "help.example.net", isOwn: () => false });
      expect([c.kind, c.automatic]).to.deep.equal(["request", true]);
    });
  }

  for (const [what, subject, body, extra] of CHALLENGES) {
    it(`${what} is automatic (a challenge), never answered`, async () => {
      const verdict = detectAutoReply(await mail(subject, body, extra));
      expect(verdict.kind, verdict.reasons.join("; ")).to.equal("challenge" satisfies AutoReplyKind);
      expect(verdict.reasons.join("\n")).to.match(/challenge\/response|verify before delivery/);
    });
  }

  for (const [what, subject, body] of PEOPLE) {
    it(`${what} is a person's mail`, async () => {
      const verdict = detectAutoReply(await mail(subject, body));
      expect(verdict.kind, verdict.reasons.join("; ")).to.equal("none" satisfies AutoReplyKind);
    });
  }
});
