import type { DataSource } from "typeorm";
import type { BlobStore } from "../db/blob-store.js";
import type { TicketTagFormat } from "../mail/subject.js";
import type { TemplateSet } from "../notify/templates.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { InboundMessage } from "../mail/types.js";
import type { Directory } from "./directory.js";
import type { MailReader } from "./read-thread.js";

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
  messageIdDomain: string;
  language: string;
  maxMessageBytes: number;
  directory: Directory;
  reopenDays: number;
  /** The check that an agent's mail really comes from that agent (see agent-auth.ts). */
  verifyAgent: AgentVerifier;
  /** Queue no notifications at all (importing a backlog must not mail every old customer). */
  quiet?: boolean;
  /** Reads the mails of a drained batch in a second thread (read-thread.ts); without it, in this one. */
  reader?: MailReader;
  /** Mail safety settings (see the README's Safety section). */
  safety: SafetySettings;
}

export interface SafetySettings {
  strangerPolicy: "internal" | "public" | "new-ticket";
  autoReplyPerAddress: number;
  autoReplyWindowMinutes: number;
  maxParticipants: number;
  maxAttachments: number;
  /** notify.maxAttachmentBytes: the most the files one status mail carries may add up to (bytes). */
  maxAttachmentBytes: number;
}

export const DEFAULT_SAFETY: SafetySettings = {
  strangerPolicy: "internal",
  autoReplyPerAddress: 10,
  autoReplyWindowMinutes: 60,
  maxParticipants: 50,
  maxAttachments: 100,
  maxAttachmentBytes: 10 * 1024 * 1024,
};

export type AgentVerifier = (
  msg: InboundMessage,
  agentAddress: string,
) => Promise<{ ok: boolean; reason: string }> | { ok: boolean; reason: string };

export type { TrailStep } from "./trail.js";
