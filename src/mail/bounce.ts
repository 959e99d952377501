/*
 * The bounce detector lives in ./bounce/ (entry point ./bounce/index.ts). This file only keeps the
 * old import path working for code outside src/mail; nothing in ./bounce/ imports it.
 */
export { detectBounce } from "./bounce/index.js";
export type { BounceContext, BounceFormat, BounceKind, BounceRecipient, BounceReport } from "./bounce/index.js";
