/**
 * From a command line and an identity to what runs: parse, apply a forced
 * command, resolve the repository, check access. Shared by the SSH gateway
 * and by any front end that execs git for an authenticated caller.
 */
import type { AccessRule, Permission, QueueConfig } from '../config/index.js';
import type { Identity } from '../identity/index.js';
import { isAllowed } from './access.js';
import { parseCommand, permissionFor, type GitService } from './command.js';
import { isEntryPath, planEntryFetch } from './queue-fetch.js';
import { repoNameFromPath, resolveRepository } from './repo-path.js';

export interface GitPlan {
  kind: 'git';
  service: GitService;
  permission: Permission;
  /** The path as the client wrote it. */
  requestedPath: string;
  /** Canonical repository name (relative to reposRoot, without `.git`). */
  repository: string;
  /** Absolute path of the bare repository. */
  path: string;
  /** Arguments for the `git` binary. */
  args: string[];
}

export interface QueuePlan {
  kind: 'queue';
  argv: string[];
}

export interface Refusal {
  kind: 'refused';
  /** Stable reason code for the audit log. */
  code: string;
  /** What the client is told. */
  message: string;
  /** What operators and the audit log are told. */
  reason: string;
  repository?: string;
}

export interface PlanOptions {
  reposRoot: string;
  access: readonly AccessRule[];
  /** A certificate's force-command: replaces the requested command, as sshd does. */
  forceCommand?: string | undefined;
  /** The queue's config: needed to serve a parked push's store to its reviewers (`<repo>.git/.queue/<id>`). */
  queue?: QueueConfig | undefined;
}

export function gitArgs(service: GitService, path: string): string[] {
  switch (service) {
    case 'git-upload-pack':
      return ['upload-pack', '--strict', path];
    case 'git-receive-pack':
      return ['receive-pack', path];
    case 'git-upload-archive':
      return ['upload-archive', path];
  }
}

/** One message for "no such repository", "not allowed" and "not a valid path", so none can be told apart. */
export function repositoryRefusalMessage(requestedPath: string, permission: Permission): string {
  const shown = JSON.stringify(requestedPath.length > 200 ? `${requestedPath.slice(0, 200)}…` : requestedPath);
  return `repository ${shown} does not exist, or you may not ${permission === 'write' ? 'push to' : 'read'} it`;
}

export async function planCommand(commandLine: string, identity: Identity, options: PlanOptions): Promise<GitPlan | QueuePlan | Refusal> {
  const line = options.forceCommand ?? commandLine;
  const parsed = parseCommand(line);
  if (parsed.kind === 'error') return { kind: 'refused', code: parsed.code, message: parsed.message, reason: parsed.message };
  if (parsed.kind === 'queue') return { kind: 'queue', argv: parsed.argv };
  const permission = permissionFor(parsed.service);
  const message = repositoryRefusalMessage(parsed.path, permission);
  if (isEntryPath(parsed.path)) return planEntryFetch(parsed.service, parsed.path, identity, { reposRoot: options.reposRoot, access: options.access, queue: options.queue }, message);
  const named = repoNameFromPath(parsed.path, options.reposRoot);
  if (!named.ok) return { kind: 'refused', code: named.code, message, reason: named.reason };
  const caller = { principal: identity.principal, roles: identity.roles };
  // Access is checked on the name before anything on disk is looked at, and again on what the name leads to.
  if (!isAllowed(caller, named.name, permission, options.access)) {
    return { kind: 'refused', code: 'access.denied', message, reason: `${identity.principal} may not ${permission} ${named.name}`, repository: named.name };
  }
  const resolved = await resolveRepository(options.reposRoot, named.name);
  if (!resolved.ok) return { kind: 'refused', code: resolved.code, message, reason: resolved.reason, repository: named.name };
  if (resolved.name !== named.name && !isAllowed(caller, resolved.name, permission, options.access)) {
    return { kind: 'refused', code: 'access.denied', message, reason: `${identity.principal} may not ${permission} ${resolved.name} (reached as ${named.name})`, repository: resolved.name };
  }
  return {
    kind: 'git',
    service: parsed.service,
    permission,
    requestedPath: parsed.path,
    repository: resolved.name,
    path: resolved.path,
    args: gitArgs(parsed.service, resolved.path),
  };
}
