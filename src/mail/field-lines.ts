import * as chrono from "chrono-node";
import { localDate } from "./dates.js";
import { splitLines } from "./lines.js";
import { PRIORITIES, PRIORITY_LABELS, URGENCIES, URGENCY_LABELS, type Priority, type Urgency } from "../tickets/levels.js";

/*
 * Field lines: requesters set priority, urgency, due date and department by writing
 * "Key: value" lines at the very top of their mail, in English or German. Only the top
 * counts, so a "Priority: high" further down (a quoted mail, a pasted log) is plain text.
 *
 * The value parsers (parsePriority, parseUrgency, parseDate) are shared with the agents'
 * #commands, so a value means the same whichever way it arrives.
 */

export type FieldName = "priority" | "urgency" | "due" | "department";
export type Lang = "en" | "de";

export interface FieldValues {
  priority?: Priority;
  urgency?: Urgency;
  /** Calendar date, YYYY-MM-DD. */
  due?: string;
  /** As written (trimmed); mapping it to a department is not this file's job. */
  department?: string;
}

export interface FieldLinesResult {
  fields: FieldValues;
  /** The body without the field lines that were understood. */
  rest: string;
  /** One sentence per line that was meant as a field but not understood, for the requester. */
  problems: string[];
}

/**
 * Lower-case, umlauts spelled out, "-"/"_"/runs of spaces made one space: so "Priorität",
 * "Prioritaet" and "PRIORITÄT", or "system-down" and "System Down", compare equal. People
 * without a German keyboard write "ae" for "ä"; mail clients may send decomposed umlauts (NFD).
 */
export function foldSpelling(s: string): string {
  return s
    .normalize("NFC")
    .toLowerCase()
    .replace(/ä/g, "ae")
    .replace(/ö/g, "oe")
    .replace(/ü/g, "ue")
    .replace(/ß/g, "ss")
    .replace(/[\s_-]+/g, " ")
    .replace(/[ .!]+$/, "")
    .trim();
}

function lookupTable<T>(entries: Array<[string, T]>): Map<string, T> {
  return new Map(entries.map(([k, v]) => [foldSpelling(k), v]));
}

const PRIORITY_WORDS = lookupTable<Priority>([
  ...PRIORITIES.map((p): [string, Priority] => [p, p]),
  ...Object.values(PRIORITY_LABELS).flatMap((labels) => PRIORITIES.map((p): [string, Priority] => [labels[p], p])),
  // What people write when they mean "soon"; "critical" stays an explicit choice.
  ["urgent", "high"],
  ["dringend", "high"],
]);

const URGENCY_WORDS = lookupTable<Urgency>([
  ...URGENCIES.map((u): [string, Urgency] => [u, u]),
  ...URGENCIES.map((u, i): [string, Urgency] => [String(i + 1), u]),
  ...Object.values(URGENCY_LABELS).flatMap((labels) => URGENCIES.map((u): [string, Urgency] => [labels[u], u])),
  // Short forms of the labels in levels.ts, as people abbreviate them.
  ["change request", "change-request"],
  ["Änderungswunsch", "change-request"],
  ["minor issue", "minor"],
  ["gering", "minor"],
  ["geringe Störung", "minor"],
  ["work impaired", "impaired"],
  ["beeinträchtigt", "impaired"],
  ["Arbeit beeinträchtigt", "impaired"],
  ["work blocked", "blocked"],
  ["blockiert", "blocked"],
  ["Arbeit blockiert", "blocked"],
  ["system down", "system-down"],
  ["system is down", "system-down"],
  ["System steht", "system-down"],
  ["das System steht", "system-down"],
  ["gesamtes System steht", "system-down"],
]);

export function parsePriority(value: string): Priority | null {
  return PRIORITY_WORDS.get(foldSpelling(value)) ?? null;
}

export function parseUrgency(value: string): Urgency | null {
  return URGENCY_WORDS.get(foldSpelling(value)) ?? null;
}

/** The accepted values of a field, in the language the person wrote in, for error texts. */
export function expectedValues(field: Exclude<FieldName, "department">, lang: Lang): string {
  if (field === "priority") return PRIORITIES.map((p) => PRIORITY_LABELS[lang][p]).join(", ");
  if (field === "urgency") {
    const words = lang === "de" ? ["Änderungswunsch", "gering", "beeinträchtigt", "blockiert", "System steht"] : [...URGENCIES];
    return `1–5 or ${words.join(", ")}`;
  }
  return lang === "de"
    ? "a date such as 03.12.2026, 2026-12-03, morgen, nächsten Freitag, in 3 Tagen"
    : "a date such as 2026-12-03, 03.12.2026, tomorrow, next friday, in 3 days";
}

