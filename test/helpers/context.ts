import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BlobStore } from "../../src/db/blob-store.js";
import { openDatabase } from "../../src/db/data-source.js";
import { TemplateSet } from "../../src/notify/templates.js";
import { systemClock, type Clock } from "../../src/shared/clock.js";
import { silentLogger } from "../../src/shared/logger.js";
import { DEFAULT_SAFETY, type GatewayContext, type SafetySettings } from "../../src/tickets/context.js";
import { agentVerifierFor, trustFromAddress } from "../../src/tickets/agent-auth.js";
import { directoryOf } from "../../src/cli/gateway.js";
import type { TicketpostConfig } from "../../src/config/schema.js";
import { Directory } from "../../src/tickets/directory.js";
import { createTestDatabase, type Engine, type TestDatabase } from "./databases.js";

export interface TestGateway {
  ctx: GatewayContext;
  tdb: TestDatabase;
  dataDir: string;
  close(): Promise<void>;
}

/** A GatewayContext over a fresh, migrated database of the given engine and the real templates. */
export async function createTestGateway(
  engine: Engine,
  opts: {
    clock?: Clock;
    maxMessageBytes?: number;
    directory?: Directory;
    reopenDays?: number;
    safety?: Partial<SafetySettings>;
    config?: TicketpostConfig;
  } = {},
): Promise<TestGateway> {
  const tdb = await createTestDatabase(engine);
  const db = await openDatabase(tdb.options, { migrate: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "tp-data-"));
  const ctx: GatewayContext = {
    db,
    blobs: new BlobStore(path.join(dataDir, "blobs")),
    templates: new TemplateSet(path.resolve("templates"), "en"),
    clock: opts.clock ?? systemClock,
    logger: silentLogger,
    tagFormat: { prefix: "T" },
    gatewayName: "ACME Support",
    supportAddress: "support@example.test",
    messageIdDomain: "tickets.example.test",
    language: "en",
    maxMessageBytes: opts.maxMessageBytes ?? 25 * 1024 * 1024,
    directory: opts.directory ?? Directory.empty("support@example.test", "en"),
    reopenDays: opts.reopenDays ?? 14,
    verifyAgent: trustFromAddress,
    // Tests send many mails from one requester in no time; tests of the limit set it themselves.
    safety: { ...DEFAULT_SAFETY, autoReplyPerAddress: 1000, ...opts.safety },
  };
  if (opts.config) {
    // A product configuration (e.g. a case folder's): its addresses, departments, tag key and agent check.
    const c = opts.config;
    Object.assign(ctx, {
      tagFormat: { prefix: c.referencePrefix, secret: c.referenceSecret ?? undefined },
      gatewayName: c.name,
      supportAddress: c.supportAddress,
      messageIdDomain: c.messageIdDomain,
      language: c.language,
      templates: new TemplateSet(path.resolve("templates"), c.language),
      directory: opts.directory ?? directoryOf(c),
      reopenDays: c.reopenDays,
      verifyAgent: agentVerifierFor(c, (msg) => ctx.blobs.get(msg.rawSha256)),
      safety: {
        ...ctx.safety,
        strangerPolicy: c.strangerPolicy,
        maxParticipants: c.limits.maxParticipants,
        maxAttachments: c.limits.maxAttachments,
        maxAttachmentBytes: c.notify.maxAttachmentBytes,
        ...opts.safety,
      },
    } satisfies Partial<GatewayContext>);
  }
  return {
    ctx,
    tdb,
    dataDir,
    close: async () => {
      if (db.isInitialized) await db.destroy();
      await tdb.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let uidCounter = 1;
/** A mailbox position that no other test uses. */
export function nextPosition(mailbox = "INBOX") {
  return { mailbox, uidValidity: 1700000000, uid: uidCounter++ };
}

/** A raw mail as a mail client writes it (CRLF). */
export function rawMail(h: {
  from?: string;
  to?: string;
  cc?: string;
  subject?: string;
  messageId?: string | null;
  inReplyTo?: string;
  references?: string;
  replyTo?: string;
  extra?: string[];
  body?: string;
}): Buffer {
  const lines = [
    `From: ${h.from ?? "Carla Customer <carla@customer.test>"}`,
    `To: ${h.to ?? "support@example.test"}`,
    ...(h.cc ? [`Cc: ${h.cc}`] : []),
    ...(h.replyTo ? [`Reply-To: ${h.replyTo}`] : []),
    `Subject: ${h.subject ?? "Printer on floor 2 is jammed"}`,
    ...(h.messageId === null ? [] : [`Message-ID: <${h.messageId ?? `${Math.random().toString(36).slice(2)}@customer.test`}>`]),
    ...(h.inReplyTo ? [`In-Reply-To: <${h.inReplyTo}>`] : []),
    ...(h.references ? [`References: ${h.references}`] : []),
    "Date: Thu, 26 Nov 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    ...(h.extra ?? []),
    "",
    h.body ?? "It shows error E-42 since this morning.",
    "",
  ];
  return Buffer.from(lines.join("\r\n"));
}
