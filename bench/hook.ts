import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateHistory, median, scratch, sh, timed } from './fixtures.js';

const PUSHGATE = fileURLToPath(new URL('../../bin/pushgate.js', import.meta.url));

function pushgate(args: string[]): void {
  sh(process.execPath, [PUSHGATE, ...args]);
}

export interface SmallPushResult {
  withHookMs: number;
  withoutHookMs: number;
  addedMs: number;
  runs: number;
}

/** Median wall time of a one-commit, five-file `git push` with and without pushgate's hooks. */
export function benchSmallPush(runs = 21): SmallPushResult {
  const dir = scratch('small');
  try {
    pushgate(['init', '--dir', join(dir, 'srv')]);
    const config = join(dir, 'srv', 'pushgate.yaml');
    pushgate(['repo', 'create', 'guarded', '--config', config]);
    const guarded = join(dir, 'srv', 'repos', 'guarded.git');
    const plain = join(dir, 'plain.git');
    sh('git', ['init', '--quiet', '--bare', '--initial-branch=main', plain]);
    const work = join(dir, 'work');
    sh('git', ['init', '--quiet', '--initial-branch=main', work]);
    const git = (...args: string[]): string => sh('git', ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.test', ...args], { cwd: work });
    const measure = (remote: string, round: number): number => {
      for (let f = 0; f < 5; f++) writeFileSync(join(work, `file${f}.ts`), `export const v${f} = ${round};\n// round ${round} file ${f}\n`);
      git('add', '-A');
      git('commit', '--quiet', '-m', `round ${round}`);
      return timed(() => {
        const result = spawnSync('git', ['push', '--quiet', remote, 'HEAD:refs/heads/main'], { cwd: work, encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`push failed: ${result.stderr}`);
      });
    };
    measure(guarded, -2);
    measure(plain, -1);
    const withHook: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < runs; i++) {
      withHook.push(measure(guarded, i * 2));
      without.push(measure(plain, i * 2 + 1));
    }
    const w = median(withHook);
    const o = median(without);
    return { withHookMs: w, withoutHookMs: o, addedMs: w - o, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LargePushResult {
  diffBytes: number;
  commits: number;
  hookMs: number;
  /** `git log -p` writing to /dev/null: the kernel never copies the output. */
  gitLogMs: number;
  /** `git log -p | wc -c`: the same output read through a pipe, as any reader of it must. */
  gitLogPipedMs: number;
  ratio: number;
  ratioPiped: number;
  decision: string;
}

/**
 * The hook over a push of ≥ 100 MB of diff against `git log -p` of the same
 * range. The server repository holds the objects but not the ref, as during
 * a push; the hook runs as git runs it (stdin `<old> <new> <ref>`).
 */
export function benchLargePush(commits = 200, filesPerCommit = 5, linesPerFile = 1700): LargePushResult {
  const dir = scratch('large');
  try {
    const { repo, base, tip } = generateHistory(dir, commits, filesPerCommit, linesPerFile);
    pushgate(['init', '--dir', join(dir, 'srv')]);
    const config = join(dir, 'srv', 'pushgate.yaml');
    pushgate(['repo', 'create', 'big', '--config', config]);
    const server = join(dir, 'srv', 'repos', 'big.git');
    sh('git', ['fetch', '--quiet', repo, `main:refs/heads/incoming`], { cwd: server });
    sh('git', ['update-ref', 'refs/heads/main', base], { cwd: server });
    sh('git', ['update-ref', '-d', 'refs/heads/incoming'], { cwd: server });
    const diffBytes = Number(sh('sh', ['-c', `git log -p ${base}..${tip} | wc -c`], { cwd: server }).trim());
    const logRuns: number[] = [];
    const pipedRuns: number[] = [];
    const hookRuns: number[] = [];
    let decision = '';
    for (let i = 0; i < 3; i++) {
      logRuns.push(timed(() => sh('sh', ['-c', `git log -p ${base}..${tip} > /dev/null`], { cwd: server })));
      pipedRuns.push(timed(() => sh('sh', ['-c', `git log -p ${base}..${tip} | wc -c > /dev/null`], { cwd: server })));
      hookRuns.push(timed(() => {
        const result = spawnSync(process.execPath, [PUSHGATE, 'hook', 'pre-receive', '--config', config], {
          cwd: server, input: `${base} ${tip} refs/heads/main\n`, encoding: 'utf8', env: { ...process.env, GIT_DIR: server }, maxBuffer: 256 * 1024 * 1024,
        });
        decision = /"decision":"(\w+)"/.exec(result.stderr)?.[1] ?? `exit ${result.status}`;
      }));
    }
    const hookMs = median(hookRuns);
    const gitLogMs = median(logRuns);
    const gitLogPipedMs = median(pipedRuns);
    return { diffBytes, commits, hookMs, gitLogMs, gitLogPipedMs, ratio: hookMs / gitLogMs, ratioPiped: hookMs / gitLogPipedMs, decision };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
