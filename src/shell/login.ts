/**
 * Who a session behind sshd is, decided again with pushgate's own rules:
 * sshd accepted the key, pushgate still checks its trusted CAs, KRL, window,
 * critical options, source-address and login name — and break-glass keys.
 */
import type { PushgateConfig } from '../config/index.js';
import { breakGlassRefusal, verifyCertificateLogin, type AuthDecision } from '../gateway/auth.js';
import type { Trust } from '../gateway/trust.js';
import { identityFromBreakGlassKey } from '../identity/identity.js';
import { fingerprint, parsePublicKeyBlob, type PublicKey } from '../sshcert/index.js';
import type { OfferedKey } from './auth-info.js';

export interface LoginContext {
  config: PushgateConfig;
  trust: Trust;
  /** The Unix account sshd logged the session in as. */
  user: string;
  clientAddress: string;
  now?: Date;
}

export function decideLogin(key: OfferedKey, context: LoginContext): AuthDecision {
  if (key.kind === 'certificate') {
    return verifyCertificateLogin(key.blob, { user: context.user, clientAddress: context.clientAddress }, {
      config: context.config, trust: context.trust, ...(context.now !== undefined ? { now: context.now } : {}),
    });
  }
  let plain: PublicKey;
  try {
    plain = parsePublicKeyBlob(key.blob, 'the session key');
  } catch (error) {
    return { ok: false, code: 'auth.unsupported-key', message: (error as Error).message, offered: {} };
  }
  return breakGlassRefusal(plain, context.user, context)
    ?? { ok: true, identity: identityFromBreakGlassKey(fingerprint(plain.blob), context.config, { clientAddress: context.clientAddress }) };
}
