import type { NotificationEvent } from "./types.js";

/** Tells the agent why their command mail changed nothing, with the valid commands. */
export const commandErrorEvent: NotificationEvent<"command-error"> = {
  name: "command-error",
  audience: "agent",
  automatic: true,
  description: "to the agent whose command mail changed nothing",
};
