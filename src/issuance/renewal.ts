/**
 * Keeping the agent's certificate fresh: renewal is due when there is none,
 * when it no longer certifies the agent's key, or when it expires within
 * min(60 s, 20% of its lifetime).
 */
import { obtainToken, type DevicePrompt } from '../identity/token-source.js';
import { pushgateCommandLine } from '../self/index.js';
import { parsePublicKeyLine, type Certificate } from '../sshcert/index.js';
import type { AgentSettings } from './agent-settings.js';
import type { AgentState } from './agent-state.js';
import { requestCertificate } from './client.js';
import type { CertificateResponse } from './service.js';

export interface RenewalMargin {
  /** Renew at the latest this many seconds before expiry… */
  seconds: number;
  /** …or this fraction of the lifetime before, whichever is less. */
  fraction: number;
}

export const DEFAULT_MARGIN: RenewalMargin = { seconds: 60, fraction: 0.2 };

export function renewalDue(cert: Certificate | undefined, publicKeyLine: string | undefined, now: Date = new Date(), margin: RenewalMargin = DEFAULT_MARGIN): boolean {
  if (cert === undefined) return true;
  if (publicKeyLine !== undefined && !cert.publicKey.blob.equals(parsePublicKeyLine(publicKeyLine).blob)) return true;
  const lifetime = Number(cert.validBefore - cert.validAfter);
  const before = Math.min(margin.seconds, margin.fraction * lifetime);
  return now.getTime() / 1000 >= Number(cert.validBefore) - before;
}

export class NotLoggedInError extends Error {
  override name = 'NotLoggedInError';
}

export interface RenewOptions {
  interactive: boolean;
  onDevicePrompt?: (prompt: DevicePrompt) => void;
}

/** A new token, then a new certificate for the agent's key, stored in the state directory. */
export async function renewCertificate(state: AgentState, settings: AgentSettings, options: RenewOptions): Promise<CertificateResponse> {
  const publicKey = state.ensureKey();
  const token = await obtainToken(settings, {
    interactive: options.interactive,
    ...(options.onDevicePrompt !== undefined ? { onDevicePrompt: options.onDevicePrompt } : {}),
  });
  const issued = await requestCertificate(settings.server, token, publicKey, settings.ttl);
  state.writeCertificate(issued.certificate);
  return issued;
}

export type Freshness = { renewed: false } | { renewed: true; issued: CertificateResponse };

/** Renews without asking anyone when renewal is due; concurrent callers renew once. */
export async function ensureFreshCertificate(state: AgentState, now: () => Date = () => new Date()): Promise<Freshness> {
  const due = (): boolean => renewalDue(state.readCertificate(), state.ensureKey(), now());
  if (!due()) return { renewed: false };
  const settings = state.readSettings();
  if (settings === undefined) throw new NotLoggedInError(`no login in ${state.dir}: run ${pushgateCommandLine(['login'])} first`);
  return state.withLock(async () => {
    if (!due()) return { renewed: false };
    return { renewed: true, issued: await renewCertificate(state, settings, { interactive: false }) };
  });
}
