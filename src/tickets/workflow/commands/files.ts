import type { CommandHandler } from "../types.js";
import { mayWork } from "../rules.js";

/**
 * #files / #dateien: the ticket's files are mailed to the agent who asks, in parts under
 * notify.maxAttachmentBytes (the status mails list them when they are too large to attach).
 * Changes nothing on the ticket.
 */
export const files: CommandHandler<"files"> = (t, _cmd, env, fx) => {
  const denied = mayWork(env.dir, t, env.actor);
  if (denied) return denied;
  fx.notifications.push({ event: "files", to: [env.actor], text: null });
  return null;
};
