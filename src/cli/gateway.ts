import path from "node:path";
import type { DataSource } from "typeorm";
import type { TicketpostConfig } from "../config/schema.js";
import { BlobStore } from "../db/blob-store.js";
import { randomBytes } from "node:crypto";
import { GatewaySetting, MailReceipt } from "../db/entities.js";
import { openDatabase } from "../db/data-source.js";
import { TemplateSet } from "../notify/templates.js";
import { OutboxSender } from "../notify/sender.js";
import { SmtpTransport, type MailTransport } from "../notify/smtp-transport.js";
import { NOTIFICATION_EVENTS } from "../notify/events/index.js";
import { systemClock, type Clock } from "../shared/clock.js";
import { TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { DrainDeps } from "../mailbox/drain.js";
import type { SpoolOptions } from "../mailbox/imap-mailbox.js";
import type { GatewayContext } from "../tickets/context.js";
import { processMail, recordFailure } from "../tickets/pipeline.js";
import { In } from "typeorm";
import { agentVerifierFor } from "../tickets/agent-auth.js";
import { liveInstances } from "../ops/instance.js";
import { Directory } from "../tickets/directory.js";

/** The composition root: the only place that creates the database, SMTP and clock objects. */

export function checkTemplates(templates: TemplateSet, languages: string[]): void {
  for (const ev of NOTIFICATION_EVENTS) {
    for (const lang of languages) {
      if (!templates.has(ev.name, lang)) throw new TicketpostError("ETEMPLATE", `templates: ${ev.name}.${lang}.hbs is missing in ${templates.dir}`);
    }
  }
}

/** A value every instance must share, made by whichever instance needs it first. */
export async function sharedSetting(db: DataSource, key: string, make: () => string): Promise<string> {
  const repo = db.getRepository(GatewaySetting);
  const found = await repo.findOne({ where: { key } });
  if (found) return found.value;
  try {
    await repo.insert({ key, value: make() });
  } catch {
    // Another instance made it at the same moment: theirs stands.
  }
  return (await repo.findOneOrFail({ where: { key } })).value;
}

export function directoryOf(config: TicketpostConfig): Directory {
  const login = config.imap.user.toLowerCase();
  return new Directory(config.departments, config.defaultDepartment, config.agents, config.languages, config.language, config.supportAddress, login.includes("@") ? [login] : []);
}

export async function openGateway(config: TicketpostConfig, logger: Logger, opts: { clock?: Clock; migrate?: boolean } = {}): Promise<GatewayContext> {
  const templates = new TemplateSet(config.templatesDir, config.language);
  const directory = directoryOf(config);
  checkTemplates(templates, directory.languagesInUse());
  const db = await openDatabase(config.database, { migrate: opts.migrate ?? false });
  const blobs = new BlobStore(path.join(config.dataDir, "blobs"));
  const secret = config.referenceSecret ?? (await sharedSetting(db, "reference-secret", () => randomBytes(32).toString("base64url")));
  return {
    db,
    blobs,
    templates,
    clock: opts.clock ?? systemClock,
    logger,
    tagFormat: { prefix: config.referencePrefix, secret },
    gatewayName: config.name,
    supportAddress: config.supportAddress,
    messageIdDomain: config.messageIdDomain,
    language: config.language,
    maxMessageBytes: config.maxMessageBytes,
    directory,
    reopenDays: config.reopenDays,
    verifyAgent: agentVerifierFor(config, (msg) => blobs.get(msg.rawSha256)),
    safety: {
      strangerPolicy: config.strangerPolicy,
      autoReplyPerAddress: config.autoReplyLimit.perAddress,
      autoReplyWindowMinutes: config.autoReplyLimit.windowMinutes,
      maxParticipants: config.limits.maxParticipants,
      maxAttachments: config.limits.maxAttachments,
    },
  };
}

export function drainDeps(ctx: GatewayContext, onBatch?: () => void): DrainDeps {
  return {
    process: (pos, raw) => processMail(ctx, pos, raw),
    giveUp: (pos, err) => recordFailure(ctx, pos, new TicketpostError(err.code, `gave up after repeated errors: ${err.message}`, { retryable: false, cause: err })),
    markMoved: async (ids, folder) => {
      if (ids.length) await ctx.db.getRepository(MailReceipt).update({ id: In(ids) }, { movedTo: folder });
    },
    afterBatch: onBatch,
    logger: ctx.logger,
  };
}

export function createSender(config: TicketpostConfig, ctx: GatewayContext, transport: MailTransport = new SmtpTransport(config.smtp)): OutboxSender {
  return new OutboxSender({
    db: ctx.db,
    transport,
    from: { name: config.name, address: config.supportAddress },
    cfg: config.outbox,
    clock: ctx.clock,
    logger: ctx.logger.child({ component: "outbox" }),
  });
}

export async function closeDb(db: DataSource): Promise<void> {
  if (db.isInitialized) await db.destroy();
}

/** Big mails are streamed to disk under the data directory, never held whole in memory. */
export function spoolOptions(config: TicketpostConfig): SpoolOptions {
  return { dir: path.join(config.dataDir, "blobs"), thresholdBytes: 4 * 1024 * 1024, maxMessageBytes: config.maxMessageBytes };
}

/**
 * Sends what a one-shot command (ingest, a terminal action) queued, unless a running daemon will
 * (it sends the outbox anyway): `send` true/false forces the choice. A failure leaves the rows
 * queued for the next sender; it never fails the command.
 */
export async function sendQueuedNow(config: TicketpostConfig, ctx: GatewayContext, send: boolean | null): Promise<void> {
  if (!(send ?? (await liveInstances(ctx.db)).length === 0)) return;
  const sender = createSender(config, ctx);
  try {
    await sender.runOnce();
  } catch (err) {
    ctx.logger.warn("notifications stay queued", { error: (err as Error).message });
  } finally {
    await sender.stop();
  }
}
