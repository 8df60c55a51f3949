/**
 * Who a session behind sshd is, decided again with pushgate's own rules:
 * sshd accepted the key, pushgate still checks its trusted CAs, KRL, window,
 * critical options, source-address and login name — and break-glass keys.
 */
import type { PushgateConfig } from '../config/index.js';
import { verifyCertificateLogin, type AuthDecision } from '../gateway/auth.js';
import type { Trust } from '../gateway/trust.js';
import { identityFromBreakGlassKey } from '../identity/identity.js';
import { fingerprint, parsePublicKeyBlob } from '../sshcert/index.js';
import type { OfferedKey } from './auth-info.js';

export interface LoginContext {
  config: PushgateConfig;
  trust: Trust;
  /** The Unix account sshd logged the session in as. */
  user: string;
  clientAddress: string;
  now?: Date;
}

function refuse(code: string, message: string, keyFingerprint?: string): AuthDecision {
  return { ok: false, code, message, offered: keyFingerprint !== undefined ? { keyFingerprint } : {} };
}

export function decideLogin(key: OfferedKey, context: LoginContext): AuthDecision {
  if (key.kind === 'certificate') {
    return verifyCertificateLogin(key.blob, { user: context.user, clientAddress: context.clientAddress }, {
      config: context.config, trust: context.trust, ...(context.now !== undefined ? { now: context.now } : {}),
    });
  }
  let keyFingerprint: string;
  try {
    keyFingerprint = fingerprint(parsePublicKeyBlob(key.blob, 'the session key').blob);
  } catch (error) {
    return refuse('auth.unsupported-key', (error as Error).message);
  }
  const list = context.trust.breakGlassKeys();
  if (list === null) return refuse('auth.plain-key', 'plain keys are not accepted: log in with a certificate from a trusted CA', keyFingerprint);
  if (!list.ok) return refuse('auth.break-glass-unusable', `the break-glass key list cannot be read: ${list.error}`, keyFingerprint);
  if (!list.value.keys.some((k) => k.blob.equals(key.blob))) {
    return refuse('auth.plain-key', 'this plain key is not on the break-glass list: log in with a certificate from a trusted CA', keyFingerprint);
  }
  if (context.user !== context.config.serviceUser) return refuse('auth.user', `log in as ${context.config.serviceUser}`, keyFingerprint);
  return { ok: true, identity: identityFromBreakGlassKey(keyFingerprint, context.config, { clientAddress: context.clientAddress }) };
}