function calendarDate(year: number, month: number, day: number): string | null {
  const d = new Date(year, month - 1, day);
  // Date rolls 31.02. over into March; a date that does not exist is a typo, not a wish.
  if (d.getFullYear() !== year || d.getMonth() !== month - 1 || d.getDate() !== day) return null;
  return localDate(d);
}

const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
// German order; a missing year means the next such day ("bis 24.12."), two digits mean 20yy.
const GERMAN_DATE = /^(\d{1,2})\.(\d{1,2})\.(?:(\d{4}|\d{2})\.?)?$/;
// 12/03/2026 is 3 December in the US and 12 March here: rather ask than guess.
const SLASH_DATE = /^\d{1,4}\/\d{1,2}(?:\/\d{1,4})?$/;
const DATE_FILLER = /^(?:by|on|until|till|before|bis zum|bis spätestens|bis|spätestens|am|zum)\s+/i;

function numericDate(v: string, ref: Date): string | null | undefined {
  const iso = ISO_DATE.exec(v);
  if (iso) return calendarDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const de = GERMAN_DATE.exec(v);
  if (de) {
    const day = Number(de[1]);
    const month = Number(de[2]);
    if (de[3] !== undefined) return calendarDate(de[3].length === 2 ? 2000 + Number(de[3]) : Number(de[3]), month, day);
    const thisYear = calendarDate(ref.getFullYear(), month, day);
    if (thisYear !== null && thisYear >= localDate(ref)) return thisYear;
    return calendarDate(ref.getFullYear() + 1, month, day);
  }
  if (SLASH_DATE.test(v)) return null;
  return undefined;
}

/**
 * A due date as a calendar date (YYYY-MM-DD, the local calendar of `ref`), or null when the
 * value is not a date. Numeric forms are read here (ISO, German d.m.yyyy); words go to
 * chrono, German first so that "03.12.2026 17:00" is not read the US way, and chrono must
 * understand the whole value: "tomorrow or Monday" is not a date.
 */
export function parseDate(value: string, ref: Date): string | null {
  const v = value.normalize("NFC").trim().replace(/\s+/g, " ").replace(DATE_FILLER, "");
  if (v === "") return null;
  const numeric = numericDate(v, ref);
  if (numeric !== undefined) return numeric;
  const words = v.replace(/[.!,;]+$/, "");
  for (const parser of [chrono.de, chrono.en]) {
    // forwardDate: "Friday" on a Thursday means tomorrow, not last week.
    const found = parser.parse(words, ref, { forwardDate: true });
    if (found.length === 1 && found[0].index === 0 && found[0].text.length === words.length) {
      return localDate(found[0].start.date());
    }
  }
  return null;
}

interface KeySpelling {
  field: FieldName;
  lang: Lang;
}

// No "Subject", "Re", "From", "To", "Date": those start quoted headers and forwarded mails.
const KEYS = lookupTable<KeySpelling>([
  ["Priority", { field: "priority", lang: "en" }],
  ["Prio", { field: "priority", lang: "en" }],
  ["Priorität", { field: "priority", lang: "de" }],
  ["Urgency", { field: "urgency", lang: "en" }],
  ["Dringlichkeit", { field: "urgency", lang: "de" }],
  ["Due", { field: "due", lang: "en" }],
  ["Due date", { field: "due", lang: "en" }],
  ["Deadline", { field: "due", lang: "en" }],
  ["Fällig", { field: "due", lang: "de" }],
  ["Fälligkeit", { field: "due", lang: "de" }],
  ["Termin", { field: "due", lang: "de" }],
  ["Department", { field: "department", lang: "en" }],
  ["Abteilung", { field: "department", lang: "de" }],
]);

const FIELD_LINE = /^[ \t]*(\p{L}[\p{L} \t_-]{0,30}?)[ \t]*:[ \t]*(.*?)[ \t]*$/u;

const WHAT: Record<Exclude<FieldName, "department">, string> = {
  priority: "a priority",
  urgency: "an urgency",
  due: "a date",
};

type LineVerdict = { key: string; field: FieldName; value: string } | { problem: string };

