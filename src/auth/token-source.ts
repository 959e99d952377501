import { createPrivateKey, webcrypto, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import * as client from "openid-client";
import type { OAuth2Config } from "../config/schema.js";
import type { Logger } from "../shared/logger.js";
import { TicketpostError } from "../shared/errors.js";
import { tokenSourceKey } from "./logins.js";
import { diagnoseTokenError, fixFor, problemError, type TokenProblem } from "./problems.js";
import { seedOf, type GrantStore, type StoredGrant } from "./token-store.js";

/**
 * An OAuth2 access token for one account, obtained with openid-client (client credentials or
 * refresh token, RFC 6749 sections 4.4 and 6), cached, and fetched anew shortly before it
 * expires or when a server has refused it (`renew`). A refresh token the server rotates is
 * stored at once (see token-store.ts).
 */
export interface AccessTokenSource {
  readonly config: OAuth2Config;
  /** A valid token; `renew` after an IMAP or SMTP server refused the last one. Throws EOAUTH / EOAUTH_REFUSED. */
  accessToken(renew?: boolean): Promise<string>;
  /** Set while the last attempt failed; cleared by the next success. */
  readonly problem: TokenProblem | null;
  /** When the cached token expires (ms since epoch); 0 when there is none. */
  readonly expiresAt: number;
}

/** A token is fetched anew when less than this share of its lifetime is left (at most 5 minutes). */
const RENEW_SHARE = 0.25;
const RENEW_MAX_MS = 5 * 60_000;
/** Used when the server does not say how long a token lives (RFC 6749 makes expires_in optional). */
const DEFAULT_LIFETIME_S = 3600;

function isLoopbackHttp(u: string): boolean {
  const url = new URL(u);
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

/** openid-client's view of the server and of us; no discovery request, the endpoints are configured. */
export function clientConfiguration(o: OAuth2Config, onDate?: (serverDate: number) => void): client.Configuration {
  const server: client.ServerMetadata = {
    issuer: new URL(o.tokenEndpoint).origin,
    token_endpoint: o.tokenEndpoint,
    ...(o.authorizationEndpoint ? { authorization_endpoint: o.authorizationEndpoint } : {}),
    ...(o.deviceAuthorizationEndpoint ? { device_authorization_endpoint: o.deviceAuthorizationEndpoint } : {}),
  };
  const config = new client.Configuration(server, o.clientId, undefined, clientAuth(o));
  if (
    [o.tokenEndpoint, o.authorizationEndpoint, o.deviceAuthorizationEndpoint].every(
      (u) => !u || isLoopbackHttp(u) || u.startsWith("https:"),
    ) &&
    isLoopbackHttp(o.tokenEndpoint)
  ) {
    // Only a test server on loopback is spoken to in plain HTTP (the config refuses it elsewhere).
    client.allowInsecureRequests(config);
  }
  config.timeout = 30;
  if (onDate) {
    // The server's Date header tells whether our clock is off, which breaks signed assertions.
    config[client.customFetch] = async (url, options) => {
      const res = await fetch(url, options as RequestInit);
      const date = Date.parse(res.headers.get("date") ?? "");
      if (!Number.isNaN(date)) onDate(date);
      return res;
    };
  }
  return config;
}

function clientAuth(o: OAuth2Config): client.ClientAuth {
  if (o.certificateFile) {
    // Microsoft's certificate credentials: a private_key_jwt whose header names the certificate (x5t).
    const pem = readFileSync(o.certificateFile, "utf8");
    const cert = new X509Certificate(pem);
    const x5t = Buffer.from(cert.fingerprint.replace(/:/g, ""), "hex").toString("base64url");
    const der = createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
    const keyPromise = webcrypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
    let auth: client.ClientAuth | null = null;
    // openid-client calls ClientAuth and awaits what it returns (its type says void).
    const withKey = async (...args: Parameters<client.ClientAuth>): Promise<void> => {
      const key = await keyPromise;
      auth ??= client.PrivateKeyJwt(key, { [client.modifyAssertion]: (header: Record<string, unknown>) => void (header.x5t = x5t) });
      await (auth(...args) as unknown as Promise<void>); // PrivateKeyJwt signs asynchronously
    };
    return withKey as client.ClientAuth;
  }
  return o.clientSecret ? client.ClientSecretPost(o.clientSecret) : client.None();
}

export class OAuth2TokenSource implements AccessTokenSource {
  private cached: { token: string; expiresAt: number; lifetimeMs: number } | null = null;
  private pending: Promise<string> | null = null;
  private skewMs: number | null = null;
  private readonly oidc: client.Configuration;
  readonly key: string;
  problem: TokenProblem | null = null;

  constructor(
    readonly config: OAuth2Config,
    readonly user: string,
    private readonly store: GrantStore,
    private readonly logger: Logger,
    private readonly now = () => Date.now(),
  ) {
    this.oidc = clientConfiguration(config, (d) => (this.skewMs = this.now() - d));
    this.key = tokenSourceKey(config, user);
  }

  get expiresAt(): number {
    return this.cached?.expiresAt ?? 0;
  }

  private fresh(at = this.now()): string | null {
    const c = this.cached;
    if (!c) return null;
    return c.expiresAt - at > Math.min(RENEW_MAX_MS, c.lifetimeMs * RENEW_SHARE) ? c.token : null;
  }

  accessToken(renew = false): Promise<string> {
    if (renew) this.cached = null;
    const have = this.fresh();
    if (have) return Promise.resolve(have);
    // Callers asking at the same moment share one request.
    this.pending ??= this.obtain(renew).finally(() => (this.pending = null));
    return this.pending;
  }

  private async obtain(renew: boolean): Promise<string> {
    try {
      const token = this.config.grant === "client_credentials" ? await this.clientCredentials() : await this.refresh(renew);
      if (this.problem) this.logger.info("OAuth2 token obtained again", { account: this.config.key, user: this.user });
      this.problem = null;
      return token;
    } catch (err) {
      // The database holding the refresh token failed, not the authorization server.
      if ((err as { driverError?: unknown }).driverError !== undefined)
        throw new TicketpostError(
          "EDB",
          `${this.config.key}: the stored OAuth2 grant could not be read or written: ${(err as Error).message}`,
          { cause: err },
        );
      const problem = (err as { problem?: TokenProblem }).problem ?? diagnoseTokenError(err, this.config, this.skewMs);
      const first = this.problem?.message !== problem.message;
      this.problem = problem;
      // One clear line per new problem; repeats go to debug so a retry loop does not flood the log.
      (first ? this.logger.error : this.logger.debug)("OAuth2 token not obtained", {
        account: this.config.key,
        user: this.user,
        kind: problem.kind,
        error: problem.message,
        fix: problem.fix,
      });
      throw problemError(problem, err);
    }
  }

  private keep(token: string, expiresIn: number | undefined): string {
    const lifetimeMs = (expiresIn ?? DEFAULT_LIFETIME_S) * 1000;
    this.cached = { token, expiresAt: this.now() + lifetimeMs, lifetimeMs };
    return token;
  }

  private async clientCredentials(): Promise<string> {
    if (!this.config.clientSecret && !this.config.certificateFile) throw missing(this.config);
    const res = await client.clientCredentialsGrant(this.oidc, { scope: this.config.scope });
    return this.keep(res.access_token, res.expiresIn());
  }

  /**
   * Under the store's lock: take the token another instance stored if it is still good,
   * otherwise refresh with the newest refresh token and store what comes back (rotated or not).
   */
  private refresh(renew: boolean): Promise<string> {
    const envSeed = seedOf(this.config.refreshToken);
    return this.store.exclusive(this.key, async (stored) => {
      // A stored grant descends from the environment's token; a new token there is a new consent.
      const current = stored && (envSeed === null || stored.seed === envSeed) ? stored : null;
      const now = this.now();
      if (current?.accessToken && !renew && current.expiresAt - now > 0) {
        const lifetimeMs = Math.max(1, current.expiresAt - Date.parse(current.updatedAt));
        this.cached = { token: current.accessToken, expiresAt: current.expiresAt, lifetimeMs };
        const good = this.fresh(now);
        if (good) return { store: null, result: good };
      }
      const refreshToken = current?.refreshToken ?? this.config.refreshToken;
      if (!refreshToken) throw missing(this.config);
      const res = await client.refreshTokenGrant(this.oidc, refreshToken, { scope: this.config.scope });
      const token = this.keep(res.access_token, res.expiresIn());
      const rotated = !!res.refresh_token && res.refresh_token !== refreshToken;
      if (rotated) this.logger.info("OAuth2 refresh token rotated; the new one is stored", { account: this.config.key, user: this.user });
      const next: StoredGrant = {
        seed: current?.seed ?? envSeed,
        refreshToken: res.refresh_token ?? refreshToken,
        accessToken: token,
        expiresAt: this.cached!.expiresAt,
        updatedAt: new Date(now).toISOString(),
      };
      return { store: next, result: token };
    });
  }
}

function missing(o: OAuth2Config): Error & { problem: TokenProblem } {
  const what =
    o.grant === "refresh_token"
      ? `no refresh token (none stored, and ${o.env.refreshToken} is not set)`
      : `no client secret (${o.env.clientSecret} is not set) and no certificateFile`;
  return Object.assign(new Error(what), {
    problem: { kind: "missing-secret" as const, message: `${o.key}: ${what}`, fix: fixFor("missing-secret", o) },
  });
}
