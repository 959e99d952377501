import { receivedEvent } from "./received.js";
import type { NotificationEvent } from "./types.js";

export type { NotificationEvent } from "./types.js";

/** Every notification the gateway can send; each needs a template per language. */
export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [receivedEvent];

export function eventByName(name: string): NotificationEvent {
  const ev = NOTIFICATION_EVENTS.find((e) => e.name === name);
  if (!ev) throw new Error(`unknown notification event ${name}`);
  return ev;
}
