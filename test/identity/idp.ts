/**
 * oidc-provider as a real identity provider, in-process on 127.0.0.1 and a
 * port chosen at run time: client credentials, device flow (its user step
 * completed programmatically), JWT access tokens for pushgate's audience,
 * token exchange with an `act` claim, and key rotation. Keys and client
 * secrets are generated per run.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export const AUDIENCE = 'pushgate';
export const RESOURCE = 'urn:pushgate:api';
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const SCOPES = ['git:push', 'git:review'];

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

interface SigningKey {
  kid: string;
  privateJwk: JWK;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = randomBytes(6).toString('hex');
  return { kid, privateJwk: { ...privateJwk, kid, alg: 'ES256', use: 'sig' } };
}

function publicJwk(key: SigningKey): JWK {
  const { d: _d, ...rest } = key.privateJwk;
  return rest;
}

/** A minimal cookie jar: every cookie goes back on every request (the provider's names are distinct). */
class Browser {
  readonly #cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { method: init.method ?? 'GET', headers, redirect: 'manual', signal: AbortSignal.timeout(30_000), ...(body !== undefined ? { body } : {}) });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects (GET) until a page answers 200; returns its text. */
  async follow(url: string, first?: Response): Promise<{ url: string; text: string }> {
    let response = first ?? (await this.request(url));
    let current = url;
    for (let hops = 0; hops < 20; hops += 1) {
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        current = new URL(location, current).href;
        response = await this.request(current);
        continue;
      }
      const text = await response.text();
      if (response.status !== 200) throw new Error(`${current}: HTTP ${response.status}: ${text.slice(0, 500)}`);
      return { url: current, text };
    }
    throw new Error('too many redirects');
  }
}

function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (match === null) throw new Error(`no ${name} in page:\n${html.slice(0, 800)}`);
  return match[1]!;
}

export interface IdpClient {
  id: string;
  secret?: string;
}

export class TestIdp {
  readonly issuer: string;
  readonly clients: { agent: Required<IdpClient>; device: IdpClient; exchanger: Required<IdpClient> };
  #keys: SigningKey[];
  #provider: Provider;
  #handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The account the next device approval logs in as. */
  #deviceAccount = 'device-user';
  readonly #cookieKeys = [randomBytes(16).toString('hex')];
  /** Claims of tokens minted by token exchange, until they are serialised. */
  readonly #exchanged = new WeakMap<object, Record<string, unknown>>();

  private constructor(readonly server: Server, port: number, keys: SigningKey[]) {
    this.issuer = `http://127.0.0.1:${port}`;
    this.clients = {
      agent: { id: 'agent-ci', secret: randomBytes(18).toString('base64url') },
      device: { id: 'reviewer-cli' },
      exchanger: { id: 'exchanger', secret: randomBytes(18).toString('base64url') },
    };
    this.#keys = keys;
    this.#provider = this.#build();
    this.#handler = this.#provider.callback();
  }

