import type { DataSource } from "typeorm";
import type { BlobStore } from "../db/blob-store.js";
import type { TicketTagFormat } from "../mail/subject.js";
import type { TemplateSet } from "../notify/templates.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";

/** What the workflow needs from the outside, built once in cli/ (the composition root). */
export interface GatewayContext {
  db: DataSource;
  blobs: BlobStore;
  templates: TemplateSet;
  clock: Clock;
  logger: Logger;
  tagFormat: TicketTagFormat;
  gatewayName: string;
  supportAddress: string;
  /** Our own addresses: the support address and any aliases. Never made participants. */
  ownAddresses: string[];
  messageIdDomain: string;
  language: string;
  maxMessageBytes: number;
}

export interface TrailStep {
  stage: "receive" | "parse" | "classify" | "dedup" | "thread" | "apply" | "notify";
  verdict: string;
  detail: string;
}
