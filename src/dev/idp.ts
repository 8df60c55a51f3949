/**
 * The demo's identity provider: oidc-provider on 127.0.0.1, a port chosen at
 * run time, two confidential clients (client credentials) and JWT access
 * tokens for pushgate's audience. Keys and client secrets are generated per run.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import { DEV_AUDIENCE } from './setup.js';

const RESOURCE = 'urn:pushgate:api';

export interface DevClient {
  id: string;
  secret: string;
  /** The one scope this client may obtain; the issuer's roleMap turns it into a role. */
  scope: string;
}

export interface DevIdp {
  issuer: string;
  clients: { agent: DevClient; reviewer: DevClient };
  close(): Promise<void>;
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomBytes(6).toString('hex');
  return { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
}

function client(id: string, scope: string): DevClient {
  return { id, secret: randomBytes(24).toString('base64url'), scope };
}

export async function startDevIdp(): Promise<DevIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients = { agent: client('demo-agent', 'git:push'), reviewer: client('demo-reviewer', 'git:review') };
  const key = await signingKey();
  const byId = new Map([clients.agent, clients.reviewer].map((c) => [c.id, c]));
  const configuration: Configuration = {
    clients: [clients.agent, clients.reviewer].map((c) => ({
      client_id: c.id,
      client_secret: c.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [key] as never },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    ttl: { AccessToken: 600, ClientCredentials: 600 },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
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
  server.on('request', provider.callback());
  return {
    issuer,
    clients,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
