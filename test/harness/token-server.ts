import http from "node:http";
import type { AddressInfo } from "node:net";
/** oidc-provider's start-up advice (development keys, Node 22) is for its production users, not this test server. */
function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  const info = console.info;
  const keep =
    (f: typeof console.warn) =>
    (...args: unknown[]) =>
      /^oidc-provider (WARNING|NOTICE)/.test(String(args[0])) ? undefined : f(...args);
  console.warn = keep(warn);
  console.info = keep(info);
  return fn().finally(() => {
    console.warn = warn;
    console.info = info;
  });
}

// oidc-provider ships no types; the few calls made here are typed by hand below.
const OidcProvider: any = await quietly(async () => (await import("oidc-provider" as string)).default);

/*
 * A real OAuth2 authorization server on loopback (oidc-provider), issuing access tokens that
 * live a few seconds, by client credentials and by refresh token, rotating the refresh token on
 * every use, with revocation and RFC 7662 introspection. Dovecot's oauth2 passdb and the test
 * SMTP relay ask it whether a token is active and whom it names.
 *
 * Whom a token names ("username" in the introspection answer): for a refresh-token grant the
 * account that consented; for client credentials the mailbox the client was given, as Exchange
 * grants an app one mailbox with Add-MailboxPermission.
 */
export interface TokenClient {
  clientId: string;
  /** client_secret_post; or, with `jwks`, private_key_jwt (certificate credentials) and no secret. */
  clientSecret: string;
  /** Public keys for private_key_jwt. */
  jwks?: { keys: object[] };
  grants: Array<"client_credentials" | "refresh_token" | "authorization_code" | "urn:ietf:params:oauth:grant-type:device_code">;
  /** client_credentials: the mailbox this app may open. */
  mailbox?: string;
  redirectUris?: string[];
}

export interface TokenServerOptions {
  clients: TokenClient[];
  /** Lifetime of every access token (seconds). */
  accessTokenSeconds: number;
}

export interface TokenServer {
  issuer: string;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  deviceAuthorizationEndpoint: string;
  /** Introspection with the introspecting client's credentials in the URL (Dovecot's introspection_url form). */
  introspectionUrlWithCredentials: string;
  /** The resource scope every mail token carries. */
  scope: string;
  /** A consented grant for `account` with its first refresh token, as after a user's consent. */
  issueRefreshToken(clientId: string, account: string): Promise<string>;
  /** Revokes every grant of `account` (its refresh and access tokens stop working). */
  revokeGrants(account: string): Promise<number>;
  introspect(token: string): Promise<{ active: boolean; username?: string }>;
  /**
   * A browser signing in as `account` at an authorization URL: follows the redirects, fills the
   * login (and consent) form, and returns the address the server finally sends it to (the
   * client's redirect URI with the code), without opening it.
   */
  signIn(authorizationUrl: string, account: string): Promise<string>;
  /** Every token value it has issued (access and refresh): none may ever appear in a log. */
  issued: Set<string>;
  /** How many tokens it issued, by grant type. */
  counts: Record<string, number>;
  stop(): Promise<void>;
}

const RESOURCE = "urn:ticketpost-test:mail";
const SCOPE = "mail";
const INTROSPECTOR = { clientId: "mail-servers", clientSecret: "introspector-secret" };

