/**
 * The certificate service: bearer token → verified identity → short-lived
 * user certificate, every outcome in the audit log. Transport-neutral; the
 * HTTP layer maps its errors to status codes.
 */
import type { AuditIdentity, AuditSink } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import { TokenError } from '../identity/token-error.js';
import { identityFromToken, type TokenIdentity } from '../identity/token-identity.js';
import { TokenVerifier, type VerifierOptions } from '../identity/oidc-verify.js';
import { parsePrivateKey, type PrivateKey } from '../sshcert/index.js';
import { readFileSync } from 'node:fs';
import { IssuanceError } from './errors.js';
import { issueCertificate, type IssuedCertificate } from './sign.js';
import { certificateTtlSeconds } from './ttl.js';

/** Before a token is verified nobody is known; `-` as in the gateway's records. */
const UNKNOWN = '-';

/** A rate limit's answer for one request. */
export type Admission = { allowed: true } | { allowed: false; retryAfterSeconds: number; first: boolean };

export interface CertificateRequestInput {
  /** The bearer token, without the `Bearer ` prefix; undefined when none was sent. */
  token: string | undefined;
  /** The parsed JSON body. */
  body: unknown;
  clientAddress: string;
  /** The trusted proxy the request came through, for the audit record. */
  via?: string;
  /**
   * Counts the request against the caller's budget: `authenticated` once
   * the token verified, `unauthenticated` when it did not (or there was
   * none), so that bad tokens never spend the budget of valid ones.
   */
  charge?: (bucket: 'authenticated' | 'unauthenticated') => Admission;
}

function rateLimited(admission: Extract<Admission, { allowed: false }>, what: string): IssuanceError {
  return new IssuanceError('rate-limited', `more than the allowed requests ${what} per window; further ones refused for ${admission.retryAfterSeconds}s`, admission);
}

export interface CertificateResponse {
  certificate: string;
  principal: string;
  roles: string[];
  sponsor?: string;
  validAfter: string;
  validBefore: string;
  serial: string;
  keyId: string;
}

/** Sees every outcome of a certificate request (metrics subscribe here). */
export interface IssuanceObserver {
  /** A certificate was signed for a token of the configured issuer `issuer` (its short name). */
  issued(issuer: string): void;
  /** A request was refused; `code` is the refusal code the audit record carries. */
  refused(code: string): void;
}

export interface CertificateServiceOptions {
  /** The current config; re-read on every request so a reload takes effect. */
  config: () => PushgateConfig;
  audit: AuditSink;
  verifier?: VerifierOptions;
  /** Where audit failures of refusals are reported. */
  onAuditError?: (error: unknown) => void;
  observer?: IssuanceObserver;
}

interface Runtime {
  config: PushgateConfig;
  verifier: TokenVerifier;
  caKey: PrivateKey | null;
}

function auditIdentity(issued: IssuedCertificate, clientAddress: string): AuditIdentity {
  return {
    principal: issued.principal,
    roles: issued.roles,
    keyId: issued.keyId,
    certSerial: issued.serial,
    keyFingerprint: issued.keyFingerprint,
    clientAddress,
    ...(issued.sponsor !== undefined ? { sponsor: issued.sponsor } : {}),
  };
}

export class CertificateService {
  #runtime: Runtime | undefined;

  constructor(private readonly options: CertificateServiceOptions) {}

