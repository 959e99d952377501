import os from "node:os";
import path from "node:path";
import type { DataSource } from "typeorm";
import type { TicketpostConfig } from "../config/schema.js";
import { BlobStore } from "../db/blob-store.js";
import { randomBytes } from "node:crypto";
import { GatewaySetting, MailReceipt } from "../db/entities.js";
import { openDatabase } from "../db/data-source.js";
import type { TemplateSet } from "../notify/templates.js";
import { OutboxSender } from "../notify/sender.js";
import type { MailTransport } from "../notify/smtp-transport.js";
import { NOTIFICATION_EVENTS } from "../notify/events/index.js";
import { systemClock, type Clock } from "../shared/clock.js";
import { asTicketpostError, TicketpostError } from "../shared/errors.js";
import type { Logger } from "../shared/logger.js";
import type { DrainDeps } from "../mailbox/drain.js";
import type { SpoolOptions } from "../mailbox/imap-mailbox.js";
import type { DrainSummary } from "../mailbox/drain.js";
import { mailboxTransport } from "../mailbox/outgoing-route.js";
import { AccountLogins } from "../auth/logins.js";
import { databaseGrantStore } from "../auth/token-store.js";
import type { MailboxConfig } from "../config/schema.js";
import type { GatewayContext } from "../tickets/context.js";
import { In } from "typeorm";
import { agentVerifierFor } from "../tickets/agent-auth.js";
import { liveInstances } from "../ops/instance.js";
import { Directory } from "../tickets/directory.js";
import type { ReadAhead } from "../tickets/batch.js";
import { ReadingThread } from "../tickets/read-thread.js";

/** The composition root: the only place that creates the database, SMTP and clock objects. */

