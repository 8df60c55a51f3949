/**
 * Before git runs for a client on a repository that has an upstream: the
 * mirror is created on first use and refreshed when older than
 * fetchInterval. When the upstream cannot be read, reads are served from
 * the mirror with a warning (serveStale), writes are refused: a push must be
 * forwarded, and the mirror must not move alone.
 */
import type { AuditEventInput } from '../audit/types.js';
import type { PushgateConfig } from '../config/index.js';
import { isUpstreamError } from './errors.js';
import { refreshFailureEvent, reportRefresh } from './events.js';
import { upstreamFor, type UpstreamTarget } from './match.js';
import { beginPush, ensureMirror, lastFetched, refreshMirror } from './mirror.js';

export interface PrepareOptions {
  config: Pick<PushgateConfig, 'upstreams' | 'reposRoot' | 'configPath'>;
  repository: string;
  /** The repository's directory; undefined when it does not exist yet. */
  gitDir: string | undefined;
  write: boolean;
  /** Records an audit event (refresh failures). */
  record(event: AuditEventInput): void;
  /** Session and identity fields for those events. */
  auditFields?: Pick<AuditEventInput, 'session' | 'identity'>;
}

export type SessionPreparation =
  | { kind: 'none' }
  /** `release`, for a push: call it when git-receive-pack has exited (refreshes wait until then). */
  | { kind: 'ready'; gitDir: string; created: boolean; warning?: string; release?: () => void }
  | { kind: 'refused'; code: string; message: string; reason: string };

function refused(code: string, message: string, reason: string): SessionPreparation {
  return { kind: 'refused', code, message, reason };
}

export async function prepareSession(options: PrepareOptions): Promise<SessionPreparation> {
  let target: UpstreamTarget | undefined;
  try {
    target = upstreamFor(options.config, options.repository);
  } catch (error) {
    if (!isUpstreamError(error)) throw error;
    return refused(error.code, `repository ${options.repository} cannot be served: its upstream is misconfigured; an administrator must run \`pushgate config check\``, error.message);
  }
  if (target === undefined) return { kind: 'none' };
  const started = Date.now();
  const failed = (message: string): void => {
    options.record(refreshFailureEvent(target, message, options.auditFields));
    reportRefresh({ upstream: target.upstream.name, repository: target.repository, gitDir: options.gitDir ?? '', ok: false, durationMs: Date.now() - started });
  };
  const unreachable = `upstream ${target.upstream.name} cannot be reached`;
  if (options.gitDir === undefined) {
    try {
      const gitDir = await ensureMirror(target, { reposRoot: options.config.reposRoot, configPath: options.config.configPath });
      reportRefresh({ upstream: target.upstream.name, repository: target.repository, gitDir, ok: true, durationMs: Date.now() - started });
      return await announced({ kind: 'ready', gitDir, created: true });
    } catch (error) {
      const message = (error as Error).message;
      failed(message);
      return refused('upstream.unavailable', `${unreachable}, and repository ${options.repository} has no mirror yet; try again later`, message);
    }
  }
  const gitDir = options.gitDir;
  try {
    const result = await refreshMirror(gitDir, target);
    if (result.refreshed) reportRefresh({ upstream: target.upstream.name, repository: target.repository, gitDir, ok: true, durationMs: result.durationMs });
  } catch (error) {
    const message = (error as Error).message;
    failed(message);
    if (options.write) return refused('upstream.unavailable', `${unreachable}, so pushes to ${options.repository} are refused until it can (a push is applied only once the upstream accepts it); try again later`, message);
    const fetched = lastFetched(gitDir);
    if (!target.upstream.serveStale || fetched === undefined) return refused('upstream.unavailable', `${unreachable}; try again later`, message);
    return { kind: 'ready', gitDir, created: false, warning: `warning: ${unreachable}; serving the last copy of ${options.repository}, fetched ${fetched.toISOString()}` };
  }
  return announced({ kind: 'ready', gitDir, created: false });

  /** A push is announced to the mirror, so that no refresh runs until git-receive-pack has applied it. */
  async function announced(ready: Extract<SessionPreparation, { kind: 'ready' }>): Promise<SessionPreparation> {
    if (!options.write) return ready;
    try {
      return { ...ready, release: await beginPush(ready.gitDir, target!) };
    } catch (error) {
      const message = (error as Error).message;
      return refused('upstream.busy', `repository ${options.repository} is being refreshed from upstream ${target!.upstream.name} and it takes too long; try again later`, message);
    }
  }
}
