/*
 * The words machines answer mail with: out-of-office subjects in many languages, and the
 * challenges of challenge/response spam filters. Read by detectAutoReply (auto-reply.ts), which
 * gives the verdict; kept apart because the lists grow with every language and product.
 */

/*
 * What out-of-office responders put at the start of the subject (a person's "Re: out of office
 * tomorrow?" starts differently), after an optional bracket ("[Auto-Reply]", "【自動応答】"):
 * Exchange/Outlook's "Automatic reply:" as it is translated, Lotus Notes ("Auto:"), Apple ("Auto
 * reply:"), Yahoo ("Auto Response"), Zimbra and others ("Out of Office"), vacation responders.
 */
const AUTOMATIC_REPLY = [
  // en, de, fr, es, it, nl, pt, ca
  "automatic reply",
  "automatic response",
  "auto[- ]?(?:reply|response|responder|antwort)",
  "auto:",
  "out of (?:the )?office",
  "vacation (?:reply|response|auto-?reply)",
  "automatische antwort",
  "abwesenheitsnotiz",
  "r[ée]ponse automatique",
  "respuesta autom[áa]tica",
  "risposta automatica",
  "automatisch antwoord",
  "resposta autom[àáa]tica",
  // pl, cs, sk, sl, hr/sr/bs, hu, ro
  "automatyczna odpowied[źz]",
  "odpowied[źz] automatyczna",
  "automatick[áa] odpov[ěe][ďd]",
  "samodejni odgovor",
  "automatski odgovor",
  "automatikus v[áa]lasz",
  "r[ăa]spuns automat",
  // da, no, sv, fi, et, lv, lt
  "automatisk svar",
  "automatiskt svar",
  "autosvar",
  "automaattinen vastaus",
  "automaatvastus",
  "autom[āa]tisk[āa] atbilde",
  "automatinis atsakymas",
  // el, ru, uk, bg
  "αυτόματη απάντηση",
  "автоматический ответ",
  "автоответ",
  "автоматична відповідь",
  "автоматичен отговор",
  // tr, he, ar, fa
  "otomatik (?:yan[ıi]t|cevap)",
  "מענה אוטומטי",
  "תשובה אוטומטית",
  "رد تلقائي",
  "الرد التلقائي",
  "پاسخ خودکار",
  // ja, zh, ko, th, vi, id/ms
  "自動応答",
  "自動返信",
  "自動回覆",
  "自动回复",
  "自動回复",
  "자동 ?응답",
  "자동 ?회신",
  "ตอบกลับอัตโนมัติ",
  "tr[ảa] l[ờo]i t[ựu] [đd][ộo]ng",
  "balasan (?:otomatis|automatik)",
];

/*
 * Words for "absent" that responders use as the whole subject or its prefix ("Fraværende: ...",
 * "Frånvaro", "Poissaolo -", "不在のお知らせ"). Only followed by a colon, a dash, a bracket or
 * nothing: a person's "Frånvaro nästa vecka" (absent next week) is a request.
 */
const ABSENCE_PREFIX = [
  "frav[æa]rende",
  "fr[åa]nvaro",
  "poissaolo",
  "不在(?:のお知らせ|通知|連絡)?",
  // es, pt, fr, nl, it, pl, cs, da/no, de: the absence notices people set as their responder's subject
  "fuera de la oficina",
  "ausente",
  "fora do escrit[óo]rio",
  "absen(?:t|te|ce) du bureau",
  "afwezig(?:heid)?",
  "fuori (?:sede|ufficio)",
  "nieobecno[śs][ćc](?: w biurze)?",
  "mimo kancel[áa][řr]",
  "ikke til stede",
  "abwesend",
  "nicht im b[üu]ro",
];

const OPEN = String.raw`^\s*(?:[\[(【「]\s*)?`;
const AUTO_SUBJECT = new RegExp(`${OPEN}(?:${AUTOMATIC_REPLY.join("|")})`, "iu");
const ABSENCE_SUBJECT = new RegExp(String.raw`${OPEN}(?:${ABSENCE_PREFIX.join("|")})\s*(?:$|[:：\-–—\]】」)])`, "iu");
const AUTO_SUBJECT_ANYWHERE = /\bis out of the office\b|\bout of office (reply|notice|auto-?reply)\b/i;

/** Is this the subject of an out-of-office or other automatic reply? */
export function isAutoReplySubject(subject: string): boolean {
  return AUTO_SUBJECT.test(subject) || ABSENCE_SUBJECT.test(subject) || AUTO_SUBJECT_ANYWHERE.test(subject);
}

