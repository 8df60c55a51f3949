import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, scratch, sh, timed, writeIncompressibleHistory } from './fixtures.js';
import { startBenchSshd, stopChild, waitForStderr, type BenchServer } from './sshd.js';

const PUSHGATE = fileURLToPath(new URL('../../bin/pushgate.js', import.meta.url));

export interface TransportTimes {
  gatewayMs: number;
  sshdMs: number;
  /** gateway / sshd */
  ratio: number;
}

export interface TransportVariant {
  /** The cipher forced on the client, or undefined when client and server negotiate. */
  forced: string | undefined;
  /** The cipher each server ended up with for the OpenSSH client. */
  cipher: { gateway: string; sshd: string };
  clone: TransportTimes;
  push: TransportTimes;
}

export interface TransportResult {
  /** size-pack of the generated repository. */
  packBytes: number;
  runs: number;
  variants: TransportVariant[];
  machine: { nproc: number; node: string; git: string; openssh: string };
}

export interface TransportOptions {
  /** Size of the generated repository in MiB of random file content. */
  megabytes?: number;
  runs?: number;
  /** One comparison per entry: undefined lets client and server negotiate, a name forces it on the client (`-c`). */
  ciphers?: Array<string | undefined>;
  log?: (line: string) => void;
}

/** A repository of incompressible files, so its pack is as large as its content (`writeIncompressibleHistory`). */
export async function generateRandomRepo(dir: string, megabytes: number): Promise<string> {
  const repo = join(dir, 'source');
  sh('git', ['init', '--quiet', '--initial-branch=main', repo]);
  await writeIncompressibleHistory(repo, megabytes);
  return repo;
}

function packBytes(repo: string): number {
  const line = sh('git', ['count-objects', '-v'], { cwd: repo }).split('\n').find((l) => l.startsWith('size-pack:'));
  return Number(line?.split(':')[1] ?? 0) * 1024;
}

function toolVersion(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
}

interface Gateway extends BenchServer {
  reposRoot: string;
  caKey: string;
  caPub: string;
}

