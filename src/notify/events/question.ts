import type { NotificationEvent } from "./types.js";

/**
 * The agent's question to the requester. Not automatic: it carries a person's own words, which RFC
 * 3834 does not treat as an auto-reply.
 */
export const questionEvent: NotificationEvent<"question"> = {
  name: "question",
  audience: "requester",
  automatic: false,
  description: "to the requester when an agent asks back",
};
