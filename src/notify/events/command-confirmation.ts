import type { NotificationEvent } from "./types.js";

/** Tells the agent what their command mail changed. */
export const commandConfirmationEvent: NotificationEvent<"command-confirmation"> = {
  name: "command-confirmation",
  audience: "agent",
  automatic: true,
  description: "to the agent whose command mail was carried out",
};
