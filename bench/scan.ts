import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measured, median, scratch } from './fixtures.js';
import { SecretScanner } from '../src/scan/index.js';

/**
 * Secret-scan throughput over ~50 MB of diff-like text generated at run time:
 * mostly ordinary code and configuration, some lines that mention secrets,
 * some encoded blobs, and a few real-looking credentials. Lines are fed one
 * at a time with their path, as the pre-receive hook does.
 */

const TARGET_BYTES = 50 * 1024 * 1024;
const LINES_PER_FILE = 300;

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const WORDS = [
  'user', 'account', 'order', 'item', 'request', 'response', 'config', 'handler', 'service', 'client', 'cache', 'query',
  'result', 'value', 'index', 'count', 'buffer', 'stream', 'event', 'message', 'payload', 'session', 'route', 'schema',
  'token', 'auth', 'password', 'key', 'secret', 'options', 'context', 'logger', 'metrics', 'retry', 'timeout', 'limit',
];
const PATHS = ['src/api/', 'src/components/', 'lib/', 'internal/server/', 'app/models/', 'config/', 'deploy/', 'test/', 'docs/'];
const EXTENSIONS = ['.ts', '.tsx', '.js', '.py', '.go', '.rb', '.java', '.yaml', '.json', '.md', '.sh', '.env'];

/** The benchmark's lines: path, text. */
export function generateLines(targetBytes: number): { lines: { path: string; text: string }[]; bytes: number } {
  const random = prng(42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const str = (length: number, alphabet = ALNUM): string => {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
    return out;
  };
  const word = (): string => pick(WORDS);
  const ident = (): string => word() + word()[0]!.toUpperCase() + word().slice(1);

  const templates: (() => string)[] = [
    () => `  const ${ident()} = await ${word()}.${ident()}(${word()}, { ${word()}: ${Math.floor(random() * 1000)} });`,
    () => `    if (${ident()}.length > ${Math.floor(random() * 100)} && !${word()}.${ident()}) return null;`,
    () => `import { ${ident()}, ${ident()} } from '../${word()}/${word()}.js';`,
    () => `  // ${word()} the ${word()} before we ${word()} the ${word()} (see #${Math.floor(random() * 9999)})`,
    () => `    "${word()}": "${word()}-${word()}-${Math.floor(random() * 100)}",`,
    () => `  ${word()}_${word()}: ${pick(['true', 'false', String(Math.floor(random() * 500)), `"${word()}"`])}`,
    () => `def ${word()}_${word()}(self, ${word()}: str, ${word()}: int = ${Math.floor(random() * 10)}) -> dict:`,
    () => `func (s *${ident()}) ${ident()}(ctx context.Context, ${word()} string) (*${ident()}, error) {`,
    () => `    return fmt.Errorf("${word()} ${word()}: %w", err)`,
    () => `      - name: ${word()}-${word()}\n        image: registry.corp.internal/${word()}:${Math.floor(random() * 20)}.${Math.floor(random() * 20)}`,
    () => `  ${word()}Token = getToken(${word()});`,
    () => `  password: \${{ secrets.${word().toUpperCase()}_PASSWORD }}`,
    () => `    "integrity": "sha512-${str(86, ALNUM + '+/')}==",`,
    () => `  commit ${str(40, '0123456789abcdef')} ${word()} ${word()}`,
    () => `const ${word()}Icon = "data:image/png;base64,${Buffer.from(str(60)).toString('base64')}";`,
    () => '',
    () => '}',
    () => `  <div className="${word()}-${word()}">{${word()}.${word()}}</div>`,
  ];

  // Roughly one credential per 20 000 lines, built from parts.
  const secrets: (() => string)[] = [
    () => `AWS_ACCESS_KEY_ID=${'AK' + 'IA'}${str(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`,
    () => `  slackToken: "${'xo' + 'xb-'}${str(12, '0123456789')}-${str(13, '0123456789')}-${str(24)}",`,
    () => `DATABASE_URL=postgres://app:${str(18)}@db.internal:5432/app`,
    () => `  api_key = "${str(32)}"`,
  ];

  const lines: { path: string; text: string }[] = [];
  let bytes = 0;
  let path = '';
  for (let n = 0; bytes < targetBytes; n++) {
    if (n % LINES_PER_FILE === 0) path = pick(PATHS) + word() + '_' + word() + pick(EXTENSIONS);
    const text = random() < 0.00005 ? pick(secrets)() : pick(templates)();
    lines.push({ path, text });
    bytes += Buffer.byteLength(text) + 1;
  }

  return { lines, bytes };
}

export async function benchScan(): Promise<{ mbPerSecond: number; bytes: number }> {
  const { lines, bytes } = generateLines(TARGET_BYTES);
  const scanner = new SecretScanner();
  let findings = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i++) findings += scanner.scanLine(lines[i]!.path, i + 1, lines[i]!.text).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (findings === 0) throw new Error('the benchmark corpus should contain findings');
  return { mbPerSecond: bytes / 1024 / 1024 / seconds, bytes };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { mbPerSecond, bytes } = await benchScan();
  console.log(`scan: ${(bytes / 1024 / 1024).toFixed(1)} MB at ${mbPerSecond.toFixed(1)} MB/s`);
}