function readValue(key: string, spelling: KeySpelling, raw: string, ref: Date): LineVerdict {
  const { field, lang } = spelling;
  if (field === "department") {
    return raw === "" ? { problem: `${key}: no department given` } : { key, field, value: raw };
  }
  const value = field === "priority" ? parsePriority(raw) : field === "urgency" ? parseUrgency(raw) : parseDate(raw, ref);
  if (value !== null) return { key, field, value };
  const hint = expectedValues(field, lang);
  if (raw === "") return { problem: `${key}: no value given (${hint})` };
  return { problem: field === "due" ? `${key}: "${raw}" is not a date (${hint})` : `${key}: "${raw}" is not ${WHAT[field]} (${hint})` };
}

/** Reads one line as a field line: null when it is not one (unknown key or no "key:" at all). */
function readFieldLine(line: string, ref: Date): LineVerdict | null {
  const m = FIELD_LINE.exec(line.replace(/\r?\n$/, ""));
  if (!m) return null;
  const spelling = KEYS.get(foldSpelling(m[1]));
  if (!spelling) return null;
  return readValue(m[1].trim(), spelling, m[2], ref);
}

function isBlank(line: string): boolean {
  return line.trim() === "";
}

/**
 * Reads the field lines at the top of a body (leading blank lines allowed) until the first
 * line that is not one. Understood lines leave `rest`, with the blank line that followed the
 * block. A recognised key whose value is not understood stays in `rest` (the requester's words
 * are not thrown away) and adds a problem; reading goes on with the next line.
 *
 * A key given twice: the later line wins, as when someone corrects themselves while typing;
 * if the two disagree, a problem says which value was used.
 *
 * Field lines override the mail client's importance (priorityFromHeaders): the caller applies
 * that rule, since the lines were written on purpose and the flag is one click.
 */
export function parseFieldLines(text: string, ref: Date): FieldLinesResult {
  const lines = splitLines(text);
  const fields: FieldValues = {};
  const problems: string[] = [];
  const kept: string[] = [];
  let consumed = 0;
  let i = 0;
  while (i < lines.length && isBlank(lines[i])) i++;
  for (; i < lines.length; i++) {
    const verdict = readFieldLine(lines[i], ref);
    if (verdict === null) break;
    if ("problem" in verdict) {
      problems.push(verdict.problem);
      kept.push(lines[i]);
      continue;
    }
    const before = fields[verdict.field];
    if (before !== undefined && before !== verdict.value) {
      problems.push(`${verdict.key} given twice ("${before}", then "${verdict.value}"): using "${verdict.value}"`);
    }
    Object.assign(fields, { [verdict.field]: verdict.value });
    consumed++;
  }
  if (consumed === 0) return { fields, rest: text, problems };
  // The blank line after the block only separated it from the text; with lines kept, it still separates.
  if (kept.length === 0 && i < lines.length && isBlank(lines[i])) i++;
  return { fields, rest: [...kept, ...lines.slice(i)].join(""), problems };
}

function headerValues(headers: Record<string, string[]>, name: string): string[] {
  return (headers[name] ?? []).map((v) => v.trim().toLowerCase());
}

type HeaderReading = Priority | null | undefined;

// Each returns undefined when the value says nothing we know, so the next header is asked.
const HEADER_READERS: Array<[string, (v: string) => HeaderReading]> = [
  // RFC 2156 / RFC 4021 "Importance: high | normal | low" (Outlook, Apple Mail).
  ["importance", (v) => (v === "high" ? "high" : v === "low" ? "low" : v === "normal" ? null : undefined)],
  // RFC 2156 "Priority: urgent | normal | non-urgent".
  ["priority", (v) => (v === "urgent" ? "high" : v === "non-urgent" ? "low" : v === "normal" ? null : undefined)],
  // De facto "X-Priority: 1 (Highest)" .. "5 (Lowest)" (Thunderbird, Outlook, many scripts).
  [
    "x-priority",
    (v) => {
      const n = /^([1-5])\b/.exec(v)?.[1];
      return n === undefined ? undefined : n <= "2" ? "high" : n === "3" ? null : "low";
    },
  ],
  ["x-msmail-priority", (v) => (v === "high" ? "high" : v === "low" ? "low" : v === "normal" ? null : undefined)],
];

/**
 * The priority the sender's mail client flagged, or null for none or "normal". The first
 * header in the list above that carries a known value decides, so a client sending
 * "Importance: normal" and a stray "X-Priority: 1" is taken at its standard word. Never
 * "critical": anyone can click the flag, so it says at most "high".
 * A field line in the body overrides this (see parseFieldLines); the caller applies that.
 */
export function priorityFromHeaders(headers: Record<string, string[]>): Priority | null {
  for (const [name, read] of HEADER_READERS) {
    for (const value of headerValues(headers, name)) {
      const reading = read(value);
      if (reading !== undefined) return reading;
    }
  }
  return null;
}
