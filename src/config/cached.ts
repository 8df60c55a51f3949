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
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findConfigPath } from './find.js';
import { readConfigText } from './read.js';
import type { PushgateConfig } from './types.js';

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
  const dir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const usable = dir !== null && privateDir(dir);
  const key = createHash('sha256').update(codeStamp()).update('\0').update(file).update('\0').update(text).digest('hex');
  const entry = join(dir ?? '', `${createHash('sha256').update(file).digest('hex').slice(0, 32)}.json`);

  if (usable) {
    const hit = readEntry(entry);
    if (hit?.key === key) return hit.config;
  }
  const { parseConfig } = await import('./load.js');
  const config = parseConfig(text, { file });
  if (usable) writeEntry(entry, { key, config });
  return config;
}

function defaultCacheDir(): string | null {
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  return join(tmpdir(), `pushgate-${uid}`, 'config');
}

/** Creates `dir` (0700) if needed; true only when it and its parent belong to us alone. */
function privateDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return [dir, dirname(dir)].every((path) => {
      const stat = lstatSync(path);
      return stat.isDirectory() && stat.uid === process.getuid?.() && (stat.mode & 0o077) === 0;
    });
  } catch {
    return false;
  }
}

function readEntry(entry: string): CacheEntry | undefined {
  try {
    return JSON.parse(readFileSync(entry, 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
}

/** Atomic: concurrent hooks either see the old entry or the new one. */
function writeEntry(entry: string, value: CacheEntry): void {
  const temp = `${entry}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(value), { mode: 0o600 });
    renameSync(temp, entry);
  } catch {
    // a cache that cannot be written only costs time
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
