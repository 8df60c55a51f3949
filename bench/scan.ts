import { pathToFileURL } from 'node:url';
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

export async function benchScan(): Promise<{ mbPerSecond: number; bytes: number }> {
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
  for (let n = 0; bytes < TARGET_BYTES; n++) {
    if (n % LINES_PER_FILE === 0) path = pick(PATHS) + word() + '_' + word() + pick(EXTENSIONS);
    const text = random() < 0.00005 ? pick(secrets)() : pick(templates)();
    lines.push({ path, text });
    bytes += Buffer.byteLength(text) + 1;
  }

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
