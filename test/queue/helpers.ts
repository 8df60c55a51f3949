import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestServer, WorkTree } from '../helpers/git-server.js';
import { BLOCKING_LIMIT, pushgateBin, run } from '../helpers/tools.js';

/** The environment of the test runner without any caller identity: commands run as local:<user>. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PUSHGATE_')) env[k] = v;
  return { ...env, ...extra };
}

export const AGENT = { PUSHGATE_PRINCIPAL: 'agent:bot', PUSHGATE_ROLES: 'agent', PUSHGATE_KEY_ID: 'bot-key', PUSHGATE_CERT_SERIAL: '42', PUSHGATE_SESSION: 's-1' };
export const ALICE = { PUSHGATE_PRINCIPAL: 'alice', PUSHGATE_ROLES: 'reviewer' };
export const BOB = { PUSHGATE_PRINCIPAL: 'bob', PUSHGATE_ROLES: 'reviewer' };

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json?: any;
}

/** Runs `pushgate queue …` against the server's config as `who` (default: the local user). */
export function queue(server: TestServer, args: string[], who: NodeJS.ProcessEnv = {}): CliRun {
  const result = spawnSync(process.execPath, [pushgateBin, 'queue', ...args, '--config', server.configPath], { encoding: 'utf8', env: baseEnv(who), ...BLOCKING_LIMIT });
  const out: CliRun = { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  try {
    out.json = JSON.parse(result.stdout);
  } catch {
    // text output
  }
  return out;
}

/** The same, without waiting: for concurrent approvals and kill tests. */
export function queueAsync(server: TestServer, args: string[], who: NodeJS.ProcessEnv = {}): { pid: number; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [pushgateBin, 'queue', ...args, '--config', server.configPath], { env: baseEnv(who), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<CliRun>((resolve) => {
    child.once('close', (code, signal) => {
      const out: CliRun = { status: code ?? (signal ? -1 : -2), stdout, stderr };
      try {
        out.json = JSON.parse(stdout);
      } catch {
        // text output
      }
      resolve(out);
    });
  });
  return { pid: child.pid!, done };
}

let workflowCount = 0;

/** A commit that changes a CI workflow: the default config parks it (path.ci-workflow). */
export function workflowCommit(work: WorkTree, label = 'ci'): string {
  workflowCount++;
  return work.commit(`${label} workflow ${workflowCount}`, { [`.github/workflows/${label}.yml`]: `on: push\n# ${label} ${workflowCount} ${Date.now()}\n` });
}

export function gitIn(repo: string, ...args: string[]): string {
  return run('git', ['--git-dir', repo, ...args]).trim();
}

export function refValue(repo: string, ref: string): string | null {
  const result = spawnSync('git', ['--git-dir', repo, 'rev-parse', '--verify', '--quiet', ref], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

export function refsUnder(repo: string, prefix: string): string[] {
  const out = gitIn(repo, 'for-each-ref', '--format=%(refname)', prefix);
  return out === '' ? [] : out.split('\n');
}

/** A post-receive kept by pushgate's shim that appends its stdin and some env to a marker file. */
export function installMarkerHook(repo: string): string {
  const marker = join(repo, 'post-receive.marker');
  const hook = join(repo, 'hooks', 'post-receive.chained');
  writeFileSync(hook, `#!/bin/sh\n{ cat; echo "queue=$PUSHGATE_QUEUE_ID principal=$PUSHGATE_PRINCIPAL approved=$PUSHGATE_APPROVED_BY gitdir=$GIT_DIR"; } >> '${marker}'\n`);
  chmodSync(hook, 0o755);
  return marker;
}

/** The records' repository beside `repo` (refs/pushgate/queue/<id>). */
export function recordRepo(repo: string): string {
  return join(repo, '.pushgate', 'queue.git');
}

/** Entry `id`'s own store beside `repo`: its parked objects and pending refs. */
export function entryRepo(repo: string, id: string): string {
  return join(repo, '.pushgate', 'parked', `${id}.git`);
}

/** Whether the object is in `repo`'s own object store (a repository without alternates: the main one). */
export function hasObject(repo: string, oid: string): boolean {
  return spawnSync('git', ['--git-dir', repo, 'cat-file', '-e', oid], { stdio: 'ignore' }).status === 0;
}
