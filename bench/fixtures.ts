import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A scratch directory for one benchmark run. */
export function scratch(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pushgate-bench-${prefix}-`));
}

export function sh(command: string, args: string[], options: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, args, { cwd: options.cwd, input: options.input, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Deterministic pseudo-random source so every run builds the same repository. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const WORDS = ['const', 'let', 'return', 'function', 'value', 'result', 'config', 'request', 'response', 'user', 'items', 'index', 'await', 'async', 'export', 'import', 'from', 'string', 'number', 'map', 'filter', 'error', 'throw', 'new', 'this', 'data', 'options', 'path', 'file', 'buffer'];

/** Code-like text: `lines` lines of identifiers, operators and literals. */
export function codeText(lines: number, random: () => number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 4 + Math.floor(random() * 8);
    const words: string[] = [];
    for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
    out.push(`  ${words.join(' ')} = ${Math.floor(random() * 100000)}; // ${words[0]} ${i}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * Builds a repository with `git fast-import`: a base commit on main, then
 * `commits` commits on top, each adding/modifying `filesPerCommit` files of
 * `linesPerFile` lines. Returns the work repo and the base and tip ids.
 */
export function generateHistory(dir: string, commits: number, filesPerCommit: number, linesPerFile: number): { repo: string; base: string; tip: string } {
  const repo = join(dir, 'source');
  sh('git', ['init', '--quiet', '--initial-branch=main', repo]);
  const random = lcg(42);
  const chunks: string[] = [];
  let mark = 1;
  const commit = (message: string, files: [string, string][], parent: boolean): void => {
    const blobMarks: [string, number][] = [];
    for (const [path, content] of files) {
      chunks.push(`blob\nmark :${mark}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
      blobMarks.push([path, mark++]);
    }
    chunks.push(`commit refs/heads/main\nmark :${mark++}\ncommitter Bench <bench@example.test> 1700000000 +0000\ndata ${message.length}\n${message}\n`);
    if (!parent) chunks.push('');
    for (const [path, m] of blobMarks) chunks.push(`M 100644 :${m} ${path}\n`);
    chunks.push('\n');
  };
  commit('base', [['README.md', 'bench\n']], false);
  sh('git', ['fast-import', '--quiet'], { cwd: repo, input: chunks.join('') });
  const base = sh('git', ['rev-parse', 'main'], { cwd: repo }).trim();
  chunks.length = 0;
  for (let c = 0; c < commits; c++) {
    const files: [string, string][] = [];
    for (let f = 0; f < filesPerCommit; f++) files.push([`src/m${c % 50}/f${f}.ts`, codeText(linesPerFile, random)]);
    commit(`change ${c}`, files, true);
  }
  sh('git', ['fast-import', '--quiet'], { cwd: repo, input: `reset refs/heads/main\nfrom ${base}\n\n${chunks.join('')}` });
  const tip = sh('git', ['rev-parse', 'main'], { cwd: repo }).trim();
  return { repo, base, tip };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function timed(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export interface Measured {
  ms: number;
  /** User + system CPU time of the command and of every process it waited for. */
  cpuMs: number;
  status: number | null;
  stderr: string;
}

/**
 * Runs a command under `sh` and reports its wall time and, from the shell's
 * `times`, the CPU time of the command and its waited-for descendants: less
 * sensitive than wall time to other work on a shared machine. The command's
 * own standard output is not kept.
 */
export function measured(command: string, args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Measured {
  const start = process.hrtime.bigint();
  const result = spawnSync('sh', ['-c', '"$@" >/dev/null; status=$?; times; exit $status', 'sh', command, ...args], {
    cwd: options.cwd, input: options.input, env: options.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const children = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  const [user = 0, system = 0] = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
  return { ms, cpuMs: user + system, status: result.status, stderr: result.stderr };
}

const MIB = 1024 * 1024;

/**
 * `megabytes` files of 1 MiB, 8 per commit on main, written into `repo` with
 * `git fast-import`: deterministic but incompressible content (the AES-128-CTR
 * keystream under a fixed key, one IV per file), so every run builds the same
 * repository and its pack is as large as its content.
 */
export async function writeIncompressibleHistory(repo: string, megabytes: number): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: repo, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const write = (chunk: string | Buffer): Promise<void> => new Promise((resolve) => {
    if (child.stdin.write(chunk)) resolve();
    else child.stdin.once('drain', resolve);
  });
  const key = Buffer.alloc(16, 0x42);
  const zeros = Buffer.alloc(MIB);
  const perCommit = 8;
  let mark = 1;
  for (let c = 0; c * perCommit < megabytes; c++) {
    const files: Array<[string, number]> = [];
    for (let f = 0; f < perCommit && c * perCommit + f < megabytes; f++) {
      const iv = Buffer.alloc(16);
      iv.writeUInt32BE(c * perCommit + f, 0);
      await write(`blob\nmark :${mark}\ndata ${MIB}\n`);
      await write(createCipheriv('aes-128-ctr', key, iv).update(zeros));
      await write('\n');
      files.push([`data/c${c}/f${f}.bin`, mark++]);
    }
    const message = `commit ${c}`;
    await write(`commit refs/heads/main\nmark :${mark++}\ncommitter Bench <bench@example.test> ${1700000000 + c} +0000\ndata ${message.length}\n${message}\n`);
    await write(files.map(([path, m]) => `M 100644 :${m} ${path}\n`).join('') + '\n');
  }
  child.stdin.end();
  if ((await exited) !== 0) throw new Error(`git fast-import failed: ${stderr}`);
}
