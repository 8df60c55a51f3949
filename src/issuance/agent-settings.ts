/**
 * What `pushgate login` remembers so that `pushgate ssh` can renew alone:
 * where to get a token and where to send it. Never a secret or a token —
 * only the paths of files holding them.
 */
import type { ClientAuthMethod, TokenFlow, TokenSourceSettings } from '../identity/token-source.js';
import { pushgateCommandLine } from '../self/index.js';

export interface AgentSettings extends TokenSourceSettings {
  version: 1;
  /** pushgate's HTTP base URL. */
  server: string;
  /** Requested certificate lifetime (`15m`); the server's default when absent. */
  ttl?: string;
}

const FLOWS: readonly TokenFlow[] = ['client-credentials', 'device', 'token-file'];
const AUTH: readonly ClientAuthMethod[] = ['basic', 'post'];
const STRING_FIELDS = ['server', 'issuer', 'clientId', 'clientSecretFile', 'tokenFile', 'scope', 'audience', 'resource', 'actorTokenFile', 'ttl'] as const;

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** The way out of a bad login.json, as a command that runs where it is printed. */
const loginAgain = (): string => `run ${pushgateCommandLine(['login'])} again`;

/** Reads remembered settings, refusing anything that is not exactly what `pushgate login` writes. */
export function parseAgentSettings(text: string, what: string): AgentSettings {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new SettingsError(`${what} is not JSON; ${loginAgain()}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new SettingsError(`${what} is not a settings object; ${loginAgain()}`);
  const raw = data as Record<string, unknown>;
  if (raw.version !== 1) throw new SettingsError(`${what} has an unknown version; ${loginAgain()}`);
  if (!FLOWS.includes(raw.flow as TokenFlow)) throw new SettingsError(`${what}: unknown flow ${JSON.stringify(raw.flow)}`);
  const settings: AgentSettings = { version: 1, flow: raw.flow as TokenFlow, server: '' };
  for (const field of STRING_FIELDS) {
    const value = raw[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new SettingsError(`${what}: ${field} must be a string`);
    settings[field] = value;
  }
  if (settings.server === '') throw new SettingsError(`${what} names no server; run ${pushgateCommandLine(['login'])} --server URL`);
  if (raw.clientAuth !== undefined) {
    if (!AUTH.includes(raw.clientAuth as ClientAuthMethod)) throw new SettingsError(`${what}: clientAuth must be basic or post`);
    settings.clientAuth = raw.clientAuth as ClientAuthMethod;
  }
  if (raw.exchange !== undefined) {
    if (typeof raw.exchange !== 'boolean') throw new SettingsError(`${what}: exchange must be true or false`);
    settings.exchange = raw.exchange;
  }
  return settings;
}

export function formatAgentSettings(settings: AgentSettings): string {
  const ordered: Record<string, unknown> = { version: 1, flow: settings.flow, server: settings.server };
  for (const field of [...STRING_FIELDS, 'clientAuth', 'exchange'] as const) {
    if (field !== 'server' && settings[field] !== undefined) ordered[field] = settings[field];
  }
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
