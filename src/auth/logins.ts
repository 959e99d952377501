import type { AccountLogin, OAuth2Config } from "../config/schema.js";
import { TicketpostError } from "../shared/errors.js";
import { silentLogger, type Logger } from "../shared/logger.js";
import type { TokenProblem } from "./problems.js";
import type { AccessTokenSource, OAuth2TokenSource } from "./token-source.js";
import { grantKey, memoryGrantStore, seedOf, type GrantStore } from "./token-store.js";

/** What an IMAP or SMTP client logs in with: a password, or an OAuth2 access token (SASL XOAUTH2 / OAUTHBEARER). */
export type Credentials = { user: string; pass: string } | { user: string; accessToken: string };

/**
 * Every account's login in one process. Accounts that share an OAuth2 client, user and scope
 * (the IMAP and SMTP side of one Microsoft 365 mailbox, say) share one token source, so one
 * token serves both and a rotated refresh token is used by both.
 */
/** The key an account's grant is stored and shared under: the same request, the same grant. */
export function tokenSourceKey(config: OAuth2Config, user: string): string {
  return grantKey([config.tokenEndpoint, config.clientId, config.grant === "refresh_token" ? user.toLowerCase() : "", config.scope]);
}

/**
 * An account's OAuth2TokenSource, made on the first token request: token-source.ts loads
 * openid-client, which a command that never logs in with OAuth2 (--help, import, tickets) need not load.
 */
class DeferredTokenSource implements AccessTokenSource {
  private made: Promise<OAuth2TokenSource> | null = null;
  private real: OAuth2TokenSource | null = null;
  readonly key: string;

  constructor(
    readonly config: OAuth2Config,
    readonly user: string,
    private readonly store: GrantStore,
    private readonly logger: Logger,
  ) {
    this.key = tokenSourceKey(config, user);
  }

  get problem(): TokenProblem | null {
    return this.real?.problem ?? null;
  }

  get expiresAt(): number {
    return this.real?.expiresAt ?? 0;
  }

  async accessToken(renew = false): Promise<string> {
    this.made ??= import("./token-source.js").then(
      (m) => (this.real = new m.OAuth2TokenSource(this.config, this.user, this.store, this.logger)),
    );
    return (await this.made).accessToken(renew);
  }
}

export class AccountLogins {
  private readonly sources = new Map<string, DeferredTokenSource>();

  constructor(
    private readonly store: GrantStore = memoryGrantStore(),
    private readonly logger: Logger = silentLogger,
  ) {}

  /** The token source of an OAuth2 account; null for a password account. */
  sourceFor(account: AccountLogin): AccessTokenSource | null {
    if (!account.oauth2) return null;
    const fresh = new DeferredTokenSource(account.oauth2, account.user, this.store, this.logger.child({ component: "oauth2" }));
    // Shared only by accounts that would send the very same request.
    const key = [
      fresh.key,
      account.oauth2.clientSecret ? seedOf(account.oauth2.clientSecret) : "",
      account.oauth2.certificateFile ?? "",
      account.oauth2.refreshToken ? seedOf(account.oauth2.refreshToken) : "",
    ].join("|");
    const known = this.sources.get(key);
    if (known) return known;
    this.sources.set(key, fresh);
    return fresh;
  }

  /**
   * The credentials to log in with now. `renew`: the server refused the last token, fetch
   * another. A missing password is reported here, where it is needed, never at startup.
   */
  async credentials(account: AccountLogin & { user: string | null }, key: string, renew = false): Promise<Credentials> {
    const user = account.user ?? "";
    const source = this.sourceFor({ ...account, user });
    if (source) return { user, accessToken: await source.accessToken(renew) };
    if (account.password === null)
      throw new TicketpostError("ECONFIG", `config: ${key}.password is required (or set ${account.passwordEnv})`);
    return { user, pass: account.password };
  }

  /** Current token problems, for status, check and the health endpoint. */
  problems(): Array<{ account: string; user: string; problem: TokenProblem }> {
    return [...this.sources.values()].filter((s) => s.problem).map((s) => ({ account: s.config.key, user: s.user, problem: s.problem! }));
  }
}