async function startGateway(dir: string): Promise<Gateway> {
  const srv = join(dir, 'pushgate');
  sh(process.execPath, [PUSHGATE, 'init', '--dir', srv, '--ssh-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0']);
  const config = join(srv, 'pushgate.yaml');
  const child = spawn(process.execPath, [PUSHGATE, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const match = await waitForStderr(child, /pushgate: listening ssh=127\.0\.0\.1:(\d+)/, 'pushgate serve');
  return {
    port: Number(match[1]),
    hostKey: readFileSync(join(srv, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' '),
    stop: () => stopChild(child),
    reposRoot: join(srv, 'repos'),
    caKey: join(srv, 'ca'),
    caPub: join(srv, 'ca.pub'),
  };
}

function summary(pair: { gateway: number[]; sshd: number[] }): TransportTimes {
  const gatewayMs = median(pair.gateway);
  const sshdMs = median(pair.sshd);
  return { gatewayMs, sshdMs, ratio: gatewayMs / sshdMs };
}

/** The cipher OpenSSH reports having negotiated for one command. */
function negotiatedCipher(sshArgs: string[], target: string, command: string): string {
  const verbose = sshArgs.map((a) => (a === 'LogLevel=ERROR' ? 'LogLevel=DEBUG1' : a));
  const result = spawnSync('ssh', [...verbose, target, command], { input: '0000', encoding: 'utf8' });
  return /kex: server->client cipher: (\S+)/.exec(result.stderr)?.[1] ?? 'unknown';
}

/**
 * `git clone` (bare, so no checkout) and `git push` of the whole history to
 * an empty repository, through `pushgate serve` and through OpenSSH sshd
 * running git directly, with the same client, key and certificate. The
 * repositories have no hooks: this measures the transport.
 */
export async function benchTransport(options: TransportOptions = {}): Promise<TransportResult> {
  const megabytes = options.megabytes ?? 160;
  const runs = options.runs ?? 3;
  const log = options.log ?? (() => {});
  const dir = scratch('transport');
  const servers: BenchServer[] = [];
  try {
    log(`generating a ${megabytes} MiB repository of random files`);
    const source = await generateRandomRepo(dir, megabytes);
    const gateway = await startGateway(dir);
    servers.push(gateway);
    const sshd = await startBenchSshd(join(dir, 'sshd'), gateway.caPub);
    servers.push(sshd);
    const user = userInfo().username;
    sh('git', ['clone', '--quiet', '--bare', '--no-local', source, join(gateway.reposRoot, 'bench', 'source.git')]);

    const key = join(dir, 'client');
    sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', key]);
    // Principal `bench` for the gateway (login git), the Unix user's name for sshd.
    sh('ssh-keygen', ['-q', '-s', gateway.caKey, '-I', 'bench', '-n', `bench,${user}`, '-V', '+4h', '-O', 'extension:roles@pushgate=agent', `${key}.pub`]);
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${gateway.port} ${gateway.hostKey}\n[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`);
    const baseArgs = [
      '-F', '/dev/null', '-o', 'IdentitiesOnly=yes', '-o', `IdentityFile=${key}`, '-o', `CertificateFile=${key}-cert.pub`,
      '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR',
    ];
    const sides = {
      gateway: { url: (repo: string) => `ssh://git@127.0.0.1:${gateway.port}/${repo}`, port: gateway.port, target: 'git@127.0.0.1', path: (repo: string) => repo },
      sshd: { url: (repo: string) => `ssh://${user}@127.0.0.1:${sshd.port}${join(gateway.reposRoot, repo)}`, port: sshd.port, target: `${user}@127.0.0.1`, path: (repo: string) => join(gateway.reposRoot, repo) },
    };
    type Side = keyof typeof sides;
    let round = 0;

    const variants: TransportVariant[] = [];
    for (const forced of options.ciphers ?? [undefined, 'aes128-gcm@openssh.com']) {
      const sshArgs = [...baseArgs, ...(forced !== undefined ? ['-c', forced] : [])];
      const env = { ...process.env, GIT_SSH_COMMAND: ['ssh', ...sshArgs].join(' ') };
      const cipherOf = (side: Side): string => negotiatedCipher([...sshArgs, '-p', String(sides[side].port)], sides[side].target, `git-upload-pack '${sides[side].path('bench/source.git')}'`);
      const cipher = { gateway: cipherOf('gateway'), sshd: cipherOf('sshd') };
      log(`ciphers${forced !== undefined ? ` (forced ${forced})` : ' (negotiated)'}: gateway ${cipher.gateway}, sshd ${cipher.sshd}`);
      const git = (args: string[], cwd?: string): void => {
        const result = spawnSync('git', args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
      };
      const clone = (side: Side): number => {
        const target = join(dir, `clone-${++round}`);
        try {
          return timed(() => git(['clone', '--quiet', '--bare', sides[side].url('bench/source.git'), target]));
        } finally {
          rmSync(target, { recursive: true, force: true });
        }
      };
      const push = (side: Side): number => {
        const name = `bench/push-${++round}.git`;
        const target = join(gateway.reposRoot, name);
        sh('git', ['init', '--quiet', '--bare', '--initial-branch=main', target]);
        try {
          // No delta search over random content on the client: it costs the same on both sides and is not transport.
          return timed(() => git(['-c', 'pack.window=0', 'push', '--quiet', sides[side].url(name), 'main:refs/heads/main'], source));
        } finally {
          rmSync(target, { recursive: true, force: true });
        }
      };

      // Warm the page cache and both servers once.
      clone('gateway');
      clone('sshd');
      const times = { clone: { gateway: [] as number[], sshd: [] as number[] }, push: { gateway: [] as number[], sshd: [] as number[] } };
      for (let i = 0; i < runs; i++) {
        const order: Side[] = i % 2 === 0 ? ['gateway', 'sshd'] : ['sshd', 'gateway'];
        for (const side of order) times.clone[side].push(clone(side));
        for (const side of order) times.push[side].push(push(side));
        log(`run ${i + 1}: clone gateway ${times.clone.gateway.at(-1)!.toFixed(0)} ms, sshd ${times.clone.sshd.at(-1)!.toFixed(0)} ms; push gateway ${times.push.gateway.at(-1)!.toFixed(0)} ms, sshd ${times.push.sshd.at(-1)!.toFixed(0)} ms`);
      }
      variants.push({ forced, cipher, clone: summary(times.clone), push: summary(times.push) });
    }
    return {
      packBytes: packBytes(join(gateway.reposRoot, 'bench', 'source.git')),
      runs,
      variants,
      machine: {
        nproc: availableParallelism(),
        node: process.version,
        git: toolVersion('git', ['--version']),
        openssh: toolVersion('ssh', ['-V']),
      },
    };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `node build/bench/gateway.js [MiB] [runs]`: the transport comparison alone. */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [megabytes, runs] = process.argv.slice(2).map(Number);
  benchTransport({ log: (line) => process.stderr.write(`${line}\n`), ...(megabytes ? { megabytes } : {}), ...(runs ? { runs } : {}) }).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
