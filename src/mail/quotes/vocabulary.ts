/*
 * What mail clients write around quoted history, per language. Gathered from the clients'
 * own localisations (Outlook desktop/OWA, Gmail, Apple Mail, Thunderbird, mutt, Yahoo, Zimbra,
 * Roundcube, Samsung Email, HCL Notes) in the languages our users write: English, German,
 * French, Spanish, Portuguese, Italian, Dutch, Danish, Norwegian, Swedish, Finnish, Polish,
 * Czech, Slovak, Hungarian, Russian, Ukrainian, Turkish, Greek, Chinese, Japanese, Korean.
 * Every entry is lower case and NFKC-normalised; compare with `fold()`.
 */

// Directional marks (Hebrew and Arabic Outlook put them around labels) are invisible and never part of a word.
const BIDI = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;
export const fold = (s: string): string => s.normalize("NFKC").replace(BIDI, "").toLowerCase().replace(/\s+/g, " ").trim();

export type HeaderField = "from" | "date" | "to" | "cc" | "subject" | "replyTo";

const FIELD_LABELS: Record<HeaderField, string[]> = {
  from: [
    "from", "von", "absender", "fra", "från", "avsändare", "de", "expéditeur", "da", "mittente", "van", "afzender",
    "od", "nadawca", "от", "від", "відправник", "发件人", "寄件者", "寄件人", "差出人", "送信者", "보낸 사람", "보낸사람",
    "lähettäjä", "feladó", "remitente", "remetente", "odesílatel", "odosielateľ", "kimden", "gönderen", "από", "frá",
    "מאת", "من", "المرسل",
  ],
  date: [
    "sent", "date", "sent on", "gesendet", "datum", "sendt", "skickat", "skickades", "envoyé", "envoyé le", "date d'envoi",
    "enviado", "enviado el", "enviada em", "enviado em", "fecha", "inviato", "data", "verzonden", "verstuurd", "wysłano",
    "wysłane", "data wysłania", "отправлено", "дата", "надіслано", "发送时间", "日期", "时间", "寄件日期", "傳送時間",
    "送信日時", "日時", "日付", "보낸 날짜", "날짜", "lähetetty", "päivämäärä", "päiväys", "elküldve", "dátum", "küldve",
    "odesláno", "odoslané", "tarih", "gönderildi", "gönderilme tarihi", "ημερομηνία", "στάλθηκε", "sendt den",
    "נשלח", "תאריך", "تاريخ الإرسال", "أرسل", "أُرسل", "التاريخ",
  ],
  to: [
    "to", "an", "til", "till", "à", "a", "para", "aan", "do", "adresat", "кому", "komu", "收件人", "收件者", "宛先",
    "받는 사람", "받는사람", "vastaanottaja", "címzett", "destinatario", "destinataire", "ontvanger", "kime", "alıcı",
    "προς", "adresát", "komu", "אל", "إلى", "الى",
  ],
  cc: [
    "cc", "kopie", "kopi", "kopia", "copie", "copia", "копия", "копія", "抄送", "副本", "抄送人", "참조", "kopio",
    "másolat", "kopie an", "kópia", "dw", "bilgi", "κοιν", "κοιν.", "cc:", "עותק", "نسخة", "نسخة إلى",
  ],
  subject: [
    "subject", "betreff", "emne", "ämne", "objet", "sujet", "oggetto", "onderwerp", "temat", "тема", "主题", "主旨",
    "件名", "제목", "aihe", "tárgy", "asunto", "assunto", "předmět", "predmet", "konu", "θέμα", "tema", "efni", "נושא", "الموضوع",
  ],
  replyTo: ["reply-to", "antwort an", "répondre à", "responder a", "rispondi a", "beantwoorden aan", "svar til"],
};

const LABEL_FIELD = new Map<string, HeaderField>();
for (const [field, labels] of Object.entries(FIELD_LABELS) as Array<[HeaderField, string[]]>) {
  for (const l of labels) if (!LABEL_FIELD.has(l)) LABEL_FIELD.set(l, field);
}

