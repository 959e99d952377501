import { asTicketpostError, type TicketpostError } from "./errors.js";

/** How often one mail is tried when processing it throws (the database hiccuped, a lock timed out). */
export const ATTEMPTS_PER_MAIL = 3;

/**
 * Runs `work` up to ATTEMPTS_PER_MAIL times, waiting a little longer after each failure; tells
 * `onFailure` about each one. Resolves with the value, or with the last error: what to do with a
 * mail that kept failing is the caller's decision.
 */
export async function withRetries<T>(
  work: () => Promise<T>,
  onFailure: (err: TicketpostError, attempt: number) => void,
): Promise<{ value: T } | { error: TicketpostError }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await work() };
    } catch (err) {
      const e = asTicketpostError(err, "EINTERNAL");
      onFailure(e, attempt);
      if (attempt >= ATTEMPTS_PER_MAIL) return { error: e };
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
