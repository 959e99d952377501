import type { NotificationEvent } from "./types.js";

/**
 * The answer to an agent's #files (#dateien): the ticket's files that were too large to attach
 * to its status mails, in parts of at most notify.maxAttachmentBytes each. Automatic: the gateway
 * sends it on its own.
 */
export const filesEvent: NotificationEvent<"files"> = {
  name: "files",
  audience: "agent",
  automatic: true,
  description: "to the agent who asked with #files: the ticket's files, in parts under notify.maxAttachmentBytes",
};
