import { minimatch } from 'minimatch';
import type { Allowlist } from './types.js';

const PATH_CACHE_LIMIT = 4096;

export class CompiledAllowlist {
  private readonly exactValues: Set<string>;
  private readonly valuePatterns: RegExp[];
  private readonly pathPatterns: { pattern: string; matchBase: boolean }[];
  private readonly fingerprints: Set<string>;
  private readonly pathCache = new Map<string, boolean>();

  constructor(allowlist: Allowlist = {}) {
    this.exactValues = new Set(allowlist.values?.filter((value): value is string => typeof value === 'string'));
    // Without g/y a RegExp keeps no state between tests.
    this.valuePatterns = (allowlist.values ?? [])
      .filter((value): value is RegExp => value instanceof RegExp)
      .map((pattern) => new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')));
    this.pathPatterns = (allowlist.paths ?? []).map((pattern) => ({ pattern, matchBase: !pattern.includes('/') }));
    this.fingerprints = new Set(allowlist.fingerprints);
  }

  allowsValue(value: string): boolean {
    return this.exactValues.has(value) || this.valuePatterns.some((pattern) => pattern.test(value));
  }

  allowsFingerprint(fingerprint: string): boolean {
    return this.fingerprints.has(fingerprint);
  }

  allowsPath(path: string): boolean {
    if (this.pathPatterns.length === 0) return false;
    let allowed = this.pathCache.get(path);
    if (allowed === undefined) {
      const normalised = normalisePath(path);
      allowed = this.pathPatterns.some(({ pattern, matchBase }) => minimatch(normalised, pattern, { dot: true, matchBase }));
      if (this.pathCache.size >= PATH_CACHE_LIMIT) this.pathCache.clear();
      this.pathCache.set(path, allowed);
    }
    return allowed;
  }
}

export function normalisePath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(?:\.\/)+/, '');
}
