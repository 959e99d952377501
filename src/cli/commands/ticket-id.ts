import { usage } from "../command.js";

/**
 * A ticket named on the command line: `42`, `T-42`, `[#T-42]` or a whole tag `[#T-42-k7f2q]`,
 * as people copy it from a subject line. Returns the number; a usage error otherwise.
 */
export function parseTicketId(arg: string, prefix: string): number {
  const m = new RegExp(`^(?:\\[#)?(?:${prefix}-)?(\\d+)(?:-[0-9a-z]{5})?\\]?$`, "i").exec(arg.trim());
  if (!m) usage(`"${arg}" is not a ticket ID (use 42, ${prefix}-42 or [#${prefix}-42])`);
  return Number(m[1]);
}
