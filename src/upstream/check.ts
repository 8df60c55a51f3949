/**
 * `pushgate upstream check`: tries an upstream the way pushgate uses it and
 * says what is wrong in words an administrator can act on.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushgateConfig, UpstreamConfig } from '../config/index.js';
import { isGitError, runGit, runGitOrThrow } from '../git/index.js';
import { upstreamEnv } from './credentials.js';
import { upstreamFor, type UpstreamTarget } from './match.js';
import { MARKER_FILE } from './marker.js';
import { gitComplaint, mirrorPath } from './mirror.js';
import { redactLine } from './redact.js';

export interface CheckStep {
  step: 'files' | 'reach' | 'read' | 'write';
  ok: boolean;
  message: string;
}

export interface CheckOptions {
  /** A repository of this upstream to try; default: a literal `repositories`, else an existing mirror. */
  repository?: string;
  write?: boolean;
}

/** What a failed git conversation with the upstream most likely means, for an administrator. */
export function explainFailure(stderr: string, upstream: UpstreamConfig): string {
  const said = gitComplaint(stderr, { upstream, repository: '', url: '' });
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr)) {
    return `the upstream's host key is not the one in knownHostsFile ${upstream.knownHostsFile ?? ''} (or is missing there): get it with ssh-keyscan, compare its fingerprint with the server's, and add it (${said})`;
  }
  if (/Permission denied \(publickey|Authentication failed|HTTP 401|HTTP 403|invalid credentials|could not read Username/i.test(stderr)) {
    return `the upstream refused pushgate's credential: check that ${upstream.sshKeyFile !== undefined ? `the public half of ${upstream.sshKeyFile} is a deploy key of the repository` : 'the token is valid, unexpired and allowed on this repository'} (${said})`;
  }
  if (/Could not resolve hostname|Name or service not known|Temporary failure in name resolution/i.test(stderr)) return `the upstream's host name does not resolve here: check the url (${said})`;
  if (/Connection refused|Connection timed out|No route to host|Network is unreachable|Failed to connect|Connection reset/i.test(stderr)) return `nothing answers at the upstream's address: check the url, the port and the firewall, and that the server runs (${said})`;
  if (/SSL certificate problem|certificate verify failed|server certificate verification failed/i.test(stderr)) return `the upstream's TLS certificate is not trusted: set caFile to the CA that signed it (${said})`;
  if (/not found|does not appear to be a git repository|does not exist|No such file/i.test(stderr)) return `the upstream answered, but has no such repository: check the url template and the repository name (${said})`;
  if (/UNPROTECTED PRIVATE KEY FILE|bad permissions/i.test(stderr)) return `ssh refuses the key file because others can read it: chmod 600 ${upstream.sshKeyFile ?? ''} (${said})`;
  return said;
}

function checkFiles(upstream: UpstreamConfig): CheckStep {
  const files: Array<[string, string | undefined]> = [['sshKeyFile', upstream.sshKeyFile], ['knownHostsFile', upstream.knownHostsFile], ['tokenFile', upstream.tokenFile], ['caFile', upstream.caFile]];
  for (const [key, path] of files) {
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (error) {
      return { step: 'files', ok: false, message: `${key} ${path} cannot be read by this user (${(error as NodeJS.ErrnoException).code ?? 'error'}): pushgate runs as this user and must read it` };
    }
    if ((key === 'sshKeyFile' || key === 'tokenFile') && (statSync(path).mode & 0o077) !== 0) {
      return { step: 'files', ok: false, message: `${key} ${path} can be read by other users: chmod 600 it (a credential is for pushgate alone)` };
    }
  }
  return { step: 'files', ok: true, message: 'credential files are readable by pushgate only' };
}

/** A repository name to try: the pattern itself when it has no wildcard, else a mirror of this upstream that exists. */
function probeRepository(config: Pick<PushgateConfig, 'upstreams' | 'reposRoot'>, upstream: UpstreamConfig): string | undefined {
  if (!/[*?[\]{}!]/.test(upstream.repositories)) return upstream.repositories;
  return existingMirror(config.reposRoot, upstream.name);
}

