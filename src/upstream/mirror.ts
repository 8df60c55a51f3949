/**
 * Local bare mirrors of upstream repositories, under reposRoot where the
 * gateway finds any repository. A mirror is a cache: it can be deleted and
 * is rebuilt from the upstream on first use. It holds every upstream ref
 * except `refs/pushgate/**` (the queue's namespace, never fetched, never
 * pruned) and pushgate's hooks; `.pushgate/` (the queue's storage) is never
 * touched by a fetch.
 *
 *   <mirror>/pushgate-upstream            which upstream it mirrors (JSON; no URL, no credential)
 *   <mirror>/pushgate-upstream.fetched    its mtime: the last successful refresh
 *   <mirror>/pushgate-upstream.lock       held while a refresh runs (one per repository, across processes)
 *   <mirror>/pushgate-upstream.pushes/    one file per push in flight (its owner's process); a refresh waits
 *                                         until there is none
 *
 * Refreshes and pushes exclude each other: a push's hook forwards to the
 * upstream before git moves the mirror's refs, so a fetch between the two
 * would move a ref to the pushed value first, git's own update would then
 * fail its old-value check, and a push that landed upstream would look
 * failed. A push announces itself under the refresh lock (so it never
 * starts during a fetch); a refresh, holding the lock (so no push starts
 * meanwhile), waits until no push is in flight.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';
import { FileLock, ownerGone, ownerMark } from '../audit/lock.js';
import { isGitError, runGit, runGitOrThrow } from '../git/index.js';
import { installHooks } from '../hook/install.js';
import { upstreamEnv } from './credentials.js';
import { MARKER_FILE } from './marker.js';
import { UpstreamError } from './errors.js';
import type { UpstreamTarget } from './match.js';
import { redactBlock, redactLine } from './redact.js';

const FETCHED_FILE = 'pushgate-upstream.fetched';
const LOCK_FILE = 'pushgate-upstream.lock';
const PUSHES_DIR = 'pushgate-upstream.pushes';
/** How long a session's refresh waits for pushes in flight before serving the mirror as it is. */
const PUSH_WAIT_MS = 15_000;

/** Every upstream ref except the queue's namespace; `--prune` then never deletes the queue's refs either. */
export const MIRROR_REFSPECS = ['+refs/*:refs/*', '^refs/pushgate/*'] as const;

export function mirrorPath(reposRoot: string, repository: string): string {
  return join(reposRoot, `${repository}.git`);
}


/** ms since the last successful refresh; Infinity when there was none. */
export function mirrorAge(gitDir: string, now = Date.now()): number {
  const stat = statSync(join(gitDir, FETCHED_FILE), { throwIfNoEntry: false });
  return stat === undefined ? Infinity : Math.max(0, now - stat.mtimeMs);
}

/** The last successful refresh, or undefined. */
export function lastFetched(gitDir: string): Date | undefined {
  const stat = statSync(join(gitDir, FETCHED_FILE), { throwIfNoEntry: false });
  return stat === undefined ? undefined : stat.mtime;
}

/** Makes the next session refresh first (the upstream is known to have moved). */
export async function markStale(gitDir: string): Promise<void> {
  await rm(join(gitDir, FETCHED_FILE), { force: true });
}

async function stamp(gitDir: string): Promise<void> {
  const path = join(gitDir, FETCHED_FILE);
  const now = new Date();
  try {
    await utimes(path, now, now);
  } catch {
    await writeFile(path, '');
  }
}

/** The last few meaningful lines git wrote, for a message: progress and hints left out, secrets masked. */
export function gitComplaint(stderr: string, target: UpstreamTarget): string {
  const lines = stderr.split(/\r|\n/).map((l) => l.trim()).filter((l) => l !== '' && !/^(hint:|remote: (Enumerating|Counting|Compressing|Total)|Enumerating|Counting|Compressing|Receiving|Resolving|Writing|Delta|Total)/.test(l));
  return redactLine(lines.slice(-3).join(' / ') || 'no message', target.upstream);
}

function timeoutMessage(target: UpstreamTarget, what: string): string {
  return `upstream ${target.upstream.name} did not answer ${what} within ${Math.round(target.upstream.timeout / 1000)} s`;
}

/** Fetches every upstream ref into `gitDir`, deleting those gone upstream. */
async function fetchInto(gitDir: string, target: UpstreamTarget): Promise<void> {
  const env = upstreamEnv(target.upstream);
  let result;
  try {
    result = await runGit(['fetch', '--prune', '--quiet', '--no-write-fetch-head', '--no-recurse-submodules', '--', target.url, ...MIRROR_REFSPECS], { gitDir, env, timeoutMs: target.upstream.timeout });
  } catch (error) {
    if (isGitError(error) && error.code === 'git.timeout') throw new UpstreamError('upstream.unavailable', timeoutMessage(target, 'a fetch'));
    throw error;
  }
  if (result.code !== 0) throw new UpstreamError('upstream.unavailable', `fetching from upstream ${target.upstream.name} failed: ${gitComplaint(result.stderr, target)}`);
}

/** The upstream's default branch, when it says; a fresh mirror's HEAD follows it. */
async function upstreamHead(target: UpstreamTarget): Promise<string | undefined> {
  const result = await runGit(['ls-remote', '--symref', '--', target.url, 'HEAD'], { env: upstreamEnv(target.upstream), timeoutMs: target.upstream.timeout }).catch(() => undefined);
  const match = result === undefined ? null : /^ref: (refs\/heads\/[^\t\n]+)\tHEAD$/m.exec(result.stdout);
  return match?.[1];
}

