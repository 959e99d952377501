import http from "node:http";
import type { DataSource } from "typeorm";
import type { Logger } from "../shared/logger.js";
import type { GatewayMetrics } from "./metrics.js";

export interface HealthSource {
  imapConnected(): boolean;
  lastPoll(): { at: Date; error: string | null } | null;
}

/**
 * /healthz and /metrics (Prometheus text format). Off unless configured, loopback unless told
 * otherwise: it says how the helpdesk is doing, which is nobody else's business.
 */
export async function startHttpServer(o: {
  host: string;
  port: number;
  db: DataSource;
  metrics: GatewayMetrics;
  health: HealthSource;
  logger: Logger;
}): Promise<{ port: number; close(): Promise<void> }> {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      if (req.method !== "GET") {
        res.writeHead(405, { allow: "GET" }).end();
        return;
      }
      if (req.url === "/metrics") {
        const body = await o.metrics.registry.metrics();
        res.writeHead(200, { "content-type": o.metrics.registry.contentType }).end(body);
        return;
      }
      if (req.url === "/healthz") {
        let database = true;
        try {
          await o.db.query("SELECT 1");
        } catch {
          database = false;
        }
        const imap = o.health.imapConnected();
        const last = o.health.lastPoll();
        const ok = database && imap;
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(
          JSON.stringify({
            status: ok ? "ok" : "unhealthy",
            database,
            imapConnected: imap,
            lastPollAt: last?.at.toISOString() ?? null,
            lastPollError: last?.error ?? null,
          }) + "\n",
        );
        return;
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /healthz or /metrics\n");
    } catch (err) {
      o.logger.error("http request failed", { url: req.url, error: (err as Error).message });
      if (!res.headersSent) res.writeHead(500).end();
    }
  };
  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  o.logger.info("http endpoint listening", { host: o.host, port });
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