  /** Verifier and CA key for the current config, rebuilt when the config object changes. */
  #current(): Runtime {
    const config = this.options.config();
    if (this.#runtime?.config !== config) {
      this.#runtime = {
        config,
        verifier: new TokenVerifier(config.identity.issuers, this.options.verifier),
        caKey: config.ca.key === null ? null : loadCaKey(config.ca.key),
      };
    }
    return this.#runtime;
  }

  /** Resolves to the issued certificate; rejects with TokenError or IssuanceError after recording why. */
  async issue(input: CertificateRequestInput): Promise<CertificateResponse> {
    let identity: TokenIdentity | undefined;
    let authenticated = false;
    try {
      const runtime = this.#current();
      if (runtime.caKey === null) throw new IssuanceError('issuance.disabled', 'this server does not issue certificates (ca.key is null)');
      if (input.token === undefined || input.token === '') throw new TokenError('token.malformed', 'no bearer token in the Authorization header');
      const verified = await runtime.verifier.verify(input.token);
      authenticated = true;
      const admission = input.charge?.('authenticated');
      if (admission !== undefined && !admission.allowed) throw rateLimited(admission, 'with a valid token');
      identity = identityFromToken(verified);
      if (typeof input.body !== 'object' || input.body === null || Array.isArray(input.body)) {
        throw new IssuanceError('request.body', 'the body must be a JSON object { "publicKey": "<ssh public key line>", "ttl": "15m" }');
      }
      const body = input.body as { publicKey?: unknown; ttl?: unknown };
      const ttlSeconds = certificateTtlSeconds(body.ttl, runtime.config.ca);
      const issued = issueCertificate({ identity, publicKey: body.publicKey, ttlSeconds, clientAddress: input.clientAddress }, runtime.config, runtime.caKey);
      try {
        await this.options.audit.record({
          type: 'cert.issue',
          identity: auditIdentity(issued, input.clientAddress),
          result: 'ok',
          reason: `issuer ${identity.issuer}; ${ttlSeconds}s until ${issued.validBefore.toISOString()}${issued.sourceAddress !== undefined ? `; source-address ${issued.sourceAddress}` : ''}${viaText(input.via)}`,
        });
      } catch (error) {
        // A certificate nobody can trace back must not leave the server.
        throw new IssuanceError('issuance.failed', `the issuance could not be recorded in the audit log: ${(error as Error).message}`);
      }
      this.options.observer?.issued(identity.issuer);
      return {
        certificate: issued.line,
        principal: issued.principal,
        roles: issued.roles,
        ...(issued.sponsor !== undefined ? { sponsor: issued.sponsor } : {}),
        validAfter: issued.validAfter.toISOString(),
        validBefore: issued.validBefore.toISOString(),
        serial: issued.serial,
        keyId: issued.keyId,
      };
    } catch (caught) {
      let error = caught;
      if (!authenticated) {
        const admission = input.charge?.('unauthenticated');
        if (admission !== undefined && !admission.allowed) error = rateLimited(admission, 'without a valid token');
      }
      // Past the budget only the first refusal of the window is recorded: a flood does not flood the audit log.
      if (!(error instanceof IssuanceError && error.rate !== undefined && !error.rate.first)) await this.#refused(error, identity, input.clientAddress, input.via);
      throw error;
    }
  }

  /** Records a request refused before it reached the service (unreadable body, rate limit). */
  async recordRefusal(code: string, reason: string, clientAddress: string, via?: string): Promise<void> {
    await this.#record(code, `${reason}${viaText(via)}`, undefined, clientAddress);
  }

  async #refused(error: unknown, identity: TokenIdentity | undefined, clientAddress: string, via: string | undefined): Promise<void> {
    const code = error instanceof TokenError || error instanceof IssuanceError ? error.code : 'issuance.failed';
    const issuer = error instanceof TokenError && error.issuer !== undefined ? `issuer ${error.issuer}: ` : '';
    await this.#record(code, `${issuer}${(error as Error).message}${viaText(via)}`, identity, clientAddress);
  }

  async #record(code: string, reason: string, identity: TokenIdentity | undefined, clientAddress: string): Promise<void> {
    this.options.observer?.refused(code);
    try {
      await this.options.audit.record({
        type: 'cert.refuse',
        identity: {
          principal: identity?.principal ?? UNKNOWN,
          ...(identity !== undefined ? { roles: identity.roles } : {}),
          ...(identity?.sponsor !== undefined ? { sponsor: identity.sponsor } : {}),
          clientAddress,
        },
        result: 'refused',
        code,
        reason,
      });
    } catch (auditError) {
      this.options.onAuditError?.(auditError);
    }
  }
}

function viaText(via: string | undefined): string {
  return via === undefined ? '' : `; via trusted proxy ${via}`;
}

function loadCaKey(path: string): PrivateKey {
  try {
    return parsePrivateKey(readFileSync(path), `CA key ${path}`);
  } catch (error) {
    throw new IssuanceError('issuance.failed', `the CA key cannot be used: ${(error as Error).message}`);
  }
}
