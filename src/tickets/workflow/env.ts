import type { GatewayContext } from "../context.js";

/** What planning needs from the configuration (never the database, the network or the clock: `now` is a fact). */
export type PlanEnv = Pick<GatewayContext, "directory" | "tagFormat" | "reopenDays" | "safety" | "quiet" | "supportAddress">;
