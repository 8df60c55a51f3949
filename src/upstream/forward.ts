/**
 * Forwarding ref updates to the upstream: one `git push --atomic` with a
 * compare-and-swap lease on every ref's old value, so the upstream applies
 * all of them or none, and only if no ref moved since pushgate last saw it.
 */
import { isGitError, isZeroOid, runGit } from '../git/index.js';
import { upstreamEnv } from './credentials.js';
import type { UpstreamTarget } from './match.js';
import { gitComplaint } from './mirror.js';
import { redactLine } from './redact.js';

export interface ForwardUpdate {
  ref: string;
  oldOid: string;
  newOid: string;
}

export interface RefStatus {
  ref: string;
  ok: boolean;
  /** git's summary, e.g. `[new branch]`, `[rejected] (stale info)`, `[remote rejected] (pre-receive hook declined)`. */
  summary: string;
}

export type ForwardOutcome = 'accepted' | 'rejected' | 'stale' | 'unavailable';

export interface ForwardResult {
  outcome: ForwardOutcome;
  /** For people, one line: what went wrong (masked, escaped); empty when accepted. */
  message: string;
  /** What the upstream's own checks printed (its `remote:` lines), masked and escaped, one line each. */
  said: string[];
  refs: RefStatus[];
  /** The first ref refused because it moved upstream (outcome `stale`). */
  staleRef?: string;
  durationMs: number;
  /** Pack bytes sent, as git reported them; 0 when nothing was sent or git did not say. */
  bytes: number;
}

export interface ForwardOptions {
  /** The repository whose objects are sent (the mirror, or a parked entry's store). */
  gitDir: string;
  /** Base environment: the hook's, for the quarantined objects. GIT_QUARANTINE_PATH is removed (see below). */
  env?: NodeJS.ProcessEnv;
}

const STATUS_LINE = /^([ +\-*=!])\t([^\t]*)\t(.*)$/;
const ATOMIC_UNSUPPORTED = /does not support --atomic/;
const UNITS: Record<string, number> = { bytes: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** `--porcelain` lines: one per ref, `<flag>\t<from>:<to>\t<summary>`. */
export function parsePorcelain(stdout: string): RefStatus[] {
  const refs: RefStatus[] = [];
  for (const line of stdout.split('\n')) {
    const match = STATUS_LINE.exec(line);
    if (match === null) continue;
    const spec = match[2]!;
    refs.push({ ref: spec.slice(spec.lastIndexOf(':') + 1), ok: match[1] !== '!', summary: match[3]! });
  }
  return refs;
}

/** The size git reports on its last "Writing objects" progress line. */
export function pushedBytes(stderr: string): number {
  let bytes = 0;
  for (const match of stderr.matchAll(/Writing objects: 100% \(\d+\/\d+\), ([\d.]+) (bytes|KiB|MiB|GiB)/g)) bytes = Math.round(Number(match[1]) * (UNITS[match[2]!] ?? 1));
  return bytes;
}

/** What the upstream's own hooks and checks printed (`remote: …` lines), without progress. */
export function remoteMessages(stderr: string): string[] {
  return stderr.split(/\r|\n/).filter((l) => l.startsWith('remote: ') && !/^remote: (Enumerating|Counting|Compressing|Total|Resolving|Processing|$)/.test(l)).map((l) => l.slice('remote: '.length).trimEnd()).filter((l) => l !== '');
}

function pushArgs(target: UpstreamTarget, updates: readonly ForwardUpdate[], atomic: boolean): string[] {
  const leases = updates.map((u) => `--force-with-lease=${u.ref}:${isZeroOid(u.oldOid) ? '' : u.oldOid}`);
  const specs = updates.map((u) => (isZeroOid(u.newOid) ? `:${u.ref}` : `${u.newOid}:${u.ref}`));
  return ['push', ...(atomic ? ['--atomic'] : []), '--porcelain', '--progress', '--no-verify', '--no-recurse-submodules', ...leases, '--', target.url, ...specs];
}

/**
 * The push's environment: the caller's (inside a hook, its object directory
 * variables let the sending side read the quarantined objects) minus
 * GIT_QUARANTINE_PATH, which would make a local upstream's receive-pack
 * refuse every ref update; plus the upstream's credential setup.
 */
function pushEnv(target: UpstreamTarget, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = upstreamEnv(target.upstream, base);
  delete env.GIT_QUARANTINE_PATH;
  return env;
}

function describeRefusal(target: UpstreamTarget, refs: readonly RefStatus[]): string {
  const refused = refs.filter((r) => !r.ok).map((r) => `${r.ref} ${r.summary}`);
  return redactLine(`upstream ${target.upstream.name} refused the push: ${refused.join('; ') || 'no reason given'}`, target.upstream);
}

function saidBy(target: UpstreamTarget, stderr: string): string[] {
  return remoteMessages(stderr).slice(-40).map((l) => redactLine(l, target.upstream));
}

/**
 * Sends `updates` to the upstream. Resolves to what happened; never throws
 * for an upstream that refuses or does not answer.
 */
export async function forwardUpdates(target: UpstreamTarget, updates: readonly ForwardUpdate[], options: ForwardOptions): Promise<ForwardResult> {
  const started = Date.now();
  const env = pushEnv(target, options.env ?? process.env);
  const attempt = async (atomic: boolean): Promise<ForwardResult | 'no-atomic'> => {
    let result;
    try {
      result = await runGit(pushArgs(target, updates, atomic), { gitDir: options.gitDir, env, timeoutMs: target.upstream.timeout });
    } catch (error) {
      const message = isGitError(error) && error.code === 'git.timeout'
        ? `upstream ${target.upstream.name} did not answer the push within ${Math.round(target.upstream.timeout / 1000)} s`
        : `upstream ${target.upstream.name} could not be reached: ${redactLine((error as Error).message, target.upstream)}`;
      return { outcome: 'unavailable', message, said: [], refs: [], durationMs: Date.now() - started, bytes: 0 };
    }
    const refs = parsePorcelain(result.stdout);
    const bytes = pushedBytes(result.stderr);
    const durationMs = Date.now() - started;
    if (result.code !== 0 && ATOMIC_UNSUPPORTED.test(result.stderr)) return 'no-atomic';
    if (result.code === 0 && refs.length > 0 && refs.every((r) => r.ok)) return { outcome: 'accepted', message: '', said: [], refs, durationMs, bytes };
    if (refs.length === 0) {
      return { outcome: 'unavailable', message: `upstream ${target.upstream.name} could not be reached or refused the login: ${gitComplaint(result.stderr, target)}`, said: [], refs, durationMs, bytes };
    }
    const stale = refs.find((r) => !r.ok && /\(stale info\)/.test(r.summary));
    return {
      outcome: stale !== undefined ? 'stale' : 'rejected',
      message: describeRefusal(target, refs),
      said: saidBy(target, result.stderr),
      refs, durationMs, bytes,
      ...(stale !== undefined ? { staleRef: stale.ref } : {}),
    };
  };
  const first = await attempt(true);
  if (first !== 'no-atomic') return first;
  if (updates.length > 1) {
    return {
      outcome: 'rejected', said: [], refs: [], durationMs: Date.now() - started, bytes: 0,
      message: `upstream ${target.upstream.name} does not support atomic pushes, so a push of ${updates.length} refs cannot be forwarded as one; push one ref at a time`,
    };
  }
  const single = await attempt(false);
  return single === 'no-atomic' ? { outcome: 'unavailable', message: 'the upstream refused the push mode', said: [], refs: [], durationMs: Date.now() - started, bytes: 0 } : single;
}
