/**
 * Getting a token to present to pushgate, on the caller's side (openid-client):
 * client credentials, device authorization, a workload token file, and
 * optionally a token exchange that adds the sponsoring human as actor.
 * Secrets are read from files on every call and never kept.
 */
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import { pushgateCommandLine } from '../self/index.js';

export type TokenFlow = 'client-credentials' | 'device' | 'token-file';
export type ClientAuthMethod = 'basic' | 'post';

export interface TokenSourceSettings {
  flow: TokenFlow;
  issuer?: string;
  clientId?: string;
  /** File holding the client secret (its path is all that is remembered). */
  clientSecretFile?: string;
  clientAuth?: ClientAuthMethod;
  /** A token already on disk (CI, Kubernetes), re-read every time. */
  tokenFile?: string;
  scope?: string;
  audience?: string;
  resource?: string;
  /** Exchange the token at the issuer (RFC 8693), optionally with an actor token. */
  exchange?: boolean;
  actorTokenFile?: string;
}

/** `login.idp`: the identity provider refused; `login.unreachable`: it could not be asked. */
export type TokenSourceErrorCode = 'login.settings' | 'login.secret' | 'login.idp' | 'login.unreachable' | 'login.interactive';

export class TokenSourceError extends Error {
  override name = 'TokenSourceError';

  constructor(
    readonly code: TokenSourceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface DevicePrompt {
  verificationUri: string;
  verificationUriComplete?: string;
  userCode: string;
  expiresIn: number;
}

export interface ObtainOptions {
  /** False when nobody is there to complete a device login (renewal inside `pushgate ssh`). */
  interactive: boolean;
  /** Shows the device login instructions. */
  onDevicePrompt?: (prompt: DevicePrompt) => void;
  signal?: AbortSignal;
}

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** https, or http on this machine only: a token must not cross a network in clear. */
export function checkServiceUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TokenSourceError('login.settings', `${what} ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    throw new TokenSourceError('login.settings', `${what} ${text} must use https (plain http only for localhost)`);
  }
  return url;
}

/** The first line of a secret or token file, without surrounding whitespace. */
export function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TokenSourceError('login.secret', `cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`);
  }
  const value = text.trim();
  if (value === '' || /\s/.test(value)) throw new TokenSourceError('login.secret', `${what} ${path} must hold one value on one line`);
  return value;
}

function need(value: string | undefined, flag: string, flow: string): string {
  if (value === undefined || value === '') throw new TokenSourceError('login.settings', `${flow} needs ${flag}`);
  return value;
}

async function configuration(settings: TokenSourceSettings, flow: string): Promise<client.Configuration> {
  const issuer = checkServiceUrl(need(settings.issuer, '--issuer', flow), 'issuer');
  const clientId = need(settings.clientId, '--client-id', flow);
  const secret = settings.clientSecretFile !== undefined ? readSecretFile(settings.clientSecretFile, 'client secret file') : undefined;
  const auth = secret === undefined ? client.None() : settings.clientAuth === 'post' ? client.ClientSecretPost(secret) : client.ClientSecretBasic(secret);
  try {
    return await client.discovery(issuer, clientId, secret, auth, issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {});
  } catch (error) {
    throw idpError(error, `discovery at ${issuer.href}`);
  }
}

function idpError(error: unknown, what: string): TokenSourceError {
  if (error instanceof TokenSourceError) return error;
  if (error instanceof client.WWWAuthenticateChallengeError) {
    // A 401 with a challenge (a bad client secret, typically): the provider said no.
    const parameters = error.cause[0]?.parameters ?? {};
    const detail = [parameters.error, parameters.error_description].filter((p) => p !== undefined).join(': ');
    return new TokenSourceError('login.idp', `${what}: HTTP ${error.status}${detail !== '' ? ` ${detail}` : ''}`);
  }
  const body = error as { error?: unknown; error_description?: unknown; cause?: { message?: string } };
  if (typeof body.error === 'string') {
    return new TokenSourceError('login.idp', `${what}: ${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}`);
  }
  return new TokenSourceError('login.unreachable', `${what}: ${(error as Error).message}${body.cause?.message !== undefined ? ` (${body.cause.message})` : ''}`);
}

function grantParameters(settings: TokenSourceSettings): Record<string, string> {
  return {
    ...(settings.scope !== undefined ? { scope: settings.scope } : {}),
    ...(settings.resource !== undefined ? { resource: settings.resource } : {}),
    ...(settings.audience !== undefined ? { audience: settings.audience } : {}),
  };
}

async function deviceToken(settings: TokenSourceSettings, options: ObtainOptions): Promise<string> {
  if (!options.interactive) {
    throw new TokenSourceError('login.interactive', `the certificate came from a device login, which needs you: run \`${pushgateCommandLine(['login', '--device'])}\` again`);
  }
  const config = await configuration(settings, '--device');
  let started: client.DeviceAuthorizationResponse;
  try {
    started = await client.initiateDeviceAuthorization(config, grantParameters(settings));
  } catch (error) {
    throw idpError(error, 'device authorization');
  }
  options.onDevicePrompt?.({
    verificationUri: started.verification_uri,
    ...(started.verification_uri_complete !== undefined ? { verificationUriComplete: started.verification_uri_complete } : {}),
    userCode: started.user_code,
    expiresIn: started.expires_in,
  });
  try {
    const { resource, audience } = settings;
    const tokens = await client.pollDeviceAuthorizationGrant(config, started, {
      ...(resource !== undefined ? { resource } : {}),
      ...(audience !== undefined ? { audience } : {}),
    }, options.signal !== undefined ? { signal: options.signal } : undefined);
    return tokens.access_token;
  } catch (error) {
    throw idpError(error, 'device login');
  }
}

async function exchange(settings: TokenSourceSettings, subjectToken: string, subjectType: string): Promise<string> {
  const config = await configuration(settings, '--exchange');
  const actor = settings.actorTokenFile !== undefined ? readSecretFile(settings.actorTokenFile, 'actor token file') : undefined;
  try {
    const tokens = await client.genericGrantRequest(config, TOKEN_EXCHANGE_GRANT, {
      subject_token: subjectToken,
      subject_token_type: subjectType,
      requested_token_type: ACCESS_TOKEN_TYPE,
      ...(actor !== undefined ? { actor_token: actor, actor_token_type: ACCESS_TOKEN_TYPE } : {}),
      ...grantParameters(settings),
    });
    return tokens.access_token;
  } catch (error) {
    throw idpError(error, 'token exchange');
  }
}

/** A fresh token for pushgate, by the configured flow. */
export async function obtainToken(settings: TokenSourceSettings, options: ObtainOptions): Promise<string> {
  let token: string;
  let type = ACCESS_TOKEN_TYPE;
  if (settings.flow === 'token-file') {
    token = readSecretFile(need(settings.tokenFile, '--token-file', '--token-file'), 'token file');
    type = JWT_TOKEN_TYPE;
  } else if (settings.flow === 'device') {
    token = await deviceToken(settings, options);
  } else {
    need(settings.clientSecretFile, '--client-secret-file', 'a client-credentials login');
    const config = await configuration(settings, 'a client-credentials login');
    try {
      token = (await client.clientCredentialsGrant(config, grantParameters(settings))).access_token;
    } catch (error) {
      throw idpError(error, 'client credentials grant');
    }
  }
  return settings.exchange === true ? exchange(settings, token, type) : token;
}
