/**
 * Upstream mode against the upstream itself: pushgate in front of an OpenSSH
 * sshd + git-shell upstream (a deploy key, as docs/upstream.md sets it up),
 * on loopback, against the same client talking to that sshd directly.
 *
 *  - clone: `git clone --bare` of a ≥ 150 MB repository through pushgate with
 *    a warm mirror (made before the runs by `pushgate upstream sync`) against
 *    the same clone straight from the upstream;
 *  - push: a one-commit, one-file push through pushgate (decide, forward to
 *    the upstream, apply to the mirror) against the same push straight to
 *    the upstream. Each side pushes to a branch of its own, so every measured
 *    push is a fast-forward of a ref that already exists.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { median, scratch, sh, timed, writeIncompressibleHistory } from './fixtures.js';
import { freePort, SSHD, stopChild, waitForStderr } from './sshd.js';

const PUSHGATE = fileURLToPath(new URL('../../bin/pushgate.js', import.meta.url));
const REPO = 'bench/big';
/** Bump when the generated content changes: the cache is keyed on it. */
const CONTENT_VERSION = 1;

export interface UpstreamBenchOptions {
  /** MiB of incompressible file content (default 160: a pack of about 168 MB). */
  megabytes?: number;
  runs?: number;
  /** The upstream's fetchInterval (default 5s, the config's default). */
  fetchInterval?: string;
  log?: (line: string) => void;
}

export interface PairTimes {
  pushgateMs: number;
  directMs: number;
  /** pushgate / direct */
  ratio: number;
  pushgate: number[];
  direct: number[];
}

export interface UpstreamBenchResult {
  packBytes: number;
  runs: number;
  clone: PairTimes;
  push: PairTimes;
  /** The upstream's fetchInterval in the run: a session older than it refreshes the mirror first. */
  fetchInterval: string;
  /** From pushgate's audit log, medians over the measured pushes: the hook from start to decision (forward included), and the forward alone. */
  pushParts: { hookMs: number; forwardMs: number };
}

/** Medians of `durationMs` of the last `count` audit records of each type, from every audit log under `dir`. */
function auditDurations(dir: string, count: number): { hookMs: number; forwardMs: number } {
  const byType = new Map<string, number[]>();
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('audit.log')) continue;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const record = JSON.parse(line) as { type?: string; durationMs?: number };
        if (typeof record.type === 'string' && typeof record.durationMs === 'number') byType.set(record.type, [...(byType.get(record.type) ?? []), record.durationMs]);
      } catch {
        // not a record
      }
    }
  }
  const last = (type: string): number => median((byType.get(type) ?? [NaN]).slice(-count));
  return { hookMs: last('push.decision'), forwardMs: last('upstream.forward') };
}

/**
 * The repository of `writeIncompressibleHistory`, cached under the system's
 * temp directory: the same content every time, so the cache needs no
 * checking beyond its marker.
 */
async function cachedSource(megabytes: number, log: (line: string) => void): Promise<string> {
  const cacheDir = join(tmpdir(), 'pushgate-bench-upstream-cache');
  const repo = join(cacheDir, `source-v${CONTENT_VERSION}-${megabytes}MiB.git`);
  const done = join(repo, 'pushgate-bench-complete');
  if (existsSync(done)) {
    log(`using the cached ${megabytes} MiB repository in ${repo}`);
    return repo;
  }
  log(`generating a ${megabytes} MiB repository of incompressible files into ${repo}`);
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  sh('git', ['init', '--quiet', '--bare', '--initial-branch=main', repo]);
  await writeIncompressibleHistory(repo, megabytes);
  // One pack, as a server that has run gc holds it.
  sh('git', ['repack', '-a', '-d', '-q', '--window=0'], { cwd: repo });
  writeFileSync(done, '');
  return repo;
}

function packBytes(repo: string): number {
  const line = sh('git', ['count-objects', '-v'], { cwd: repo }).split('\n').find((l) => l.startsWith('size-pack:'));
  return Number(line?.split(':')[1] ?? 0) * 1024;
}

