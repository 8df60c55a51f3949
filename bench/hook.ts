import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateHistory, measured, median, scratch, sh } from './fixtures.js';

const PUSHGATE = fileURLToPath(new URL('../../bin/pushgate.js', import.meta.url));

function pushgate(args: string[]): void {
  sh(process.execPath, [PUSHGATE, ...args]);
}

export interface SmallPushResult {
  withHookMs: number;
  withoutHookMs: number;
  addedMs: number;
  /** CPU time (user + system) of the whole `git push`, hooks included; medians. */
  withHookCpuMs: number;
  withoutHookCpuMs: number;
  addedCpuMs: number;
  /** `node -e 0` in the same rounds, started as the shims start the hooks: how fast the machine starts Node at the time. */
  nodeStartMs: number;
  runs: number;
}

/** Waits until the audit log has post-receive's record of the push of `tip` (at most 10 s). */
function waitForApplied(auditLog: string, tip: string): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = existsSync(auditLog) ? readFileSync(auditLog, 'utf8') : '';
    if (text.split('\n').some((line) => line.includes('"type":"push.applied"') && line.includes(tip))) return;
    if (Date.now() > deadline) throw new Error(`post-receive did not record the push of ${tip} within 10 s`);
    Atomics.wait(pause, 0, 0, 5);
  }
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
    const auditLog = join(dir, 'srv', 'state', 'audit', 'audit.log');
    const measure = (remote: string, round: number): { ms: number; cpuMs: number } => {
      for (let f = 0; f < 5; f++) writeFileSync(join(work, `file${f}.ts`), `export const v${f} = ${round};\n// round ${round} file ${f}\n`);
      git('add', '-A');
      git('commit', '--quiet', '-m', `round ${round}`);
      const result = measured('git', ['push', '--quiet', remote, 'HEAD:refs/heads/main'], { cwd: work });
      if (result.status !== 0) throw new Error(`push failed: ${result.stderr}`);
      // post-receive records the push in the background, after git push has returned: the next push waits for it.
      if (remote === guarded) waitForApplied(auditLog, git('rev-parse', 'HEAD').trim());
      return result;
    };
    measure(guarded, -2);
    measure(plain, -1);
    const withHook: { ms: number; cpuMs: number }[] = [];
    const without: { ms: number; cpuMs: number }[] = [];
    const nodeStart: number[] = [];
    // As the shims start the hooks (hook/deferred-ca.cts).
    const withoutExtraCa = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };
    for (let i = 0; i < runs; i++) {
      withHook.push(measure(guarded, i * 2));
      without.push(measure(plain, i * 2 + 1));
      nodeStart.push(measured(process.execPath, ['-e', '0'], { env: withoutExtraCa }).ms);
    }
    const w = median(withHook.map((r) => r.ms));
    const o = median(without.map((r) => r.ms));
    const wc = median(withHook.map((r) => r.cpuMs));
    const oc = median(without.map((r) => r.cpuMs));
    return { withHookMs: w, withoutHookMs: o, addedMs: w - o, withHookCpuMs: wc, withoutHookCpuMs: oc, addedCpuMs: wc - oc, nodeStartMs: median(nodeStart), runs };
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
  /** CPU time (user + system) of the hook and its git processes, and of `git log -p > /dev/null`; medians. */
  hookCpuMs: number;
  gitLogCpuMs: number;
  /** `pushgate scan --repo <server> base..tip`: the CLI over the same range (diff lines). */
  scanMs: number;
  decision: string;
  runs: number;
}

/**
 * The hook over a push of ≥ 100 MB of diff against `git log -p` of the same
 * range. The server repository holds the objects but not the ref, as during
 * a push; the hook runs as git runs it (stdin `<old> <new> <ref>`).
 */
export function benchLargePush(commits = 200, filesPerCommit = 5, linesPerFile = 1700, runs = 5): LargePushResult {
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
    const logRuns: { ms: number; cpuMs: number }[] = [];
    const pipedRuns: number[] = [];
    const hookRuns: { ms: number; cpuMs: number }[] = [];
    const scanRuns: number[] = [];
    let decision = '';
    for (let i = 0; i < runs; i++) {
      logRuns.push(measured('git', ['log', '-p', `${base}..${tip}`], { cwd: server }));
      pipedRuns.push(measured('sh', ['-c', `git log -p ${base}..${tip} | wc -c`], { cwd: server }).ms);
      const hook = measured(process.execPath, [PUSHGATE, 'hook', 'pre-receive', '--config', config], {
        cwd: server, input: `${base} ${tip} refs/heads/main\n`, env: { ...process.env, GIT_DIR: server },
      });
      decision = /"decision":"(\w+)"/.exec(hook.stderr)?.[1] ?? `exit ${hook.status}`;
      hookRuns.push(hook);
      const scan = measured(process.execPath, [PUSHGATE, 'scan', '--repo', server, '--format', 'json', `${base}..${tip}`], { cwd: server });
      if (scan.status !== 0 && scan.status !== 1) throw new Error(`pushgate scan failed: ${scan.stderr}`);
      scanRuns.push(scan.ms);
    }
    const hookMs = median(hookRuns.map((r) => r.ms));
    const gitLogMs = median(logRuns.map((r) => r.ms));
    const gitLogPipedMs = median(pipedRuns);
    return {
      diffBytes, commits, hookMs, gitLogMs, gitLogPipedMs, ratio: hookMs / gitLogMs, ratioPiped: hookMs / gitLogPipedMs,
      hookCpuMs: median(hookRuns.map((r) => r.cpuMs)), gitLogCpuMs: median(logRuns.map((r) => r.cpuMs)), scanMs: median(scanRuns), decision, runs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