export function checkTemplates(templates: TemplateSet, languages: string[]): void {
  for (const ev of NOTIFICATION_EVENTS) {
    for (const lang of languages) {
      if (!templates.has(ev.name, lang))
        throw new TicketpostError("ETEMPLATE", `templates: ${ev.name}.${lang}.hbs is missing in ${templates.dir}`);
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

/**
 * Who is who. Every mailbox's address and login are ours (never a participant, never answered);
 * for mail taken from a mailbox with a default department, that department is the default.
 */
export function directoryOf(config: TicketpostConfig, mailbox?: MailboxConfig): Directory {
  const own = new Set<string>();
  for (const m of config.mailboxes) {
    for (const a of [m.address, m.user.toLowerCase()]) if (a.includes("@") && a !== config.supportAddress) own.add(a);
  }
  const defaultDepartment = mailbox?.defaultDepartment ?? config.defaultDepartment;
  return new Directory(config.departments, defaultDepartment, config.agents, config.languages, config.language, config.supportAddress, [
    ...own,
  ]);
}

/** The gateway's context plus the logins (passwords, OAuth2 token sources) of every account. */
export type Gateway = GatewayContext & { logins: AccountLogins };

export async function openGateway(
  config: TicketpostConfig,
  logger: Logger,
  opts: { clock?: Clock; migrate?: boolean } = {},
): Promise<Gateway> {
  const { TemplateSet } = await import("../notify/templates.js");
  const templates = new TemplateSet(config.templatesDir, config.language);
  const directory = directoryOf(config);
  checkTemplates(templates, directory.languagesInUse());
  const db = await openDatabase(config.database, { migrate: opts.migrate ?? false });
  const blobs = new BlobStore(path.join(config.dataDir, "blobs"));
  const readEnv = { blobs, maxMessageBytes: config.maxMessageBytes, messageIdDomain: config.messageIdDomain, directory };
  // A drained batch is read in a second thread while the one before it is committed (one core: in this one).
  const reader = os.availableParallelism() > 1 ? new ReadingThread(readEnv, logger) : undefined;
  const secret = config.referenceSecret ?? (await sharedSetting(db, "reference-secret", () => randomBytes(32).toString("base64url")));
  return {
    logins: new AccountLogins(databaseGrantStore(db), logger),
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
    reader,
    reopenDays: config.reopenDays,
    verifyAgent: agentVerifierFor(config, (msg) => blobs.get(msg.rawSha256)),
    safety: {
      strangerPolicy: config.strangerPolicy,
      autoReplyPerAddress: config.autoReplyLimit.perAddress,
      autoReplyWindowMinutes: config.autoReplyLimit.windowMinutes,
      maxParticipants: config.limits.maxParticipants,
      maxAttachments: config.limits.maxAttachments,
      maxAttachmentBytes: config.notify.maxAttachmentBytes,
    },
  };
}

/** The mail pipeline (mailparser and the decoders), loaded by the first mail a drain hands over. */
const pipeline = () => import("../tickets/pipeline.js");

/** What the drain loop needs; for a mailbox with its own default department, a context that routes there. */
export function drainDeps(
  ctx: GatewayContext,
  onBatch?: () => void,
  mailbox?: { config: TicketpostConfig; mailbox: MailboxConfig },
): DrainDeps {
  // Routing and agent verification depend on the mailbox a mail was taken from.
  const own = mailbox
    ? {
        ...ctx,
        directory: directoryOf(mailbox.config, mailbox.mailbox),
        verifyAgent: agentVerifierFor(mailbox.config, (msg) => ctx.blobs.get(msg.rawSha256), undefined, mailbox.mailbox),
      }
    : ctx;
  return {
    process: async (pos, raw) => (await pipeline()).processMail(own, pos, raw),
    processBatch: async (mails, ahead) =>
      (await import("../tickets/batch.js")).processMails(own, mails, ahead as Promise<Awaited<ReadAhead> | undefined> | undefined),
    readAhead: (mails) =>
      import("../tickets/batch.js").then(
        (b) => b.readAhead(own, mails),
        () => undefined,
      ),
    giveUp: async (pos, err) =>
      (await pipeline()).recordFailure(
        ctx,
        pos,
        new TicketpostError(err.code, `gave up after repeated errors: ${err.message}`, { retryable: false, cause: err }),
      ),
    markMoved: async (ids, folder) => {
      if (ids.length) await ctx.db.getRepository(MailReceipt).update({ id: In(ids) }, { movedTo: folder });
    },
    afterBatch: onBatch,
    logger: mailbox ? ctx.logger.child({ mailbox: mailbox.mailbox.id }) : ctx.logger,
  };
}

/** Sends every mail through the SMTP account, and from the address, of the mailbox its ticket came in through. */
export function createSender(config: TicketpostConfig, ctx: Gateway | GatewayContext, transport?: MailTransport): OutboxSender {
  const logins = "logins" in ctx ? ctx.logins : new AccountLogins();
  transport ??= mailboxTransport(config, ctx.db, logins);
  return new OutboxSender({
    db: ctx.db,
    transport,
    from: { name: config.name, address: config.supportAddress },
    cfg: config.outbox,
    clock: ctx.clock,
    logger: ctx.logger.child({ component: "outbox" }),
    blobs: ctx.blobs,
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

/**
 * `poll-once`: drains every mailbox in turn (one IMAP connection each, no IDLE) and adds up what
 * happened. A mailbox that cannot be reached stops only itself; the summary names it.
 */
export async function drainAllOnce(
  config: TicketpostConfig,
  ctx: Gateway,
): Promise<DrainSummary & { mailboxes: Record<string, DrainSummary> }> {
  const total: DrainSummary & { mailboxes: Record<string, DrainSummary> } = {
    processed: 0,
    failed: 0,
    byOutcome: {},
    stoppedBy: null,
    mailboxes: {},
  };
  const [{ ImapMailbox }, { drainMailbox }] = await Promise.all([import("../mailbox/imap-mailbox.js"), import("../mailbox/drain.js")]);
  for (const m of config.mailboxes) {
    let summary: DrainSummary;
    try {
      const mb = await ImapMailbox.open({ ...m, idle: false }, ctx.logger, spoolOptions(config), ctx.logins);
      try {
        summary = await drainMailbox(mb, m, drainDeps(ctx, undefined, { config, mailbox: m }));
      } finally {
        await mb.close();
      }
    } catch (err) {
      const e = asTicketpostError(err, "EIMAP");
      ctx.logger.error("mailbox not drained", { mailbox: m.id, code: e.code, error: e.message });
      summary = { processed: 0, failed: 0, byOutcome: {}, stoppedBy: e };
    }
    total.mailboxes[m.id] = summary;
    total.processed += summary.processed;
    total.failed += summary.failed;
    for (const [k, n] of Object.entries(summary.byOutcome)) total.byOutcome[k] = (total.byOutcome[k] ?? 0) + n;
    total.stoppedBy ??= summary.stoppedBy;
  }
  return total;
}
