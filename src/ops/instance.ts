import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DataSource } from "typeorm";
import { GatewayInstance } from "../db/entities.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const VERSION: string = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version;

/** An instance counts as alive while its heartbeat is younger than this. */
export const ALIVE_MS = 3 * 60_000;

/** This process's row in gateway_instance: written at start, after every poll, and at stop. */
export class InstanceRecord {
  readonly id = `${os.hostname()}:${process.pid}`;
  private readonly startedAt = new Date();

  constructor(private readonly db: DataSource) {}

  async update(
    fields: Partial<Pick<GatewayInstance, "lastPollAt" | "lastPollError" | "idleConnected" | "stoppedAt">> & { mailboxes?: string[] } = {},
  ): Promise<void> {
    const { mailboxes, ...rest } = fields;
    await this.db.getRepository(GatewayInstance).save({
      id: this.id,
      version: VERSION,
      startedAt: this.startedAt,
      heartbeatAt: new Date(),
      idleConnected: false,
      stoppedAt: null,
      ...rest,
      ...(mailboxes ? { mailboxes: JSON.stringify(mailboxes) } : {}),
    });
  }
}

/** Gateway processes whose heartbeat is fresh and that did not say they stopped. */
export async function liveInstances(db: DataSource, now = new Date()): Promise<GatewayInstance[]> {
  const rows = await db.getRepository(GatewayInstance).find();
  return rows.filter((r) => !r.stoppedAt && now.getTime() - r.heartbeatAt.getTime() < ALIVE_MS);
}

/** Other live processes of a different version: `migrate` refuses to change the schema under them. */
export async function liveInstancesOfOtherVersions(db: DataSource, now = new Date()): Promise<GatewayInstance[]> {
  return (await liveInstances(db, now)).filter((r) => r.version !== VERSION);
}