/** The first mirror of upstream `name` under reposRoot (repository directories are not entered). */
function existingMirror(reposRoot: string, name: string): string | undefined {
  const pending = [''];
  for (let visited = 0; pending.length > 0 && visited < 10_000; visited++) {
    const dir = pending.shift()!;
    let entries;
    try {
      entries = readdirSync(join(reposRoot, dir), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (!entry.name.endsWith('.git')) {
        pending.push(relative);
        continue;
      }
      try {
        if (JSON.parse(readFileSync(join(reposRoot, relative, MARKER_FILE), 'utf8')).upstream === name) return relative.slice(0, -'.git'.length);
      } catch {
        // Not a mirror.
      }
    }
  }
  return undefined;
}

export async function checkUpstream(config: Pick<PushgateConfig, 'upstreams' | 'reposRoot'>, upstream: UpstreamConfig, options: CheckOptions = {}): Promise<CheckStep[]> {
  const steps: CheckStep[] = [checkFiles(upstream)];
  if (!steps[0]!.ok) return steps;
  const repository = options.repository ?? probeRepository(config, upstream);
  if (repository === undefined) {
    steps.push({ step: 'reach', ok: false, message: `repositories is a pattern (${upstream.repositories}) and no mirror of it exists yet: name a repository to try with --repo` });
    return steps;
  }
  let target: UpstreamTarget | undefined;
  try {
    target = upstreamFor({ upstreams: [upstream] }, repository);
  } catch (error) {
    steps.push({ step: 'reach', ok: false, message: (error as Error).message });
    return steps;
  }
  if (target === undefined) {
    steps.push({ step: 'reach', ok: false, message: `${repository} does not match repositories (${upstream.repositories})` });
    return steps;
  }
  const env = upstreamEnv(upstream);
  let listed;
  try {
    listed = await runGit(['ls-remote', '--heads', '--', target.url], { env, timeoutMs: upstream.timeout });
  } catch (error) {
    const timedOut = isGitError(error) && error.code === 'git.timeout';
    steps.push({ step: 'reach', ok: false, message: timedOut ? `no answer within ${Math.round(upstream.timeout / 1000)} s: check the url, the port and the firewall` : redactLine((error as Error).message, upstream) });
    return steps;
  }
  if (listed.code !== 0) {
    steps.push({ step: 'reach', ok: false, message: explainFailure(listed.stderr, upstream) });
    return steps;
  }
  const branches = listed.stdout.split('\n').filter((l) => l !== '').length;
  steps.push({ step: 'reach', ok: true, message: `reached ${redactLine(target.url)}${upstream.knownHostsFile !== undefined ? ', host key matches knownHostsFile' : ''}, credential accepted` });
  steps.push({ step: 'read', ok: true, message: `read ${repository}: ${branches} branch${branches === 1 ? '' : 'es'}` });
  if (options.write === true) steps.push(await checkWrite(config, target));
  return steps;
}

/** A dry-run push of a new branch: the upstream checks the credential's write access; nothing is sent or changed. */
async function checkWrite(config: Pick<PushgateConfig, 'reposRoot'>, target: UpstreamTarget): Promise<CheckStep> {
  const mirror = mirrorPath(config.reposRoot, target.repository);
  const scratch = existsSync(join(mirror, 'HEAD')) ? undefined : mkdtempSync(join(tmpdir(), 'pushgate-check-'));
  try {
    const gitDir = scratch ?? mirror;
    if (scratch !== undefined) await runGitOrThrow(['init', '--quiet', '--bare', scratch]);
    const tree = (await runGitOrThrow(['mktree'], { gitDir, input: '' })).stdout.trim();
    const env = { ...process.env, GIT_AUTHOR_NAME: 'pushgate', GIT_AUTHOR_EMAIL: 'pushgate@localhost', GIT_COMMITTER_NAME: 'pushgate', GIT_COMMITTER_EMAIL: 'pushgate@localhost' };
    const commit = (await runGitOrThrow(['commit-tree', tree, '-m', 'pushgate upstream check'], { gitDir, env })).stdout.trim();
    const ref = `refs/heads/pushgate-check-${randomBytes(4).toString('hex')}`;
    const result = await runGit(['push', '--dry-run', '--porcelain', '--no-verify', '--', target.url, `${commit}:${ref}`], { gitDir, env: upstreamEnv(target.upstream), timeoutMs: target.upstream.timeout });
    if (result.code === 0) return { step: 'write', ok: true, message: `a dry-run push to ${target.repository} was accepted (nothing was sent)` };
    return { step: 'write', ok: false, message: `a dry-run push was refused: ${explainFailure(result.stderr, target.upstream)}; give pushgate's credential write access` };
  } catch (error) {
    return { step: 'write', ok: false, message: redactLine((error as Error).message, target.upstream) };
  } finally {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}
