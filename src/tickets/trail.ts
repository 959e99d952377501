/*
 * The trail: what each stage decided about one mail, and why, stored with its receipt (as a mail
 * server records each plugin's result). The verdicts are a closed list per stage, so a misspelt
 * verdict fails the build, and an operator (or a test) can rely on the words.
 */

export const TRAIL_VERDICTS = {
  /** The bytes arrived (from a mailbox position, stdin, a file) and were stored. */
  receive: ["fetched", "read"],
  /** mailparser read the mail; "note" is something parse had to do (a charset guessed, a container opened). */
  parse: ["ok", "note", "failed"],
  /** What kind of mail this is (src/mail/classify.ts), automatic or not. */
  classify: [
    "request",
    "request/automatic",
    "loop",
    "loop/automatic",
    "bounce",
    "bounce/automatic",
    "report",
    "report/automatic",
    "bounce-check-failed",
  ],
  /** Identity: the same Message-ID and the same content fingerprint is a duplicate. */
  dedup: ["new", "duplicate", "reused-message-id"],
  /** Which ticket the mail belongs to (src/tickets/thread.ts). */
  thread: ["new-ticket", "ticket", "merged"],
  /** Field lines at the top of a new request. */
  fields: ["set", "none"],
  /** The department of a new ticket. */
  route: ["routed", "none"],
  /** An agent's #commands and whether the mail was authenticated. */
  commands: ["agent", "unverified"],
  /** People a participant copied in, who join the ticket. */
  people: ["added", "limit", "merged", "changed"],
  /** The check that no internal text reaches a requester. */
  guard: ["held-back"],
  /** What the workflow decided to do with the mail. */
  apply: [
    "ticket-created",
    "late-reply",
    "reply-added",
    "reopened",
    "stranger",
    "automatic-reply",
    "unverified-agent",
    "agent-answer",
    "commands-applied",
    "command-error",
    "bounce-linked",
    "bounce-unlinked",
    "report",
    "ignored",
    "answered",
    "failed",
  ],
  /** Which notifications were queued, and which were withheld (bounced address, per-address limit). */
  notify: ["queued", "none", "withheld"],
} as const;

export type TrailStage = keyof typeof TRAIL_VERDICTS;
export type TrailVerdict<S extends TrailStage> = (typeof TRAIL_VERDICTS)[S][number];

/** One entry: a stage, one of its verdicts, and a free-text detail for people. */
export type TrailStep = { [S in TrailStage]: { stage: S; verdict: TrailVerdict<S>; detail: string } }[TrailStage];

/** Builds a step; the verdict is checked against the stage's list at compile time. */
export function step<S extends TrailStage>(stage: S, verdict: TrailVerdict<S>, detail: string): TrailStep {
  return { stage, verdict, detail } as TrailStep;
}