/** The header field a label names ("Envoyé", "送信日時", "*From*"), or null. */
export function headerField(label: string): HeaderField | null {
  return LABEL_FIELD.get(fold(label.replace(/\*/g, ""))) ?? null;
}

/** "Original message" banners ("-----Original Message-----" and its translations), inner text only. */
export const ORIGINAL_MESSAGE = [
  "original message", "reply message", "ursprüngliche nachricht", "originalnachricht", "ursprungliche nachricht",
  "message d'origine", "message original", "mensaje original", "messaggio originale", "messaggio originario",
  "oorspronkelijk bericht", "origineel bericht", "oprindelig meddelelse", "oprindelig besked", "opprinnelig melding",
  "ursprungligt meddelande", "originalmeddelande", "alkuperäinen viesti", "wiadomość oryginalna",
  "oryginalna wiadomość", "исходное сообщение", "оригинальное сообщение", "вихідне повідомлення", "původní zpráva",
  "pôvodná správa", "eredeti üzenet", "eredeti levél", "mensagem original", "原始邮件", "原始郵件", "原邮件",
  "元のメッセージ", "オリジナル メッセージ", "원본 메시지", "원래 메시지", "αρχικό μήνυμα", "orijinal mesaj",
  "özgün ileti", "izvorna poruka", "originalna poruka", "mesaj original",
  // Zimbra's own wording ("----- Mail original -----", "----- Ursprüngliche Mail -----"), Hebrew and Arabic Outlook.
  "mail original", "ursprüngliche mail", "original mail", "oorspronkelijke e-mail", "mail originale", "correo original",
  "הודעה מקורית", "الرسالة الأصلية",
];

/** Forward banners: what a client writes above a mail it forwards. The forwarded content is the request. */
export const FORWARDED_MESSAGE = [
  "forwarded message", "forwarded e-mail", "weitergeleitete nachricht", "message transféré", "message transfére",
  "mensaje reenviado", "messaggio inoltrato", "doorgestuurd bericht", "videresendt meddelelse", "videresendt besked",
  "videresendt melding", "vidarebefordrat meddelande", "vidarebefordrat mejl", "välitetty viesti",
  "przekazana wiadomość", "wiadomość przekazana", "пересылаемое сообщение", "пересланное сообщение",
  "переслане повідомлення", "转发的邮件", "轉寄的郵件", "転送されたメッセージ", "転送メッセージ", "전달된 메시지",
  "전달된 메일", "továbbított üzenet", "továbbított levél", "mensagem encaminhada", "přeposlaná zpráva",
  "preposlaná správa", "iletilen ileti", "προωθημένο μήνυμα",
  "mail transféré", "weitergeleitete mail", "הודעה שהועברה", "رسالة معاد توجيهها",
  // Apple Mail's sentence forms, written with a colon instead of dashes.
  "begin forwarded message", "anfang der weitergeleiteten nachricht", "début du message réexpédié",
  "début du message transféré", "inicio del mensaje reenviado", "comienzo del mensaje reenviado",
  "inizio messaggio inoltrato", "begin doorgestuurd bericht", "början av vidarebefordrat meddelande",
  "välitetty viesti alkaa", "początek przekazywanej wiadomości", "начало переадресованного сообщения",
  "以下是转发的邮件", "转发邮件", "továbbított levél kezdete", "início da mensagem reencaminhada",
  "začátek přeposlané zprávy",
];

/** The end of an inline forward (mutt, Thunderbird). */
export const END_OF_FORWARD = ["end forwarded message", "ende der weitergeleiteten nachricht", "fin du message transféré"];