export interface MirrorOptions {
  reposRoot: string;
  /** The config file the hooks are installed with. */
  configPath: string | null;
}

/**
 * The mirror of `target`, created on first use: a bare repository filled
 * from the upstream and given pushgate's hooks in a hidden directory beside
 * its place, then renamed into place, so it is never seen half made. Of
 * two sessions creating it at once, one rename wins; the other uses it.
 */
export async function ensureMirror(target: UpstreamTarget, options: MirrorOptions): Promise<string> {
  const path = mirrorPath(options.reposRoot, target.repository);
  if (existsSync(join(path, 'HEAD'))) return path;
  if (options.configPath === null) throw new UpstreamError('upstream.mirror', `cannot create the mirror of ${target.repository}: the hooks need the config file's path, and this configuration was not read from a file`);
  const parent = dirname(path);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await runGitOrThrow(['init', '--quiet', '--bare', '--initial-branch=main', tmp]);
    await writeFile(join(tmp, MARKER_FILE), `${JSON.stringify({ upstream: target.upstream.name, repository: target.repository, created: new Date().toISOString() })}\n`);
    await fetchInto(tmp, target);
    const head = await upstreamHead(target);
    if (head !== undefined) await runGit(['symbolic-ref', 'HEAD', head], { gitDir: tmp });
    await installHooks(tmp, { configPath: options.configPath });
    await stamp(tmp);
    try {
      await rename(tmp, path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
    }
    return path;
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw new UpstreamError('upstream.mirror', `could not create the mirror of ${target.repository} from upstream ${target.upstream.name}: ${redactBlock((error as Error).message, target.upstream).split('\n')[0]}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface RefreshResult {
  /** A fetch ran (here or in a process this one waited for). */
  refreshed: boolean;
  /** No fetch: pushes to the repository were in flight for longer than a session waits (they move the mirror themselves). */
  deferred?: boolean;
  durationMs: number;
}

async function lockRefresh(gitDir: string, target: UpstreamTarget): Promise<FileLock> {
  const wait = target.upstream.timeout + 5000;
  try {
    return await FileLock.acquire(join(gitDir, LOCK_FILE), { staleMs: wait + 30_000, timeoutMs: wait });
  } catch (error) {
    throw new UpstreamError('upstream.unavailable', `another refresh of ${target.repository} from upstream ${target.upstream.name} did not finish in time (${(error as Error).message.split('\n')[0]})`);
  }
}

/** Pushes in flight; marks of processes that ended are removed. */
async function pushesInFlight(gitDir: string): Promise<number> {
  const dir = join(gitDir, PUSHES_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let alive = 0;
  for (const name of names) {
    const path = join(dir, name);
    const mark = await readFile(path, 'utf8').catch(() => undefined);
    if (mark === undefined) continue;
    if (ownerGone(mark)) await unlink(path).catch(() => undefined);
    else alive++;
  }
  return alive;
}

/**
 * Announces a push to the mirror: until the returned function is called
 * (when git-receive-pack has exited), no refresh fetches into it. Waits
 * for a refresh that is running.
 */
export async function beginPush(gitDir: string, target: UpstreamTarget): Promise<() => void> {
  const lock = await lockRefresh(gitDir, target);
  let path: string;
  try {
    const dir = join(gitDir, PUSHES_DIR);
    await mkdir(dir, { recursive: true });
    path = join(dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    await writeFile(path, ownerMark(), { mode: 0o600 });
  } finally {
    lock.release();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    rmSync(path, { force: true });
  };
}

/**
 * Brings the mirror up to date when it is older than the upstream's
 * fetchInterval (always with `force`). One refresh per repository at a time
 * across processes: the others wait for the lock, then find the mirror
 * fresh. A refresh waits for pushes in flight (see above): a session's up to
 * PUSH_WAIT_MS, then it serves the mirror as it is; a forced one up to the
 * upstream's timeout. Throws UpstreamError('upstream.unavailable') when the
 * upstream cannot be read; the mirror is then left as it was.
 */
export async function refreshMirror(gitDir: string, target: UpstreamTarget, options: { force?: boolean } = {}): Promise<RefreshResult> {
  const started = Date.now();
  const interval = target.upstream.fetchInterval;
  if (options.force !== true && mirrorAge(gitDir) < interval) return { refreshed: false, durationMs: 0 };
  const lock = await lockRefresh(gitDir, target);
  try {
    // Someone else may have refreshed while this process waited.
    if (options.force !== true && mirrorAge(gitDir) <= Date.now() - started) return { refreshed: true, durationMs: Date.now() - started };
    const pushWait = options.force === true ? target.upstream.timeout : Math.min(PUSH_WAIT_MS, target.upstream.timeout);
    const deadline = Date.now() + pushWait;
    while ((await pushesInFlight(gitDir)) > 0) {
      if (Date.now() > deadline) return { refreshed: false, deferred: true, durationMs: Date.now() - started };
      await sleep(25);
    }
    await fetchInto(gitDir, target);
    await stamp(gitDir);
    return { refreshed: true, durationMs: Date.now() - started };
  } finally {
    lock.release();
  }
}
