/**
 * Logging reviewers in: OpenID Connect authorization code flow with PKCE
 * (S256), state and nonce, through openid-client. Who the reviewer is comes
 * from the same place as a certificate's identity: the access token, when
 * it is a JWT one of `identity.issuers` accepts (same verifier, same claim
 * mapping, same roles from `identity.roles`); else the ID token's claims,
 * mapped by the `identity.issuers` entry of the console's issuer.
 */
import * as oidc from 'openid-client';
import type { ConsoleConfig, PushgateConfig } from '../config/index.js';
import {
  checkRequiredClaims, configRoles, identityFromToken, readSecretFile, renderPrincipal, rolesFromClaims, sponsorFromClaims, TokenVerifier, isTokenError,
  type Claims,
} from '../identity/index.js';
import type { ConsoleUser, PendingLogin } from './session.js';

export class LoginError extends Error {
  override name = 'LoginError';
  constructor(readonly code: 'login.unavailable' | 'login.refused' | 'login.config', message: string) {
    super(message);
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
const ROLE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function label(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value.replace(/[^\x21-\x7e]/g, '?').slice(0, 128) : '-';
}

/** The console's OIDC client for one config; discovery is done once and redone after a failure. */
export class ConsoleLogin {
  #configuration: Promise<oidc.Configuration> | undefined;
  #verifier: TokenVerifier | undefined;

  constructor(readonly config: PushgateConfig) {}

  get console(): ConsoleConfig {
    return this.config.console;
  }

  #client(): Promise<oidc.Configuration> {
    if (this.#configuration === undefined) {
      const { issuer, clientId, clientSecretFile } = this.console;
      if (issuer === null || clientId === null) return Promise.reject(new LoginError('login.config', 'console.issuer and console.clientId are required'));
      const url = new URL(issuer);
      const secret = clientSecretFile === null ? undefined : readSecretFile(clientSecretFile, 'console.clientSecretFile');
      const auth = secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret);
      // Plain http only for an issuer on this machine (the schema allows nothing else).
      const execute = url.protocol === 'http:' && LOOPBACK.test(url.hostname) ? [oidc.allowInsecureRequests] : [];
      this.#configuration = oidc.discovery(url, clientId, undefined, auth, { execute, timeout: 10 });
      this.#configuration.catch(() => {
        this.#configuration = undefined;
      });
    }
    return this.#configuration;
  }

  /** Where to send the browser to log in. */
  async authorizationUrl(login: PendingLogin): Promise<URL> {
    const client = await this.#client().catch((error: unknown) => {
      throw new LoginError('login.unavailable', `the identity provider could not be reached (${(error as Error).message})`);
    });
    const parameters: Record<string, string> = {
      redirect_uri: this.console.redirectUrl!,
      scope: this.console.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(login.codeVerifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    };
    if (this.console.resource !== null) parameters.resource = this.console.resource;
    return oidc.buildAuthorizationUrl(client, parameters);
  }

  /** The callback: code → tokens (state, nonce and PKCE checked) → the reviewer. */
  async complete(callbackUrl: URL, login: PendingLogin): Promise<ConsoleUser> {
    const client = await this.#client().catch((error: unknown) => {
      throw new LoginError('login.unavailable', `the identity provider could not be reached (${(error as Error).message})`);
    });
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(client, callbackUrl, {
        pkceCodeVerifier: login.codeVerifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true,
      }, this.console.resource !== null ? { resource: this.console.resource } : undefined);
    } catch (error) {
      throw new LoginError('login.refused', `the identity provider did not complete the login (${(error as Error).message.slice(0, 200)})`);
    }
    const idClaims = tokens.claims();
    if (idClaims === undefined) throw new LoginError('login.refused', 'the identity provider sent no ID token');
    return this.#user(tokens.access_token, idClaims as Claims);
  }

  async #user(accessToken: string, idClaims: Claims): Promise<ConsoleUser> {
    this.#verifier ??= new TokenVerifier(this.config.identity.issuers);
    try {
      const verified = await this.#verifier.verify(accessToken);
      const who = identityFromToken(verified);
      if (idClaims.sub !== verified.claims.sub) throw new LoginError('login.refused', 'the access token and the ID token name different subjects');
      return this.#withConfigRoles({ principal: who.principal, roles: who.roles, ...(who.sponsor ? { sponsor: who.sponsor } : {}), keyId: `console oidc:${who.issuer} sub:${who.subject} jti:${who.tokenId}` });
    } catch (error) {
      if (error instanceof LoginError) throw error;
      // Only an opaque access token falls back to the ID token; one that fails a check refuses the login.
      if (!isTokenError(error) || error.code !== 'token.malformed') throw new LoginError('login.refused', `the access token was not accepted: ${error instanceof Error ? error.message : String(error)}`);
    }
    const issuer = this.config.identity.issuers.find((entry) => entry.issuer === this.console.issuer);
    if (issuer === undefined) throw new LoginError('login.config', `console.issuer ${this.console.issuer} is not among identity.issuers: its claims cannot be mapped to a principal and roles`);
    try {
      checkRequiredClaims(issuer.requiredClaims, idClaims, issuer.name);
      const principal = renderPrincipal(issuer.principal, idClaims, issuer.name);
      const sponsor = sponsorFromClaims(issuer, idClaims, issuer.name);
      return this.#withConfigRoles({ principal, roles: rolesFromClaims(issuer, idClaims), ...(sponsor ? { sponsor } : {}), keyId: `console oidc:${issuer.name} sub:${label(idClaims.sub)}` });
    } catch (error) {
      throw new LoginError('login.refused', `the ID token was not accepted: ${(error as Error).message}`);
    }
  }

  /** As for a certificate: the token's roles plus those identity.roles gives the principal. */
  #withConfigRoles(user: ConsoleUser): ConsoleUser {
    return { ...user, roles: [...new Set([...user.roles, ...configRoles(user.principal, this.config.identity)])].filter((r) => ROLE.test(r)) };
  }

  /** The issuer's end-session URL (RP-initiated logout by client_id: no token in the URL), or undefined. */
  async endSessionUrl(returnTo: string): Promise<URL | undefined> {
    const client = await this.#client().catch(() => undefined);
    if (client?.serverMetadata().end_session_endpoint === undefined) return undefined;
    return oidc.buildEndSessionUrl(client, { client_id: this.console.clientId!, post_logout_redirect_uri: returnTo });
  }

  /** The issuer's origin, for the form-action of the logout form. */
  get issuerOrigin(): string | undefined {
    return this.console.issuer === null ? undefined : new URL(this.console.issuer).origin;
  }
}
