import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { PolicyCommand } from '../config/index.js';
import { commandFailure, InvalidAnswer, parseCommandAnswer } from '../policy/commands.js';
import type { ClassifiedUpdate, Finding, Pusher } from '../policy/types.js';
import type { UpdateChanges } from './push-changes.js';

/** What an external check receives on stdin (documented in docs/policy.md). */
export interface CommandInput {
  version: 1;
  repository: string;
  pusher: Pusher;
  updates: { ref: string; old: string; new: string; kind: ClassifiedUpdate['kind'] }[];
  /** Commits the push brings that the repository did not have, oldest first. */
  commits: string[];
  /** Per update: the files that differ between its base and its new tip. */
  changes: { ref: string; base: string | null; truncated: boolean; paths: { path: string; status: 'added' | 'modified' | 'deleted'; oid: string | null; mode: string | null }[] }[];
  /** `git push -o` values, masked. */
  pushOptions: string[];
  /** How to read objects: run git in `gitDir` with this environment (the push's quarantine included) — it is the program's own. */
  git: { gitDir: string; env: Record<string, string> };
}

/** The variables that let git see a push's quarantined objects. */
const GIT_VARIABLES = ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH'] as const;
/** What else a program may need from the hook's environment; nothing that identifies a session or holds a credential. */
const PASSED = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ'] as const;

export function commandInput(repository: string, gitDir: string, env: NodeJS.ProcessEnv, pusher: Pusher, updates: readonly ClassifiedUpdate[], commits: readonly string[], changes: readonly UpdateChanges[], pushOptions: readonly string[]): CommandInput {
  const gitEnv: Record<string, string> = { GIT_DIR: resolve(gitDir) };
  for (const name of GIT_VARIABLES) if (env[name] !== undefined) gitEnv[name] = env[name]!;
  return {
    version: 1,
    repository,
    pusher,
    updates: updates.map((u) => ({ ref: u.ref, old: u.oldOid, new: u.newOid, kind: u.kind })),
    commits: [...commits],
    changes: changes.map((c) => ({
      ref: c.update.ref, base: c.base, truncated: c.truncated,
      paths: c.changes.map((p) => ({ path: p.path, status: p.oldOid === null ? 'added' : p.newOid === null ? 'deleted' : 'modified', oid: p.newOid, mode: p.newMode })),
    })),
    pushOptions: [...pushOptions],
    git: { gitDir: resolve(gitDir), env: gitEnv },
  };
}

/**
 * Runs one external check: the program (no shell) with the push as JSON on
 * stdin, in the repository, with git's quarantine variables so that `git
 * cat-file` sees the pushed objects. Exit 0 and a valid answer on stdout
 * give its findings; a timeout, another exit status, a signal, output over
 * maxOutput or an answer that does not read give the failure finding
 * (onFailure: park or deny — never allow). The whole process group is
 * killed on timeout, so a script's children do not outlive it.
 */
export function runCommand(command: PolicyCommand, input: CommandInput, hookEnv: NodeJS.ProcessEnv): Promise<Finding[]> {
  return new Promise((settle) => {
    const env: NodeJS.ProcessEnv = { ...input.git.env };
    for (const name of PASSED) if (hookEnv[name] !== undefined) env[name] = hookEnv[name];
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (findings: Finding[]): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      settle(findings);
    };
    const fail = (why: string): void => finish([commandFailure(command, why)]);
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command.run[0]!, command.run.slice(1), { cwd: input.git.gitDir, env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    } catch (error) {
      fail(`it could not be started (${(error as Error).message})`);
      return;
    }
    const kill = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    timer = setTimeout(() => {
      kill();
      fail(`it did not answer within ${command.timeout} ms`);
    }, command.timeout);
    const chunks: Buffer[] = [];
    let bytes = 0;
    child.on('error', (error: NodeJS.ErrnoException) => fail(`it could not be started (${error.code ?? error.message})`));
    child.stdin!.on('error', () => undefined);
    child.stdout!.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > command.maxOutput) {
        kill();
        fail(`it wrote more than ${command.maxOutput} bytes`);
        return;
      }
      chunks.push(chunk);
    });
    child.on('close', (code, signal) => {
      if (signal !== null) return fail(`it was ended by ${signal}`);
      if (code !== 0) return fail(`it exited with status ${code}`);
      try {
        finish(parseCommandAnswer(command, Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        if (error instanceof InvalidAnswer) fail(`its answer is not valid: ${error.message}`);
        else fail(`its answer could not be read (${(error as Error).message})`);
      }
    });
    child.stdin!.end(JSON.stringify(input));
  });
}