  static async start(t: Teardown): Promise<TestIdp> {
    let idp: TestIdp | undefined;
    const server = createServer((req, res) => idp!.#serve(req, res));
    // Tests block their event loop in spawnSync; a client must not reuse a socket the server closed meanwhile.
    server.keepAliveTimeout = 600_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    idp = new TestIdp(server, (server.address() as AddressInfo).port, [await newKey()]);
    t.teardown(() => idp.close());
    return idp;
  }

  /** The key new tokens are signed with. */
  get currentKid(): string {
    return this.#keys[0]!.kid;
  }

  get keyIds(): string[] {
    return this.#keys.map((k) => k.kid);
  }

  /** Publishes a new signing key (the old one stays published) and signs with it from now on. */
  async rotate(): Promise<string> {
    this.#keys = [await newKey(), ...this.#keys];
    this.#provider = this.#build();
    this.#handler = this.#provider.callback();
    return this.currentKid;
  }

  /** A token signed with the IdP's current key, with any claims: for refusal tests. */
  async sign(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const key = this.#keys[0]!;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, aud: AUDIENCE, sub: 'crafted', iat: now, exp: now + 300, jti: randomBytes(8).toString('hex'), ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...header })
      .sign(await importJWK(key.privateJwk, 'ES256'));
  }

  /** The public JWK of the current key, as the JWKS publishes it. */
  publicJwk(): JWK {
    return publicJwk(this.#keys[0]!);
  }

  /** Does the user's part of a device login: opens the verification page, confirms, logs in as `account`. */
  async approveDevice(verificationUriComplete: string, account: string): Promise<void> {
    const browser = new Browser();
    const prefill = await browser.follow(verificationUriComplete);
    const userCode = hidden(prefill.text, 'user_code');
    this.#deviceAccount = account;
    const action = new URL('/device', this.issuer).href;
    const confirmPage = await browser.follow(action, await browser.request(action, { method: 'POST', form: { xsrf: hidden(prefill.text, 'xsrf'), user_code: userCode } }));
    const done = await browser.follow(action, await browser.request(action, {
      method: 'POST',
      form: { xsrf: hidden(confirmPage.text, 'xsrf'), user_code: hidden(confirmPage.text, 'user_code'), confirm: 'yes' },
    }));
    if (!/Sign-in Success/.test(done.text)) throw new Error(`the device login did not succeed:\n${done.text.slice(0, 800)}`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.url?.startsWith('/interaction/') === true) {
      this.#interaction(req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    this.#handler(req, res);
  }

  /** Logs the device user in, then grants what the consent prompt lists as missing: no pages. */
  async #interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const provider = this.#provider;
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: this.#deviceAccount } }, { mergeWithLastSubmission: false });
      return;
    }
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    const grant = new provider.Grant({ accountId: details.session!.accountId, clientId: String(details.params.client_id) });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  #build(): Provider {
    const signKid = this.#keys[0]!.kid;
    const configuration: Configuration = {
      clients: [
        {
          client_id: this.clients.agent.id,
          client_secret: this.clients.agent.secret,
          grant_types: ['client_credentials', TOKEN_EXCHANGE],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: this.clients.device.id,
          grant_types: [DEVICE_CODE],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'none',
        },
        {
          client_id: this.clients.exchanger.id,
          client_secret: this.clients.exchanger.secret,
          grant_types: [TOKEN_EXCHANGE],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      jwks: { keys: this.#keys.map((k) => k.privateJwk) as never },
      clientDefaults: { id_token_signed_response_alg: 'ES256' },
      ttl: { AccessToken: 600, ClientCredentials: 600, DeviceCode: 600, Grant: 3600, Interaction: 600, Session: 3600, IdToken: 600 },
      cookies: { keys: this.#cookieKeys },
      scopes: ['openid', 'offline_access'],
      findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, email: `${id}@example.test` }) }),
      interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        deviceFlow: {
          enabled: true,
          userCodeInputSource: (ctx, form) => {
            ctx.body = `<!DOCTYPE html><html><body>${form}</body></html>`;
          },
          userCodeConfirmSource: (ctx, form) => {
            ctx.body = `<!DOCTYPE html><html><body>${form}</body></html>`;
          },
          successSource: (ctx) => {
            ctx.body = '<!DOCTYPE html><html><body>Sign-in Success</body></html>';
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => RESOURCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => {
            if (resource !== RESOURCE) throw new Error(`unknown resource ${resource}`);
            return { scope: SCOPES.join(' '), audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'ES256', kid: signKid } } };
          },
        },
      },
      extraTokenClaims: (_ctx, token) => this.#exchanged.get(token),
      formats: {
        customizers: {
          // Token exchange: the token is about the subject token's subject, and `act` names the actor.
          jwt: (_ctx, token, parts) => {
            const extra = (token as unknown as { extra?: { exchanged_sub?: string } }).extra;
            if (extra?.exchanged_sub !== undefined) {
              parts.payload.sub = extra.exchanged_sub;
              delete (parts.payload as Record<string, unknown>).exchanged_sub;
            }
          },
        },
      },
    };
    const provider = new Provider(this.issuer, configuration);
    // RFC 8628's default poll interval is 5 s; tests poll every second.
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/device/auth' && ctx.status === 200 && typeof ctx.body === 'object' && ctx.body !== null) {
        (ctx.body as Record<string, unknown>).interval = 1;
      }
    });
    this.#registerTokenExchange(provider);
    return provider;
  }

  #registerTokenExchange(provider: Provider): void {
    const jwks = createLocalJWKSet({ keys: this.#keys.map(publicJwk) });
    provider.registerGrantType(TOKEN_EXCHANGE, async (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      const verify = async (token: string | undefined): Promise<JWTPayload | undefined> => {
        if (token === undefined) return undefined;
        return (await jwtVerify(token, jwks, { issuer: this.issuer })).payload;
      };
      let subject: JWTPayload | undefined;
      let actor: JWTPayload | undefined;
      try {
        subject = await verify(params.subject_token);
        actor = await verify(params.actor_token);
      } catch (error) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_grant', error_description: (error as Error).message };
        return;
      }
      if (subject === undefined) {
        ctx.status = 400;
        ctx.body = { error: 'invalid_request', error_description: 'subject_token is required' };
        return;
      }
      const resourceServer = Object.values((ctx.oidc as unknown as { resourceServers: Record<string, unknown> }).resourceServers ?? {})[0]
        ?? new (provider as unknown as { ResourceServer: new (id: string, info: object) => unknown }).ResourceServer(RESOURCE, {
          scope: SCOPES.join(' '), audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'ES256', kid: this.currentKid } },
        });
      const token = new provider.ClientCredentials({ client: ctx.oidc.client!, scope: typeof subject.scope === 'string' ? subject.scope : undefined });
      (token as unknown as { resourceServer: unknown }).resourceServer = resourceServer;
      this.#exchanged.set(token, { exchanged_sub: subject.sub, ...(actor !== undefined ? { act: { sub: actor.sub } } : {}) });
      const value = await token.save();
      ctx.body = {
        access_token: value,
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        token_type: 'Bearer',
        expires_in: token.expiration,
      };
    }, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'resource', 'audience', 'scope']);
  }
}

/** A client-credentials access token from the IdP's token endpoint. */
export async function clientCredentialsToken(idp: TestIdp, scope = 'git:push'): Promise<string> {
  const response = await fetch(`${idp.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${idp.clients.agent.id}:${idp.clients.agent.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  if (body.access_token === undefined) throw new Error(`no token: ${JSON.stringify(body)}`);
  return body.access_token;
}