/*
 * Challenge/response spam filters answer a mail with a request to prove a person sent it before
 * they deliver it (BoxTrapper, Spam Arrest, TMDA, ChoiceMail, Mailblocks, Sendio, and hosted
 * "sender verification"). Answering one would confirm our own acknowledgements; a person never
 * reads it as a request. Their subjects, their product names, and their wording: a challenge
 * speaks to the sender ("you") about delivering the sender's message once verified, which a
 * customer writing about a website's captcha does not.
 */
const CHALLENGE_SUBJECT =
  /please confirm your (?:e-?mail|message|address|identity)|confirm (?:that )?you(?: are|'re) (?:a )?human|verify (?:your )?(?:e-?mail|message|address|identity) (?:to|for|before)|(?:sender|e-?mail|message|address) verification (?:required|needed|request)|(?:message|e-?mail) (?:is )?awaiting (?:your )?(?:verification|confirmation)|\b(?:boxtrapper|spam ?arrest|tmda|choicemail|mailblocks)\b|bitte best[äa]tigen sie ihre (?:nachricht|e-?mail)|confirmez votre (?:message|adresse)/i;
const CHALLENGE_PRODUCT = /\b(?:boxtrapper|spam ?arrest|tmda|choicemail|mailblocks|sendio|bluebottle)\b/i;
const CHALLENGE_WORDS = [
  /(?:confirm|verify|prove)\b[^.\n]{0,60}\b(?:you are|you're|that you are) (?:a )?(?:human|real person|person|not a (?:robot|bot|spammer|machine))[^]{0,400}\bdeliver/i,
  /\bdeliver[^]{0,300}\b(?:confirm|verify|prove)\b[^.\n]{0,60}\b(?:you are|you're|that you are) (?:a )?(?:human|real person|person|not a (?:robot|bot|spammer|machine))/i,
  /(?:verify|confirm) your (?:e-?mail(?: address)?|message|address|identity)\b[^.\n]{0,80}\b(?:deliver|reach|be (?:sent|forwarded|released))/i,
  /(?:your )?(?:message|e-?mail) (?:is|has been|was|will be) (?:held|quarantined|queued|kept)\b[^.\n]{0,80}\b(?:verif|confirm)/i,
  /\bdeliver(?:ed)?\b[^.\n]{0,80}\b(?:once|after|as soon as|when) you (?:verify|confirm|click|reply|answer)/i,
];

/** The sign of a challenge/response filter in a mail, as a reason; null when there is none. */
export function challengeSign(subject: string, text: string): string | null {
  if (CHALLENGE_SUBJECT.test(subject)) return `subject "${subject}" is a challenge/response request`;
  const head = text.slice(0, 4000);
  const product = CHALLENGE_PRODUCT.exec(head);
  if (product && /verif|confirm|approv/i.test(head)) return `challenge/response: the text names the filter ${product[0]}`;
  const words = CHALLENGE_WORDS.map((re) => re.exec(head)).find((m) => m !== null);
  return words
    ? `challenge/response: the text asks the sender to verify before delivery ("${words[0].replace(/\s+/g, " ").slice(0, 80)}")`
    : null;
}

/*
 * Monitoring systems mail alerts to a helpdesk on purpose: each one is a ticket, but answering it
 * reaches a mailbox nobody reads (and some alert tools open a new incident per mail they get).
 * Not all of them mark their mail (Prometheus Alertmanager and Nagios' default notify command
 * send no Auto-Submitted), so their sender names and their fixed subject forms are signs too:
 * Nagios/Icinga "** PROBLEM Service Alert: host/service is CRITICAL **", Alertmanager
 * "[FIRING:2] …", UptimeRobot "Monitor is DOWN: …", Zabbix "Problem: …" from a zabbix sender.
 */
const MONITOR_LOCAL =
  /^(?:nagios|icinga2?|zabbix|alertmanager|prometheus|grafana|uptime-?robot|monit|checkmk|check_mk|prtg|librenms|observium|munin|sensu|pingdom|statuscake|opsgenie|pagerduty|cacti|netdata|uptime-?kuma)(?:[-+._].*)?$/i;
const MONITOR_SUBJECT =
  /^\s*(?:\*\*\s*(?:PROBLEM|RECOVERY|ACKNOWLEDGEMENT|FLAPPING\w*|DOWNTIME\w*)\s+(?:Service|Host)\s+Alert\b|\[(?:FIRING|RESOLVED):\d+\]|Monitor is (?:DOWN|UP)\b)/i;

/** The sign of a monitoring alert (by sender local part or subject form), as a reason; null when there is none. */
export function monitoringSign(fromAddress: string, subject: string): string | null {
  const local = fromAddress.slice(0, Math.max(0, fromAddress.lastIndexOf("@")));
  if (MONITOR_LOCAL.test(local)) return `sender ${fromAddress} is a monitoring system`;
  if (MONITOR_SUBJECT.test(subject)) return `subject "${subject}" is a monitoring alert`;
  return null;
}
