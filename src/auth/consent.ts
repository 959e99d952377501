import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import readline from "node:readline";
import * as client from "openid-client";
import type { AccountLogin, OAuth2Config, TicketpostConfig } from "../config/schema.js";
import { TicketpostError } from "../shared/errors.js";
import { diagnoseTokenError, problemError } from "./problems.js";
import { clientConfiguration, OAuth2TokenSource } from "./token-source.js";
import { seedOf, type GrantStore } from "./token-store.js";
import { silentLogger } from "../shared/logger.js";

/**
 * `ticketpost auth`: the one-time consent of a refresh-token account. With a device endpoint
 * (Microsoft) the device-code flow (RFC 8628): open a URL anywhere, type a code. Otherwise
 * (Google, whose device flow refuses the Gmail scope) the authorization-code flow with PKCE
 * (RFC 7636) and a loopback redirect (RFC 8252 section 7.3): open the printed URL; the browser
 * comes back to this process, or, on another machine, paste the address it ended on. The refresh
 * token goes into the database, where the gateway takes it from at its next refresh.
 */
export interface ConsentIo {
  /** Where instructions go (never a token). */
  say(line: string): void;
  /** Lines typed by the operator (a pasted address); null when there is no terminal. */
  lines: AsyncIterable<string> | null;
}

/** The accounts that consent applies to, by the names `ticketpost auth NAME` takes. */
export function consentAccounts(config: TicketpostConfig): Array<{ name: string; login: AccountLogin & { oauth2: OAuth2Config } }> {
  const out: Array<{ name: string; login: AccountLogin & { oauth2: OAuth2Config } }> = [];
  const add = (name: string, l: { user: string | null; password: string | null; oauth2?: OAuth2Config | null; passwordEnv?: string }) => {
    if (l.oauth2 && l.user && l.oauth2.grant === "refresh_token")
      out.push({ name, login: { user: l.user, password: null, oauth2: l.oauth2, passwordEnv: l.passwordEnv ?? "" } });
  };
  for (const m of config.mailboxes) add(m.key === "imap" ? "imap" : m.id, m);
  add("smtp", config.smtp);
  for (const m of config.mailboxes) if (m.smtp) add(`${m.id}-smtp`, m.smtp);
  return out;
}

async function deviceFlow(oidc: client.Configuration, o: OAuth2Config, io: ConsentIo): Promise<client.TokenEndpointResponse> {
  const start = await client.initiateDeviceAuthorization(oidc, { scope: o.scope });
  io.say(`Sign in as the mailbox user: open ${start.verification_uri} and enter the code ${start.user_code}`);
  if (start.verification_uri_complete) io.say(`(or open ${start.verification_uri_complete})`);
  io.say(`Waiting for the sign-in (the code is valid for ${Math.round(start.expires_in / 60)} minutes)...`);
  return client.pollDeviceAuthorizationGrant(oidc, start);
}

/** Resolves with the address the browser came back to: on the loopback listener, or pasted. */
function awaitRedirect(server: http.Server, io: ConsentIo): Promise<URL> {
  return new Promise((resolve) => {
    server.on("request", (req, res) => {
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
      if (!url.searchParams.has("code") && !url.searchParams.has("error")) return void res.writeHead(404).end();
      res
        .writeHead(200, { "content-type": "text/plain; charset=utf-8" })
        .end("Ticketpost received the consent. You can close this window.\n");
      resolve(url);
    });
    void (async () => {
      if (!io.lines) return;
      for await (const line of io.lines) {
        const t = line.trim();
        if (/^https?:\/\//.test(t)) return resolve(new URL(t));
      }
    })();
  });
}

async function browserFlow(oidc: client.Configuration, o: OAuth2Config, io: ConsentIo): Promise<client.TokenEndpointResponse> {
  if (!o.authorizationEndpoint)
    throw new TicketpostError("ECONFIG", `config: ${o.key}.oauth2.authorizationEndpoint is required for the consent (or set provider)`);
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  try {
    const redirect = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const verifier = client.randomPKCECodeVerifier();
    const state = randomBytes(16).toString("base64url");
    const url = client.buildAuthorizationUrl(oidc, {
      redirect_uri: redirect,
      scope: o.scope,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      // Google returns a refresh token only for offline access with a consent prompt.
      access_type: "offline",
      prompt: "consent",
    });
    io.say(`Sign in as the mailbox user: open this address in a browser:\n\n  ${url.href}\n`);
    io.say(`If the browser is on another machine, its last page will not load: paste the address it shows here and press Enter.`);
    const back = await awaitRedirect(server, io);
    return await client.authorizationCodeGrant(oidc, back, { pkceCodeVerifier: verifier, expectedState: state });
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

/** Runs the consent for one account and stores its refresh token. Returns the line to print. */
export async function runConsent(
  config: TicketpostConfig,
  name: string | undefined,
  store: GrantStore,
  io: ConsentIo,
  opts: { browser?: boolean } = {},
): Promise<string> {
  const accounts = consentAccounts(config);
  if (accounts.length === 0)
    throw new TicketpostError(
      "EUSAGE",
      "no account uses the refresh-token grant (oauth2.grant refresh_token); client credentials need no consent here: grant admin consent to the app instead",
    );
  const chosen = name ? accounts.find((a) => a.name === name) : accounts[0];
  if (!chosen)
    throw new TicketpostError("EUSAGE", `no refresh-token account "${name}"; choose one of ${accounts.map((a) => a.name).join(", ")}`);
  const o = chosen.login.oauth2;
  const oidc = clientConfiguration(o);
  let tokens: client.TokenEndpointResponse;
  try {
    tokens = o.deviceAuthorizationEndpoint && !opts.browser ? await deviceFlow(oidc, o, io) : await browserFlow(oidc, o, io);
  } catch (err) {
    if (err instanceof TicketpostError) throw err;
    throw problemError(diagnoseTokenError(err, o, null), err);
  }
  if (!tokens.refresh_token)
    throw new TicketpostError(
      "EOAUTH_REFUSED",
      `${o.key}: the server gave no refresh token; ask for offline access (scope offline_access at Microsoft) and consent again`,
    );
  const key = new OAuth2TokenSource(o, chosen.login.user, store, silentLogger).key;
  const expiresAt = Date.now() + (tokens.expires_in ?? 3600) * 1000;
  await store.exclusive(key, async () => ({
    // Stored as descending from the environment's token, so this consent is taken over it.
    store: {
      seed: seedOf(o.refreshToken),
      refreshToken: tokens.refresh_token!,
      accessToken: tokens.access_token,
      expiresAt,
      updatedAt: new Date().toISOString(),
    },
    result: null,
  }));
  return `consent stored for ${chosen.login.user} (${chosen.name}); running gateways use it from their next token refresh`;
}

/** Standard input as lines, when it is a terminal or a pipe (for a pasted address). */
export function stdinLines(): AsyncIterable<string> | null {
  return process.stdin.readable ? readline.createInterface({ input: process.stdin, terminal: false }) : null;
}