/** Verbs of attribution lines ("X wrote:", "a écrit :", "schreef", "写道", "のメッセージ", "작성"). */
export const WRITING_VERBS = [
  "wrote", "writes", "schrieb", "schreibt", "a écrit", "écrit", "escribió", "escribio", "ha scritto", "scrisse",
  "schreef", "heeft geschreven", "skrev", "skrev følgende", "napisał", "napisała", "napisał(a)", "pisze",
  "написал", "написала", "написал(а)", "пишет", "написав", "написала", "kirjoitti", "írta", "escreveu", "yazdı",
  "napsal", "napsala", "napísal", "έγραψε", "kirjutas", "rašė", "rakstīja", "je napisal", "napisao", "napisala",
  "a scris", "skrifaði", "quoting", "zitat von", "citando", "citation de",
  "כתב", "כתבה", "כתב/ה", "كتب",
];
/** Unspaced-script verbs, matched anywhere in the line. */
export const WRITING_VERBS_UNSPACED = ["写道", "寫道", "のメッセージ", "書きました", "작성", "님이 작성", "が書き"];

/** Lines a phone or webmail adds under the text ("Sent from my iPhone"), as start patterns. */
export const SENT_FROM = [
  /^sent (?:from|with|using|via|by) /, /^get outlook for /, /^von meinem .{2,40} gesendet/, /^gesendet (?:von|mit|vom) /,
  /^envoyé (?:de|depuis|à partir de|avec) /, /^télécharge[rz] outlook pour /, /^enviado (?:desde|de|do|con) /,
  /^enviada (?:desde|de|do) /, /^inviato (?:da|con|dal|dal mio) /, /^verzonden (?:vanaf|met|via) /,
  /^verstuurd (?:vanaf|met|via) /, /^sendt fra /, /^skickat från /, /^lähetetty /, /^wysłane (?:z|ze|przez) /,
  /^отправлено (?:с|из|через) /, /^надіслано (?:з|із) /, /^odesláno (?:z|ze) /, /^elküldve /, /^.{0,30}(?:から送信|より送信)$/,
  /^(?:从我的|發自我的|发自我的|来自我的).{1,30}$/, /^.{1,30}에서 보냄$/, /^.{1,30}에서 보냈습니다$/,
];
/** Word a "Sent from …" line names (a device or a mail app); without one the line is text. */
export const SENT_FROM_THING = /iphone|ipad|android|mobile|samsung|galaxy|outlook|yahoo|gmail|mail|smartphone|phone|handy|telefon|tablet|blackberry|huawei|xiaomi|pixel|windows|proton|aol|gmx|web\.de|t-online|móvil|movil|cellulare|téléphone|telefoon|puhelin|телефон/i;

/** Closings, when they stand on their own line (optionally followed by a name on the same line). */
export const CLOSINGS = [
  "regards", "best regards", "kind regards", "warm regards", "many regards", "best", "best wishes", "cheers",
  "sincerely", "yours sincerely", "yours truly", "yours faithfully", "all the best", "thanks and regards",
  "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "freundliche grüsse", "viele grüße",
  "viele grüsse", "beste grüße", "liebe grüße", "herzliche grüße", "schöne grüße", "gruß", "grüße", "mfg", "lg", "vg",
  "mvh", "med venlig hilsen", "venlig hilsen", "de bedste hilsner", "bedste hilsner", "hilsen", "med vennlig hilsen",
  "vennlig hilsen", "med vänliga hälsningar", "vänliga hälsningar", "hälsningar", "vänligen", "ystävällisin terveisin",
  "terveisin", "parhain terveisin", "cordialement", "bien cordialement", "bien à vous", "salutations",
  "meilleures salutations", "sincères salutations", "bonne journée", "saludos", "un saludo", "saludos cordiales",
  "un cordial saludo", "atentamente", "cordiali saluti", "distinti saluti", "saluti", "un saluto",
  "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet", "groeten", "groet", "mvg", "pozdrawiam",
  "z poważaniem", "serdecznie pozdrawiam", "pozdrawiam serdecznie", "с уважением", "всего доброго", "з повагою",
  "atenciosamente", "cumprimentos", "com os melhores cumprimentos", "üdvözlettel", "tisztelettel", "s pozdravem",
  "s přátelským pozdravem", "saygılarımla", "με εκτίμηση", "よろしくお願いします", "よろしくお願いいたします",
  "よろしくお願い致します", "敬具", "此致", "此致敬礼", "祝好", "감사합니다", "안녕히 계세요",
];
