import type { DepsConfig } from '../../config/index.js';
import { safeLine } from '../../text/index.js';
import type { Finding } from '../types.js';
import type { Manifest } from './manifests.js';

export const DEPS_RULES = {
  changed: {
    id: 'deps.changed',
    title: 'dependencies added or changed',
    fix: 'A reviewer must accept new or changed dependencies: wait for approval, or leave the change out of the push.',
  },
  source: {
    id: 'deps.source',
    title: 'dependency from outside the allowed registries',
    fix: 'Take the package from an allowed registry (policy.deps.allowedRegistries); a git, URL or path dependency or a replace directive needs an administrator\'s decision.',
  },
  registry: {
    id: 'deps.registry',
    title: 'package registry changed to one that is not allowed',
    fix: 'Keep the registry settings pointing at an allowed registry (policy.deps.allowedRegistries), or ask an administrator to allow the new one.',
  },
  unreadable: {
    id: 'deps.unreadable',
    title: 'dependency manifest could not be read',
    fix: 'Fix the file so its tool can read it (and keep it under policy.deps.maxFileSize); a reviewer decides meanwhile.',
  },
} as const;

export const DEPS_RULE_IDS: string[] = Object.values(DEPS_RULES).map((r) => r.id);

/** One manifest of one updated ref, at the old and the new tip. */
export interface ManifestComparison {
  ref: string;
  /** The new tip. */
  commit: string;
  path: string;
  /** null: the file is absent there. */
  before: Manifest | null;
  after: Manifest | null;
  /** Set when the new version could not be read: too large, or does not parse. */
  problem?: string;
}

/** Items named in one finding's title; the rest are counted. */
const LISTED = 20;
const ITEM_CHARS = 160;

/**
 * Whether a source is a URL under one of the allowed registry prefixes:
 * same scheme, same host and port, and a path that starts with the
 * prefix's path at a segment boundary. Compared on parsed URLs, so that
 * `https://registry.npmjs.org@evil.example/` or `https://registry.npmjs.org.evil.example/`
 * do not pass for the registry.
 */
export function isAllowedRegistryUrl(source: string, allowed: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(source.trim());
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username !== '' || url.password !== '') return false;
  return allowed.some((prefix) => {
    let base: URL;
    try {
      base = new URL(prefix);
    } catch {
      return false;
    }
    if (base.protocol !== url.protocol || base.host !== url.host) return false;
    const basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    return path.startsWith(basePath);
  });
}

function item(text: string): string {
  const line = safeLine(text);
  return line.length > ITEM_CHARS ? `${line.slice(0, ITEM_CHARS - 1)}…` : line;
}

function listing(items: readonly string[]): string {
  const shown = items.slice(0, LISTED).join('; ');
  return items.length > LISTED ? `${shown}; and ${items.length - LISTED} more` : shown;
}

/**
 * Dependency findings for the manifests an update changes: one finding per
 * file and kind — the packages added or changed (with versions), the
 * packages whose source is new and outside the allowed registries, the
 * registry settings that now point elsewhere, or why the file could not be
 * read. Removed packages are no finding. Pure: the caller has read and
 * parsed both versions of each file.
 */
export function checkDeps(comparisons: readonly ManifestComparison[], config: DepsConfig): Finding[] {
  const findings: Finding[] = [];
  for (const c of comparisons) {
    const base = { ref: c.ref, commit: c.commit, path: c.path, mode: config.mode };
    if (c.problem !== undefined) {
      findings.push({ ...base, ruleId: DEPS_RULES.unreadable.id, title: `${DEPS_RULES.unreadable.title}: ${item(c.problem)}`, action: config.unreadable, fix: DEPS_RULES.unreadable.fix });
      continue;
    }
    if (c.after === null) continue;
    const before = c.before;
    const changed: string[] = [];
    const sources: string[] = [];
    for (const [key, dep] of c.after.packages) {
      const old = before?.packages.get(key);
      if (old === undefined) changed.push(item(`${dep.name} ${dep.version || '(no version)'} (added)`));
      else if (old.version !== dep.version || old.name !== dep.name) changed.push(item(`${dep.name} ${old.version || '(no version)'} → ${dep.version || '(no version)'}`));
      const oldSources = new Set(old?.sources ?? []);
      for (const source of dep.sources) {
        if (oldSources.has(source) || isAllowedRegistryUrl(source, config.allowedRegistries)) continue;
        sources.push(item(`${dep.name} from ${source}`));
      }
    }
    const registries: string[] = [];
    for (const [key, url] of c.after.registries) {
      if (before?.registries.get(key) === url || isAllowedRegistryUrl(url, config.allowedRegistries)) continue;
      registries.push(item(`${key} = ${url}`));
    }
    if (changed.length > 0) findings.push({ ...base, ruleId: DEPS_RULES.changed.id, title: `${DEPS_RULES.changed.title}: ${listing(changed)}`, action: config.changes, fix: DEPS_RULES.changed.fix });
    if (sources.length > 0) findings.push({ ...base, ruleId: DEPS_RULES.source.id, title: `${DEPS_RULES.source.title}: ${listing(sources)}`, action: config.sources, fix: DEPS_RULES.source.fix });
    if (registries.length > 0) findings.push({ ...base, ruleId: DEPS_RULES.registry.id, title: `${DEPS_RULES.registry.title}: ${listing(registries)}`, action: config.sources, fix: DEPS_RULES.registry.fix });
  }
  return findings;
}
