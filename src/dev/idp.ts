/**
 * The demo's identity provider: oidc-provider on 127.0.0.1, a port chosen at
 * run time, two confidential clients (client credentials) and JWT access
 * tokens for pushgate's audience. Keys and client secrets are generated per run.
 *
 * With `consoleRedirectUrl` it also serves the review console's login: a
 * confidential client for the authorization code flow (PKCE) and demo
 * accounts that log in with a user name and password on the provider's own
 * login page (oidc-provider's interactions). Passwords are made up per run
 * and checked for real (scrypt, constant-time); each account is granted only
 * the scopes it holds, so the agent account never gets the reviewer role.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import { DEV_AUDIENCE } from './setup.js';

export const DEV_RESOURCE = 'urn:pushgate:api';
const RESOURCE = DEV_RESOURCE;

export interface DevClient {
  id: string;
  secret: string;
  /** The one scope this client may obtain; the issuer's roleMap turns it into a role. */
  scope: string;
}

/** A person (or agent) who logs in to the console on the provider's login page. */
export interface DevAccount {
  username: string;
  password: string;
  /** What the account may obtain for pushgate (`git:review`, `git:push`). */
  scopes: string[];
}

export interface DevIdp {
  issuer: string;
  clients: { agent: DevClient; reviewer: DevClient; console?: DevClient };
  /** The console's accounts: the demo reviewer, a second reviewer (for four-eyes) and an agent. */
  accounts: DevAccount[];
  close(): Promise<void>;
}

export interface DevIdpOptions {
  /** The console's callback (`http://127.0.0.1:PORT/console/callback`): registers the console's client and the accounts. */
  consoleRedirectUrl?: string;
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomBytes(6).toString('hex');
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

function client(id: string, scope: string): DevClient {
  return { id, secret: randomBytes(24).toString('base64url'), scope };
}

function account(username: string, scopes: string[]): DevAccount {
  return { username, password: randomBytes(9).toString('base64url'), scopes };
}

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML[c]!);

function loginForm(uid: string, clientId: string, error: string | undefined): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · demo identity provider</title></head>
<body><h1>Demo identity provider</h1><p>Sign in to continue to <strong>${esc(clientId)}</strong>.</p>
${error === undefined ? '' : `<p role="alert" id="login-error">${esc(error)}</p>`}
<form method="post" action="/interaction/${encodeURIComponent(uid)}/login" autocomplete="off">
<label>User name <input name="login" id="username" required></label><br>
<label>Password <input name="password" id="password" type="password" required></label><br>
<button type="submit" id="sign-in">Sign in</button></form></body></html>`;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 8192) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function page(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store',
    // No form-action: the login's redirect chain ends at the console, another origin.
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  });
  response.end(body);
}

export async function startDevIdp(options: DevIdpOptions = {}): Promise<DevIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const withConsole = options.consoleRedirectUrl !== undefined;
  const consoleClient = withConsole ? client('pushgate-console', 'git:push git:review') : undefined;
  const clients = { agent: client('demo-agent', 'git:push'), reviewer: client('demo-reviewer', 'git:review'), ...(consoleClient ? { console: consoleClient } : {}) };
  const accounts = withConsole ? [account('alice', ['git:review']), account('bob', ['git:review']), account('demo-agent', ['git:push'])] : [];
  const salt = randomBytes(16);
  const hashes = new Map(accounts.map((a) => [a.username, scryptSync(a.password, salt, 32)]));
  const byName = new Map(accounts.map((a) => [a.username, a]));
  const key = await signingKey();
  const byId = new Map([clients.agent, clients.reviewer, ...(consoleClient ? [consoleClient] : [])].map((c) => [c.id, c]));
  const consoleBase = withConsole ? new URL('./', options.consoleRedirectUrl).href : undefined;
  const configuration: Configuration = {
    clients: [
      ...[clients.agent, clients.reviewer].map((c) => ({
        client_id: c.id,
        client_secret: c.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic' as const,
      })),
      ...(consoleClient ? [{
        client_id: consoleClient.id,
        client_secret: consoleClient.secret,
        grant_types: ['authorization_code'],
        response_types: ['code' as const],
        redirect_uris: [options.consoleRedirectUrl!],
        post_logout_redirect_uris: [`${consoleBase}login`],
        token_endpoint_auth_method: 'client_secret_basic' as const,
      }] : []),
    ],
    jwks: { keys: [key] as never },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    ttl: { AccessToken: 600, ClientCredentials: 600, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60 },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    pkce: { required: () => true },
    findAccount: (_ctx, id) => (byName.has(id) ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><p>${esc(String(out.error))}: ${esc(String(out.error_description ?? ''))}</p></body></html>`;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Pages of our own: oidc-provider's default ones load web fonts from another origin.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = 'html';
          ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out · demo identity provider</title></head><body><h1>Sign out of the demo identity provider?</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes" id="sign-out">Sign out</button></body></html>`;
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><p>You are signed out.</p></body></html>';
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, oidcClient) => {
          if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
          // Each demo client can obtain only its own scope: the agent never gets the reviewer role.
          const scope = byId.get(oidcClient.clientId)?.scope ?? '';
          return { scope, audience: DEV_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'ES256', kid: key.kid! } } };
        },
      },
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  /** The login page (user name + password) and the consent step, which grants each account only its own scopes. */
  async function interaction(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(request, response);
    const { uid, prompt, params } = details;
    if (request.method === 'POST' && request.url?.endsWith('/login')) {
      const form = await readForm(request);
      const name = form.get('login') ?? '';
      const hash = hashes.get(name);
      const given = scryptSync(form.get('password') ?? '', salt, 32);
      if (hash === undefined || !timingSafeEqual(hash, given)) {
        page(response, 401, loginForm(uid, String(params.client_id), 'Wrong user name or password.'));
        return;
      }
      await provider.interactionFinished(request, response, { login: { accountId: name } }, { mergeWithLastSubmission: false });
      return;
    }
    if (prompt.name === 'login') {
      page(response, 200, loginForm(uid, String(params.client_id), undefined));
      return;
    }
    if (prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      const allowed = new Set(byName.get(accountId ?? '')?.scopes ?? []);
      const grant = details.grantId ? (await provider.Grant.find(details.grantId))! : new provider.Grant({ accountId: accountId!, clientId: String(params.client_id) });
      const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        const granted = scopes.filter((s) => allowed.has(s));
        const refused = scopes.filter((s) => !allowed.has(s));
        if (granted.length > 0) grant.addResourceScope(indicator, granted.join(' '));
        if (refused.length > 0) grant.rejectResourceScope(indicator, refused.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(request, response, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    page(response, 400, '<p>Unknown step.</p>');
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.url?.startsWith('/interaction/')) {
      interaction(request, response).catch(() => {
        if (!response.headersSent) page(response, 400, '<!doctype html><p>This sign-in has expired. Go back to the console and log in again.</p>');
        else response.destroy();
      });
      return;
    }
    void callback(request, response);
  });
  return {
    issuer,
    clients,
    accounts,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
