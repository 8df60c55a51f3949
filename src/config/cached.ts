/**
 * loadConfig for short-lived processes that run on every push (the hooks).
 * Validating needs the YAML parser and the schema library, which together
 * take longer to load than the rest of a hook's work; a validated config is
 * a pure function of the file's text, its path and this module's code, so it
 * is kept as JSON under that key and reused until any of the three changes.
 * This file imports neither library; they are loaded only on a miss.
 *
 * The cache lives in a per-user directory that must be owned by the current
 * user and closed to others; otherwise nothing is cached.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findConfigPath } from './find.js';
import { readConfigText } from './read.js';
import type { PushgateConfig } from './types.js';
import { defaultUserCacheDir, isPrivateDir, writeCacheFile } from './user-cache-dir.cjs';

export interface CachedLoadOptions {
  /** Where validated configs are kept; default `<tmpdir>/pushgate-<uid>/config`; null disables caching. */
  cacheDir?: string | null;
}

interface CacheEntry {
  key: string;
  config: PushgateConfig;
}

/** Like loadConfig, but reuses the last validation of the same text; throws ConfigError the same way. */
export async function loadConfigCached(path: string = findConfigPath(), options: CachedLoadOptions = {}): Promise<PushgateConfig> {
  const file = resolve(path);
  const text = readConfigText(file);
  const dir = options.cacheDir === undefined ? defaultUserCacheDir('config') : options.cacheDir;
  const usable = dir !== null && isPrivateDir(dir);
  const key = createHash('sha256').update(codeStamp()).update('\0').update(file).update('\0').update(text).digest('hex');
  const entry = join(dir ?? '', `${createHash('sha256').update(file).digest('hex').slice(0, 32)}.json`);

  if (usable) {
    const hit = readEntry(entry);
    if (hit?.key === key) return hit.config;
  }
  const { parseConfig } = await import('./load.js');
  const config = parseConfig(text, { file });
  if (usable) writeCacheFile(entry, JSON.stringify({ key, config } satisfies CacheEntry));
  return config;
}

function readEntry(entry: string): CacheEntry | undefined {
  try {
    return JSON.parse(readFileSync(entry, 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
}

let stamp: string | undefined;

/** Changes whenever this module's code does, so a new schema never reads an old entry. */
function codeStamp(): string {
  if (stamp === undefined) {
    const here = dirname(fileURLToPath(import.meta.url));
    stamp = readdirSync(here)
      .filter((name) => name.endsWith('.js'))
      .sort()
      .map((name) => {
        const stat = statSync(join(here, name));
        return `${name}:${stat.size}:${stat.mtimeMs}`;
      })
      .join('|');
  }
  return stamp;
}
