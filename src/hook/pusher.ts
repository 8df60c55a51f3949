import { userInfo } from 'node:os';
import type { PushgateConfig } from '../config/index.js';
// The principals module alone: the identity index would load the certificate library on every push.
import { configRoles } from '../identity/principals.js';
import type { Pusher } from '../policy/index.js';

/**
 * The pusher as the gateway describes it in PUSHGATE_* variables; without
 * them (a push on the server itself) the local user, as `local:<user>`.
 */
export function pusherFromEnv(env: NodeJS.ProcessEnv, config: PushgateConfig): Pusher {
  const principal = env.PUSHGATE_PRINCIPAL || `local:${localUser()}`;
  const given = (env.PUSHGATE_ROLES ?? '').split(',').map((r) => r.trim()).filter((r) => r !== '');
  const roles = [...new Set([...given, ...configRoles(principal, config.identity)])];
  const optional = (name: string): string | undefined => env[name] || undefined;
  const fields = {
    keyId: optional('PUSHGATE_KEY_ID'),
    certSerial: optional('PUSHGATE_CERT_SERIAL'),
    keyFingerprint: optional('PUSHGATE_KEY_FINGERPRINT'),
    sessionId: optional('PUSHGATE_SESSION'),
    clientAddress: optional('PUSHGATE_CLIENT_ADDRESS'),
    sponsor: optional('PUSHGATE_SPONSOR'),
  };
  return { principal, roles, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
}

function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
