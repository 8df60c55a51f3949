import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enableFsck } from '../git/fsck.js';
import { isBareRepo, runGit, runGitOrThrow } from '../git/index.js';
import { CHAINED_SUFFIX } from './chain.js';
import { deferCaShellLines } from './deferred-ca.cjs';

export const HOOK_NAMES = ['pre-receive', 'post-receive'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
const MARKER = '# pushgate hook shim';
export { CHAINED_SUFFIX };

export class HookInstallError extends Error {}

export interface InstallOptions {
  /** Config file the shims pass to pushgate; made absolute. */
  configPath: string;
  /** Keep an existing foreign hook, run after pushgate's checks pass. */
  chain?: boolean;
}

export interface InstallResult {
  repo: string;
  written: HookName[];
  unchanged: HookName[];
  chained: HookName[];
  /** Git settings this install turned on (git's object checks, push options, hidden refs). */
  configured: string[];
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const PUSHGATE_ENTRY = fileURLToPath(new URL('../../../bin/pushgate.js', import.meta.url));

/** The shim: a fixed node binary, the pushgate entry point, and the config path it was installed with. */
export function shimText(hook: HookName, configPath: string): string {
  const command = `${shellQuote(process.execPath)} ${shellQuote(PUSHGATE_ENTRY)} hook ${hook} --config ${shellQuote(resolve(configPath))}`;
  const header = ['#!/bin/sh', `${MARKER}: installed by \`pushgate repo install-hooks\`; reinstall rather than edit.`, ...deferCaShellLines()];
  if (hook === 'pre-receive') return [...header, `exec ${command}`, ''].join('\n');
  // The push is already applied: unless a kept hook must speak to the pusher,
  // record it in the background so the pusher does not wait for it. sh gives
  // a background command /dev/null for stdin, so git's input goes by fd 3.
  // It runs from / with GIT_DIR made absolute: a process that outlives the
  // push must not depend on the repository's directory staying there (Node
  // with a preload that registers module hooks hangs at start when its
  // working directory is removed); it ends itself (audit.backgroundTimeout).
  return [
    ...header,
    `if [ -x hooks/post-receive${CHAINED_SUFFIX} ]; then exec ${command}; fi`,
    'exec 3<&0',
    'GIT_DIR=$(cd -- "${GIT_DIR:-.}" && pwd) || exit 0',
    'export GIT_DIR',
    'cd / || exit 0',
    `${command} <&3 3<&- >/dev/null 2>&1 &`,
    '',
  ].join('\n');
}

function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/**
 * Git settings every protected repository needs, set only when missing:
 * push options, the queue's refs hidden, and git's object checks on receive
 * and fetch (a tree with a `.git` entry or a `.gitmodules` with an
 * option-like url never gets in; the pre-receive hook refuses every push
 * while they are off). Returns the keys it set.
 */
async function configureRepo(repo: string): Promise<string[]> {
  const set: string[] = [];
  // git rewrites its config file even when a value does not change: ask first.
  const pushOptions = await runGit(['config', '--bool', '--get', 'receive.advertisePushOptions'], { gitDir: repo });
  if (pushOptions.stdout.trim() !== 'true') {
    await runGitOrThrow(['config', 'receive.advertisePushOptions', 'true'], { gitDir: repo });
    set.push('receive.advertisePushOptions');
  }
  const hidden = await runGit(['config', '--get-all', 'transfer.hideRefs'], { gitDir: repo });
  if (!hidden.stdout.split('\n').includes('refs/pushgate')) {
    await runGitOrThrow(['config', '--add', 'transfer.hideRefs', 'refs/pushgate'], { gitDir: repo });
    set.push('transfer.hideRefs');
  }
  set.push(...await enableFsck(repo));
  return set;
}

/**
 * Installs the pre-receive and post-receive shims into a bare repository.
 * Installing twice changes nothing; a hook that is not pushgate's is never
 * overwritten: it is refused, or with `chain` kept and run after the checks.
 */
export async function installHooks(repoPath: string, options: InstallOptions): Promise<InstallResult> {
  const repo = resolve(repoPath);
  if (!(await isBareRepo(repo))) throw new HookInstallError(`${repo} is not a bare git repository`);
  const hooksDir = join(repo, 'hooks');
  const result: InstallResult = { repo, written: [], unchanged: [], chained: [], configured: [] };
  const plans = HOOK_NAMES.map((hook) => ({ hook, path: join(hooksDir, hook), text: shimText(hook, options.configPath) }));
  for (const { hook, path } of plans) {
    const current = readIfExists(path);
    if (current === undefined || current.includes(MARKER)) continue;
    if (!options.chain) {
      throw new HookInstallError(`${path} exists and is not pushgate's; remove it, or pass --chain to keep running it after pushgate's checks pass`);
    }
    if (existsSync(path + CHAINED_SUFFIX)) throw new HookInstallError(`${path} is foreign and ${path + CHAINED_SUFFIX} already exists; resolve by hand`);
  }
  for (const { hook, path, text } of plans) {
    const current = readIfExists(path);
    if (current === text) {
      result.unchanged.push(hook);
      continue;
    }
    if (current !== undefined && !current.includes(MARKER)) {
      renameSync(path, path + CHAINED_SUFFIX);
      result.chained.push(hook);
    }
    writeFileSync(`${path}.pushgate-tmp`, text, { mode: 0o755 });
    chmodSync(`${path}.pushgate-tmp`, 0o755);
    renameSync(`${path}.pushgate-tmp`, path);
    result.written.push(hook);
  }
  result.configured = await configureRepo(repo);
  return result;
}