/** OpenSSH sshd running git-shell for the keys in `authorized` (the upstream's approach in the upstream tests). */
async function startUpstreamSshd(dir: string, authorized: string[]): Promise<{ port: number; hostKey: string; stop(): Promise<void> }> {
  if (!existsSync(SSHD)) throw new Error(`the bench needs ${SSHD}: install it with \`apt-get install -y openssh-server\``);
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mkdirSync(dir, { recursive: true });
  const hostKey = join(dir, 'host_ed25519');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-upstream', '-f', hostKey]);
  const keys = join(dir, 'authorized_keys');
  writeFileSync(keys, authorized.map((pub) => `restrict ${pub.trim()}\n`).join(''));
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${keys}`, `PidFile ${join(dir, 'sshd.pid')}`,
    'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
    'ForceCommand git-shell -c "$SSH_ORIGINAL_COMMAND"', 'AcceptEnv GIT_PROTOCOL', 'PermitUserEnvironment no', '',
  ].join('\n'));
  const checked = spawnSync(SSHD, ['-t', '-f', config], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`sshd -t: ${checked.stderr}`);
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitForStderr(child, new RegExp(`Server listening on 127\\.0\\.0\\.1 port ${port}`), 'upstream sshd');
  return { port, hostKey: readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' '), stop: () => stopChild(child) };
}

function summary(pushgate: number[], direct: number[]): PairTimes {
  const pushgateMs = median(pushgate);
  const directMs = median(direct);
  return { pushgateMs, directMs, ratio: pushgateMs / directMs, pushgate, direct };
}

export async function benchUpstream(options: UpstreamBenchOptions = {}): Promise<UpstreamBenchResult> {
  const megabytes = options.megabytes ?? 160;
  const runs = options.runs ?? 5;
  const log = options.log ?? (() => {});
  const source = await cachedSource(megabytes, log);
  const dir = scratch('upstream');
  const stops: Array<() => Promise<void>> = [];
  try {
    const user = userInfo().username;
    // The upstream's storage: the cached repository, hard-linked.
    const upstreamRoot = join(dir, 'upstream-repos');
    const upstreamRepo = join(upstreamRoot, `${REPO}.git`);
    sh('git', ['clone', '--quiet', '--bare', '--local', source, upstreamRepo]);
    rmSync(join(upstreamRepo, 'pushgate-bench-complete'), { force: true });

    const keys = join(dir, 'keys');
    mkdirSync(keys, { recursive: true });
    const deployKey = join(keys, 'deploy');
    const developerKey = join(keys, 'developer');
    const agentKey = join(keys, 'agent');
    for (const key of [deployKey, developerKey, agentKey]) sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', key]);
    chmodSync(deployKey, 0o600);
    const upstream = await startUpstreamSshd(join(dir, 'sshd'), [readFileSync(`${deployKey}.pub`, 'utf8'), readFileSync(`${developerKey}.pub`, 'utf8')]);
    stops.push(upstream.stop);
    const upstreamKnownHosts = join(keys, 'upstream_known_hosts');
    writeFileSync(upstreamKnownHosts, `[127.0.0.1]:${upstream.port} ${upstream.hostKey}\n`);

    // pushgate from `pushgate init` defaults, with the upstream added as docs/upstream.md shows.
    const srv = join(dir, 'pushgate');
    sh(process.execPath, [PUSHGATE, 'init', '--dir', srv, '--ssh-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0']);
    const configPath = join(srv, 'pushgate.yaml');
    const doc = parseDocument(readFileSync(configPath, 'utf8'));
    const fetchInterval = options.fetchInterval ?? '5s';
    doc.setIn(['upstreams'], doc.createNode([{
      name: 'bench', repositories: 'bench/**', url: `ssh://${user}@127.0.0.1:${upstream.port}${upstreamRoot}/{repo}.git`,
      sshKeyFile: deployKey, knownHostsFile: upstreamKnownHosts, fetchInterval,
    }]));
    writeFileSync(configPath, doc.toString());
    log('creating the mirror (pushgate upstream sync)');
    sh(process.execPath, [PUSHGATE, 'upstream', 'sync', REPO, '--config', configPath]);
    const child: ChildProcess = spawn(process.execPath, [PUSHGATE, 'serve', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    const match = await waitForStderr(child, /pushgate: listening ssh=127\.0\.0\.1:(\d+)/, 'pushgate serve');
    stops.push(() => stopChild(child));
    const gatewayPort = Number(match[1]);
    const gatewayHostKey = readFileSync(join(srv, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    sh('ssh-keygen', ['-q', '-s', join(srv, 'ca'), '-I', 'bench', '-n', 'bench', '-V', '+4h', '-O', 'extension:roles@pushgate=agent', `${agentKey}.pub`]);

    const clientKnownHosts = join(keys, 'client_known_hosts');
    writeFileSync(clientKnownHosts, `[127.0.0.1]:${gatewayPort} ${gatewayHostKey}\n[127.0.0.1]:${upstream.port} ${upstream.hostKey}\n`);
    const ssh = (identity: string[]): string => ['ssh', '-F', '/dev/null', '-o', 'IdentitiesOnly=yes', ...identity,
      '-o', `UserKnownHostsFile=${clientKnownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR'].join(' ');
    const committer = { GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.test' };
    const sides = {
      pushgate: {
        url: `ssh://git@127.0.0.1:${gatewayPort}/${REPO}.git`,
        env: { ...process.env, ...committer, GIT_SSH_COMMAND: ssh(['-o', `IdentityFile=${agentKey}`, '-o', `CertificateFile=${agentKey}-cert.pub`]) },
        branch: 'bench/through-pushgate',
      },
      direct: {
        url: `ssh://${user}@127.0.0.1:${upstream.port}${upstreamRepo}`,
        env: { ...process.env, ...committer, GIT_SSH_COMMAND: ssh(['-o', `IdentityFile=${developerKey}`]) },
        branch: 'bench/direct',
      },
    };
    type Side = keyof typeof sides;
    const git = (side: Side, args: string[], cwd?: string): string => {
      const result = spawnSync('git', args, { cwd, env: sides[side].env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`git ${args.join(' ')} (${side}) failed: ${result.stdout}${result.stderr}`);
      return result.stdout;
    };
    let round = 0;
    const clone = (side: Side): number => {
      const target = join(dir, `clone-${++round}`);
      try {
        return timed(() => git(side, ['clone', '--quiet', '--bare', sides[side].url, target]));
      } finally {
        rmSync(target, { recursive: true, force: true });
      }
    };
    // A work tree per side without a checkout of the 160 MiB: a sparse, blob-less clone of main's history only.
    const work = (side: Side): string => {
      const path = join(dir, `work-${side}`);
      git(side, ['clone', '--quiet', '--no-checkout', '--depth', '1', '--branch', 'main', sides[side].url, path]);
      // The index from HEAD without writing the files: a commit then changes only what it adds.
      git(side, ['read-tree', 'HEAD'], path);
      git(side, ['switch', '--quiet', '-c', sides[side].branch], path);
      return path;
    };
    const push = (side: Side, path: string): number => {
      writeFileSync(join(path, 'bench-push.txt'), `push ${++round}\n`);
      git(side, ['add', 'bench-push.txt'], path);
      git(side, ['commit', '--quiet', '-m', `bench push ${round}`], path);
      return timed(() => git(side, ['push', '--quiet', 'origin', `HEAD:refs/heads/${sides[side].branch}`], path));
    };

    // Warm the page cache, both servers and the mirror once; create each side's branch.
    clone('pushgate');
    clone('direct');
    const trees = { pushgate: work('pushgate'), direct: work('direct') };
    push('pushgate', trees.pushgate);
    push('direct', trees.direct);
    const times = { clone: { pushgate: [] as number[], direct: [] as number[] }, push: { pushgate: [] as number[], direct: [] as number[] } };
    for (let i = 0; i < runs; i++) {
      const order: Side[] = i % 2 === 0 ? ['pushgate', 'direct'] : ['direct', 'pushgate'];
      for (const side of order) times.clone[side].push(clone(side));
      for (const side of order) times.push[side].push(push(side, trees[side]));
      log(`run ${i + 1}: clone pushgate ${times.clone.pushgate.at(-1)!.toFixed(0)} ms, direct ${times.clone.direct.at(-1)!.toFixed(0)} ms; push pushgate ${times.push.pushgate.at(-1)!.toFixed(0)} ms, direct ${times.push.direct.at(-1)!.toFixed(0)} ms`);
    }
    // What went through pushgate is upstream, with the same ids.
    const tip = git('pushgate', ['rev-parse', 'HEAD'], trees.pushgate).trim();
    const upstreamTip = sh('git', ['--git-dir', upstreamRepo, 'rev-parse', `refs/heads/${sides.pushgate.branch}`]).trim();
    if (tip !== upstreamTip) throw new Error(`the pushes through pushgate did not land upstream: ${tip} here, ${upstreamTip} upstream`);
    return {
      packBytes: packBytes(upstreamRepo),
      runs,
      clone: summary(times.clone.pushgate, times.clone.direct),
      push: summary(times.push.pushgate, times.push.direct),
      fetchInterval,
      pushParts: auditDurations(srv, runs),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `node build/bench/upstream.js [MiB] [runs] [fetchInterval]`: the upstream comparison alone. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [megabytes, runs] = process.argv.slice(2, 4).map(Number);
  const fetchInterval = process.argv[4];
  benchUpstream({ log: (line) => process.stderr.write(`${line}\n`), ...(megabytes ? { megabytes } : {}), ...(runs ? { runs } : {}), ...(fetchInterval ? { fetchInterval } : {}) }).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
