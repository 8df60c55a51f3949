/**
 * How bin/pushgate.js starts a hook. git runs one for every push, so the
 * hook's start-up is part of every push's time. This module and the bundles
 * are CommonJS, like bin/pushgate.js: a hook run then never starts Node's ES
 * module loader, which costs a few milliseconds of every push.
 *
 * A hook runs from its bundle (build/src/hook/bundle/, one file instead of
 * about ninety modules) while the bundle is at least as new as the module it
 * was built from: `tsc` alone rewrites the modules, which are then run as
 * they are. The bundle is compiled with V8's code cache, kept per user like
 * the config cache. Node 20 has no compile cache for user code
 * (module.enableCompileCache came with Node 22), so the cache is handed to
 * vm.Script here; it is written after the hook has run, so that it holds the
 * functions the hook ran and not only the bundle's top level.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { defaultUserCacheDir, isPrivateDir, writeCacheFile } from '../config/user-cache-dir.cjs';
import { restoreDeferredCa } from './deferred-ca.cjs';

export type HookName = 'pre-receive' | 'post-receive';
type HookMain = (configArgument: string | undefined) => Promise<number>;

const HOOKS: Record<HookName, { module: string; main: string }> = {
  'pre-receive': { module: './main.js', main: 'preReceiveMain' },
  'post-receive': { module: './post-receive.js', main: 'postReceiveMain' },
};

/** Runs hook `name` as `pushgate hook NAME --config FILE` does; resolves to its exit code. */
export async function runHook(name: HookName, configArgument: string | undefined): Promise<number> {
  restoreDeferredCa();
  const { module, main } = HOOKS[name];
  const modulePath = join(__dirname, module);
  const bundlePath = join(__dirname, 'bundle', `${name}.cjs`);
  if (!isFresh(bundlePath, modulePath)) {
    const exports = (await import(pathToFileURL(modulePath).href)) as Record<string, HookMain>;
    return exports[main]!(configArgument);
  }
  const cacheDir = defaultUserCacheDir('code');
  const bundle = loadBundle(name, bundlePath, cacheDir !== null && isPrivateDir(cacheDir) ? cacheDir : null);
  const code = await (bundle.exports[main] as HookMain)(configArgument);
  bundle.saveCache();
  return code;
}

function isFresh(bundlePath: string, modulePath: string): boolean {
  try {
    return statSync(bundlePath).mtimeMs >= statSync(modulePath).mtimeMs;
  } catch {
    return false;
  }
}

interface LoadedBundle {
  exports: Record<string, unknown>;
  /** Writes the compiled code for the next run, unless it came from the cache. */
  saveCache(): void;
}

function loadBundle(name: HookName, bundlePath: string, cacheDir: string | null): LoadedBundle {
  const source = readFileSync(bundlePath, 'utf8');
  // V8 checks a cache against the source's length only: the name carries a hash of the source itself.
  // Code compiled while coverage is collected counts every block it runs, and V8 would accept it
  // in a run without coverage: such code is kept apart. The name also carries the bundle's path,
  // so that two installations do not keep replacing each other's entry.
  const mode = process.env.NODE_V8_COVERAGE ? 'coverage' : '';
  const key = createHash('sha256').update(`${process.version}\0${process.arch}\0${mode}\0`).update(source).digest('hex').slice(0, 32);
  const prefix = `${name}-${createHash('sha256').update(bundlePath).digest('hex').slice(0, 16)}-`;
  const cachePath = cacheDir === null ? null : join(cacheDir, `${prefix}${key}.bin`);
  const cachedData = cachePath === null ? undefined : readIfExists(cachePath);
  // The bundle is a function expression (scripts/bundle-hooks.ts).
  const script = new Script(source, { filename: pathToFileURL(bundlePath).href, cachedData });
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} as Record<string, unknown> };
  wrapper.call(module.exports, module.exports, createRequire(bundlePath), module, bundlePath, dirname(bundlePath));
  return {
    exports: module.exports,
    saveCache() {
      if (cachePath === null || (cachedData !== undefined && !script.cachedDataRejected)) return;
      writeCacheFile(cachePath, script.createCachedData());
      removeOtherEntries(cacheDir!, prefix, cachePath);
    },
  };
}

function readIfExists(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Entries for an earlier build of the same bundle are never read again. */
function removeOtherEntries(cacheDir: string, prefix: string, keep: string): void {
  try {
    for (const entry of readdirSync(cacheDir)) {
      const path = join(cacheDir, entry);
      if (entry.startsWith(prefix) && entry.endsWith('.bin') && path !== keep) rmSync(path, { force: true });
    }
  } catch {
    // left for the next write
  }
}
