import type { NotificationEvent } from "./types.js";

/**
 * An agent's public answer (a mail without a command). Not automatic: it carries a person's own
 * words.
 */
export const agentReplyEvent: NotificationEvent<"agent-reply"> = {
  name: "agent-reply",
  audience: "requester",
  automatic: false,
  description: "to the requester with an agent's public answer",
};
