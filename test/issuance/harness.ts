/** A server directory from `pushgate init` with the test IdP configured, and the HTTP service started in-process. */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openAudit, type AuditSink } from '../../src/audit/index.js';
import { loadConfig, type PushgateConfig } from '../../src/config/index.js';
import { startHttpService, type HttpService, type HttpServiceOptions } from '../../src/http/index.js';
import { testServer, type TestServer } from '../helpers/git-server.js';
import { AUDIENCE, type TestIdp } from '../identity/idp.js';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface AuditLine {
  type: string;
  identity?: { principal: string; roles?: string[]; keyId?: string; certSerial?: string; clientAddress?: string; sponsor?: string; keyFingerprint?: string };
  result?: string;
  code?: string;
  reason?: string;
}

/** The issuer block the tests configure for an IdP. */
export function issuerYaml(idp: TestIdp, name = 'corp'): Record<string, unknown> {
  return {
    name,
    issuer: idp.issuer,
    audience: AUDIENCE,
    algorithms: ['ES256', 'RS256'],
    clockSkew: '5s',
    principal: '{{sub}}',
    rolesClaim: 'scope',
    roleMap: { 'git:push': ['agent'], 'git:review': ['reviewer'] },
  };
}

export class Issuance {
  config: PushgateConfig;

  constructor(
    readonly server: TestServer,
    readonly http: HttpService,
    config: PushgateConfig,
  ) {
    this.config = config;
  }

  get url(): string {
    return this.http.url;
  }

  audit(): AuditLine[] {
    const file = this.config.audit.file;
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditLine);
  }

  async post(body: unknown, token?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
    const response = await fetch(`${this.url}/v1/certificates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown>, headers: response.headers };
  }
}

export interface IssuanceOptions {
  configure?: (server: TestServer) => void;
  audit?: AuditSink;
  service?: Partial<HttpServiceOptions>;
}

export async function startIssuance(t: Teardown, idps: TestIdp[], options: IssuanceOptions = {}): Promise<Issuance> {
  const server = testServer(t);
  server.setConfig(['identity', 'issuers'], idps.map((idp, i) => issuerYaml(idp, i === 0 ? 'corp' : `idp${i}`)));
  options.configure?.(server);
  const config = loadConfig(server.configPath);
  const audit = options.audit ?? openAudit(config.audit, { stderr: false });
  let current = config;
  const http = await startHttpService({ config: () => current, audit, listen: { host: '127.0.0.1', port: 0 }, ...options.service });
  // Tests block their event loop in spawnSync; a client must not reuse a socket the server closed meanwhile.
  http.server.keepAliveTimeout = 600_000;
  t.teardown(() => http.close());
  const issuance = new Issuance(server, http, config);
  Object.defineProperty(issuance, 'config', {
    get: () => current,
    set: (value: PushgateConfig) => {
      current = value;
    },
  });
  return issuance;
}

export function caPublicKey(server: TestServer): string {
  return readFileSync(join(server.dir, 'ca.pub'), 'utf8').trim();
}
