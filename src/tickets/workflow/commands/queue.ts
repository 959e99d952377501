import type { CommandHandler } from "../types.js";

/** #queue / #warteschlange is answered on its own (workflow/queue.ts); beside other commands or on a ticket it is a mistake. */
export const queue: CommandHandler<"queue"> = (_t, cmd) =>
  `${cmd.source} stands alone: send it in a new mail to the support address, without other commands`;
