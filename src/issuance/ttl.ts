import type { CaConfig } from '../config/index.js';
import { tryParseDuration } from '../config/index.js';
import { IssuanceError } from './errors.js';

/**
 * The lifetime of a certificate in whole seconds: the requested one (`"15m"`,
 * or a number of seconds) or `ca.defaultTtl`, never more than `ca.maxTtl`.
 */
export function certificateTtlSeconds(requested: unknown, ca: Pick<CaConfig, 'defaultTtl' | 'maxTtl'>): number {
  let ms: number | undefined;
  if (requested === undefined || requested === null) ms = ca.defaultTtl;
  else if (typeof requested === 'number' && Number.isInteger(requested)) ms = requested * 1000;
  else if (typeof requested === 'string') ms = tryParseDuration(requested);
  if (ms === undefined || !Number.isFinite(ms) || ms < 1000) {
    throw new IssuanceError('request.ttl', 'ttl must be a duration of at least 1s, such as "90s" or "15m", or a number of seconds');
  }
  return Math.max(1, Math.floor(Math.min(ms, ca.maxTtl) / 1000));
}