export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const grantsOf = new Map<string, Set<string>>();
  const issued = new Set<string>();
  const counts: Record<string, number> = {};

  const provider = await quietly(
    async () =>
      new OidcProvider(issuer, {
        clients: [
          ...o.clients.map((c) => ({
            client_id: c.clientId,
            ...(c.jwks
              ? { jwks: c.jwks, token_endpoint_auth_method: "private_key_jwt" }
              : { client_secret: c.clientSecret, token_endpoint_auth_method: "client_secret_post" }),
            grant_types: c.grants,
            response_types: c.grants.includes("authorization_code") ? ["code"] : [],
            // ticketpost auth listens on a loopback port of its choice (RFC 8252 section 7.3).
            redirect_uris: c.redirectUris ?? (c.grants.includes("authorization_code") ? ["http://127.0.0.1/"] : []),
            // A native app: its loopback redirect may use any port (RFC 8252 section 7.3).
            ...(c.grants.includes("authorization_code") ? { application_type: "native" } : {}),
            ...(c.mailbox ? { mailbox: c.mailbox } : {}),
          })),
          {
            client_id: INTROSPECTOR.clientId,
            client_secret: INTROSPECTOR.clientSecret,
            grant_types: [],
            response_types: [],
            redirect_uris: [],
          },
        ],
        extraClientMetadata: { properties: ["mailbox"] },
        scopes: ["openid", "offline_access", SCOPE],
        features: {
          devInteractions: { enabled: true },
          clientCredentials: { enabled: true },
          deviceFlow: { enabled: true },
          introspection: { enabled: true, allowedPolicy: async () => true },
          revocation: { enabled: true },
          resourceIndicators: {
            enabled: true,
            defaultResource: async () => RESOURCE,
            useGrantedResource: async () => true,
            getResourceServerInfo: async () => ({ scope: SCOPE, accessTokenTTL: o.accessTokenSeconds, accessTokenFormat: "opaque" }),
          },
        },
        // Every use of a refresh token returns a new one; the old one is then spent (a replay revokes the grant).
        rotateRefreshToken: () => true,
        extraTokenClaims: async (_ctx: unknown, token: { kind: string; accountId?: string; clientId: string }) => {
          if (token.accountId) return { username: token.accountId };
          const client = o.clients.find((c) => c.clientId === token.clientId);
          return client?.mailbox ? { username: client.mailbox } : undefined;
        },
        findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
        loadExistingGrant: async (ctx: any) => {
          // Consent is given by the login itself in this test server: every asked scope is granted.
          const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
          if (grantId) return ctx.oidc.provider.Grant.find(grantId);
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
          grant.addOIDCScope("openid offline_access");
          grant.addResourceScope(RESOURCE, SCOPE);
          await grant.save();
          (
            grantsOf.get(ctx.oidc.session.accountId) ?? grantsOf.set(ctx.oidc.session.accountId, new Set()).get(ctx.oidc.session.accountId)!
          ).add(grant.jti);
          return grant;
        },
        issueRefreshToken: async () => true,
        ttl: {
          IdToken: 60,
          AccessToken: o.accessTokenSeconds,
          ClientCredentials: o.accessTokenSeconds,
          RefreshToken: 24 * 3600,
          Grant: 24 * 3600,
          Session: 3600,
          Interaction: 600,
          DeviceCode: 600,
          AuthorizationCode: 60,
        },
        pkce: { required: () => false },
      }),
  );
  provider.on("server_error", (_ctx: unknown, err: Error) => console.error("token server error:", err));
  for (const [event, kind] of [
    ["access_token.saved", "access"],
    ["client_credentials.saved", "client_credentials"],
    ["refresh_token.saved", "refresh"],
  ] as const) {
    provider.on(event, (token: { jti: string }) => {
      counts[kind] = (counts[kind] ?? 0) + 1;
      // Opaque tokens are their jti.
      issued.add(token.jti);
    });
  }
  server.on("request", provider.callback());

  const tokenUrl = `${issuer}/token`;
  return {
    issuer,
    tokenEndpoint: tokenUrl,
    authorizationEndpoint: `${issuer}/auth`,
    deviceAuthorizationEndpoint: `${issuer}/device/auth`,
    introspectionUrlWithCredentials: `http://${INTROSPECTOR.clientId}:${INTROSPECTOR.clientSecret}@127.0.0.1:${(server.address() as AddressInfo).port}/token/introspection`,
    scope: SCOPE,
    issued,
    counts,
    async issueRefreshToken(clientId, account) {
      const client = await provider.Client.find(clientId);
      const grant = new provider.Grant({ clientId, accountId: account });
      grant.addOIDCScope("openid offline_access");
      grant.addResourceScope(RESOURCE, SCOPE);
      const grantId = await grant.save();
      (grantsOf.get(account) ?? grantsOf.set(account, new Set()).get(account)!).add(grantId);
      const rt = new provider.RefreshToken({
        client,
        accountId: account,
        grantId,
        scope: `openid offline_access ${SCOPE}`,
        resource: RESOURCE,
        gty: "authorization_code",
      });
      const value = await rt.save();
      issued.add(value);
      return value;
    },
    async revokeGrants(account) {
      const ids = [...(grantsOf.get(account) ?? [])];
      for (const id of ids) {
        for (const model of [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode]) await model.revokeByGrantId(id);
        const g = await provider.Grant.find(id);
        await g?.destroy();
      }
      grantsOf.delete(account);
      return ids.length;
    },
    async introspect(token) {
      const res = await fetch(`${issuer}/token/introspection`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${INTROSPECTOR.clientId}:${INTROSPECTOR.clientSecret}`).toString("base64")}`,
        },
        body: new URLSearchParams({ token }),
      });
      return (await res.json()) as { active: boolean; username?: string };
    },
    signIn: (url, account) => browse(issuer, url, account),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function browse(issuer: string, start: string, account: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = start;
  let body: URLSearchParams | null = null;
  for (let hop = 0; hop < 20; hop++) {
    if (!url.startsWith(issuer)) return url;
    const res = await fetch(url, {
      method: body ? "POST" : "GET",
      redirect: "manual",
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
        ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      body: body ?? undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair.indexOf("=");
      jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    body = null;
    const location = res.headers.get("location");
    if (location) {
      url = new URL(location, url).href;
      continue;
    }
    const html = await res.text();
    const form = /<form[^>]*action="([^"]+)"[^>]*>/.exec(html);
    // A page without a form is where the sign-in ends (the device flow's "you may close this").
    if (!form) return url;
    const fields = new URLSearchParams();
    for (const [input] of html.matchAll(/<input[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input)?.[1];
      if (!name) continue;
      const value = /value="([^"]*)"/.exec(input)?.[1] ?? "";
      if (name === "login") fields.set(name, account);
      else if (name === "password") fields.set(name, "any");
      else if (/type="hidden"/.test(input)) fields.set(name, value.replace(/&amp;/g, "&"));
    }
    url = new URL(form[1].replace(/&amp;/g, "&"), url).href;
    body = fields;
  }
  throw new Error("sign-in did not finish in 20 steps");
}