const PUSHGATE = fileURLToPath(new URL('../../bin/pushgate.js', import.meta.url));

export interface ScanCliResult {
  bytes: number;
  files: number;
  planted: number;
  pushgateMs: number;
  secretlintMs: number;
  /** CPU time (user + system); medians. */
  pushgateCpuMs: number;
  secretlintCpuMs: number;
  pushgateFindings: number;
  secretlintFindings: number;
  secretlintVersion: string;
  runs: number;
}

/**
 * `pushgate scan --files` against secretlint (its recommended preset, the
 * configuration its documentation starts from) over the same files on disk:
 * the benchmark's generated code, configuration and planted credentials,
 * written out as the files they were generated for.
 */
export async function benchScanCli(runs = 3, targetBytes = 10 * 1024 * 1024): Promise<ScanCliResult> {
  const require = createRequire(import.meta.url);
  const secretlintBin = join(dirname(require.resolve('secretlint/package.json')), 'bin', 'secretlint.js');
  const secretlintVersion = (JSON.parse(readFileSync(require.resolve('secretlint/package.json'), 'utf8')) as { version: string }).version;
  const dir = scratch('scan-cli');
  try {
    const { lines, bytes } = generateLines(targetBytes);
    const byFile = new Map<string, string[]>();
    lines.forEach((line, index) => {
      // One file per generated path and block of lines, as the generator meant them.
      const path = `${line.path.replace(/(\.[a-z]+)$/, `_${Math.floor(index / LINES_PER_FILE)}$1`)}`;
      byFile.set(path, [...(byFile.get(path) ?? []), line.text]);
    });
    const root = join(dir, 'tree');
    for (const [path, text] of byFile) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), `${text.join('\n')}\n`);
    }
    const rc = join(dir, '.secretlintrc.json');
    writeFileSync(rc, JSON.stringify({ rules: [{ id: '@secretlint/secretlint-rule-preset-recommend' }] }));
    const planted = lines.filter((line) => /AKIA|xoxb-|postgres:\/\/app:|api_key = "/.test(line.text)).length;
    const pushgateRuns: { ms: number; cpuMs: number }[] = [];
    const secretlintRuns: { ms: number; cpuMs: number }[] = [];
    const pushgateArgs = [PUSHGATE, 'scan', '--format', 'json', '--files', 'tree'];
    // secretlint's JSON carries every file's content and is cut short on a pipe: counted from a file, timed with its compact format.
    const secretlintArgs = [secretlintBin, '--secretlintrc', rc, '--format', 'compact', 'tree/**/*'];
    const secretlintJson = join(dir, 'secretlint.json');
    const output = (args: string[]): string => {
      const run = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      if (run.status !== 0 && run.status !== 1) throw new Error(`${args[0]} failed (${run.status ?? run.signal}): ${run.stderr}`);
      return run.stdout;
    };
    const pushgateFindings = (JSON.parse(output(pushgateArgs)) as { findings: unknown[] }).findings.length;
    output([secretlintBin, '--secretlintrc', rc, '--format', 'json', '--output', secretlintJson, 'tree/**/*']);
    const secretlintFindings = (JSON.parse(readFileSync(secretlintJson, 'utf8')) as { messages: unknown[] }[]).reduce((n, file) => n + file.messages.length, 0);
    for (let i = 0; i < runs; i++) {
      const ours = measured(process.execPath, pushgateArgs, { cwd: dir });
      if (ours.status !== 0 && ours.status !== 1) throw new Error(`pushgate scan failed: ${ours.stderr}`);
      pushgateRuns.push(ours);
      const theirs = measured(process.execPath, secretlintArgs, { cwd: dir });
      if (theirs.status !== 0 && theirs.status !== 1) throw new Error(`secretlint failed: ${theirs.stderr}`);
      secretlintRuns.push(theirs);
    }
    return {
      bytes, files: byFile.size, planted, pushgateMs: median(pushgateRuns.map((r) => r.ms)), secretlintMs: median(secretlintRuns.map((r) => r.ms)),
      pushgateCpuMs: median(pushgateRuns.map((r) => r.cpuMs)), secretlintCpuMs: median(secretlintRuns.map((r) => r.cpuMs)), pushgateFindings, secretlintFindings, secretlintVersion, runs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
