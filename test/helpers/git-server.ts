import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { BLOCKING_LIMIT, pushgateBin, requireTool, run, tempDir } from './tools.js';

export interface Pushed {
  code: number;
  /** Everything git printed (the hook's lines arrive prefixed with `remote: `). */
  output: string;
  /** The parsed `pushgate-result:` line; undefined when the hook printed none. */
  result?: { decision: string; findings: { rule: string; action: string; mode: string; path?: string; line?: number; excerpt?: string; fingerprint?: string; note?: string; commit?: string }[]; [key: string]: unknown };
  /** How many `pushgate-result:` lines were printed. */
  resultLines: number;
}

function resultLines(output: string): string[] {
  return output.split('\n').map((l) => l.replace(/^remote: /, '').trimEnd()).filter((l) => l.startsWith('pushgate-result: '));
}

/** The last `pushgate-result:` line of what git printed (the hook's lines come as `remote: …`), parsed. */
export function pushgateResult(output: string): Pushed['result'] {
  const last = resultLines(output).at(-1);
  return last === undefined ? undefined : JSON.parse(last.slice('pushgate-result: '.length)) as Pushed['result'];
}

export interface TestServer {
  dir: string;
  configPath: string;
  reposRoot: string;
  /** Creates a bare repository with the hooks installed; returns its path. */
  createRepo(name: string): string;
  /** Edits the YAML config in place: `set(['policy', 'mode'], 'audit')`. */
  setConfig(path: (string | number)[], value: unknown): void;
}

export function pushgateCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [pushgateBin, ...args], { encoding: 'utf8', env: options.env ?? process.env, input: options.input, cwd: options.cwd, ...BLOCKING_LIMIT });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A server directory made by `pushgate init`, for hook tests. */
export function testServer(t: { teardown(fn: () => void): void }): TestServer {
  requireTool('git', 'git');
  const dir = tempDir(t, 'pushgate-server-');
  const init = pushgateCli(['init', '--dir', dir]);
  if (init.status !== 0) throw new Error(`pushgate init failed: ${init.stderr}`);
  const configPath = join(dir, 'pushgate.yaml');
  return {
    dir,
    configPath,
    reposRoot: join(dir, 'repos'),
    createRepo(name: string): string {
      const created = pushgateCli(['repo', 'create', name, '--config', configPath]);
      if (created.status !== 0) throw new Error(`pushgate repo create failed: ${created.stderr}`);
      return join(dir, 'repos', `${name}.git`);
    },
    setConfig(path, value): void {
      const doc = parseDocument(readFileSync(configPath, 'utf8'));
      doc.setIn(path, value);
      writeFileSync(configPath, doc.toString());
    },
  };
}

const GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Test Agent', GIT_AUTHOR_EMAIL: 'agent@example.test',
  GIT_COMMITTER_NAME: 'Test Agent', GIT_COMMITTER_EMAIL: 'agent@example.test',
};

/** A working clone to make commits in. */
export class WorkTree {
  constructor(readonly path: string) {}

  static clone(t: { teardown(fn: () => void): void }, remote: string): WorkTree {
    const path = join(tempDir(t, 'pushgate-work-'), 'work');
    run('git', ['clone', '--quiet', remote, path]);
    const tree = new WorkTree(path);
    tree.git('config', 'user.name', 'Test Agent');
    tree.git('config', 'user.email', 'agent@example.test');
    tree.git('checkout', '--quiet', '-B', 'main');
    return tree;
  }

  git(...args: string[]): string {
    return run('git', args, { cwd: this.path, env: { ...process.env, ...GIT_IDENTITY } });
  }

  write(file: string, content: string | Buffer): this {
    const path = join(this.path, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return this;
  }

  commit(message: string, files: Record<string, string | Buffer> = {}): string {
    for (const [file, content] of Object.entries(files)) this.write(file, content);
    this.git('add', '-A');
    this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  push(args: string[], env: NodeJS.ProcessEnv = {}): Pushed {
    const result = spawnSync('git', ['push', ...args], { cwd: this.path, encoding: 'utf8', env: { ...process.env, ...GIT_IDENTITY, ...env }, ...BLOCKING_LIMIT });
    const output = `${result.stdout}${result.stderr}`;
    const parsed = pushgateResult(output);
    return {
      code: result.status ?? -1,
      output,
      resultLines: resultLines(output).length,
      ...(parsed !== undefined ? { result: parsed } : {}),
    };
  }
}

/** The audit records of a server made by testServer (state/audit/audit.log), parsed; none before the first is written. */
export function auditRecords<T>(serverDir: string): T[] {
  const file = join(serverDir, 'state', 'audit', 'audit.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

/** Waits until an audit record satisfies `predicate` (records are written as events happen). */
export async function waitForAuditRecord<T>(serverDir: string, predicate: (record: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = auditRecords<T>(serverDir).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error('audit record not found in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
