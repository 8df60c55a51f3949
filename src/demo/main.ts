import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../cli/main.js';
import { formatPublicKeyLine, generatePrivateKey } from '../sshcert/index.js';

/**
 * `npm start`: a walk through what pushgate does today, on embedded defaults,
 * in a scratch directory. Each step runs the real CLI.
 */
async function step(title: string, argv: string[]): Promise<number> {
  process.stdout.write(`\n== ${title}\n$ pushgate ${argv.join(' ')}\n`);
  const code = await main(['node', 'pushgate', ...argv]);
  process.stdout.write(`(exit ${code})\n`);
  return code;
}

async function demo(): Promise<number> {
  const base = resolve(process.argv[2] ?? '.pushgate-dev');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'run-'));
  const agentKey = generatePrivateKey('ed25519', { comment: 'agent' });
  writeFileSync(join(dir, 'agent.pub'), `${formatPublicKeyLine(agentKey.publicKey, 'agent')}\n`);
  const ca = join(dir, 'ca');
  const cert = join(dir, 'agent-cert.pub');
  const results = [
    await step('create a certificate authority', ['ca', 'init', '--key', ca]),
    await step('issue a 10-minute certificate to an agent', ['ca', 'sign', '--ca', ca, '--principal', 'agent-7', '--role', 'agent', '--ttl', '10m', '--out', cert, join(dir, 'agent.pub')]),
    await step('inspect it', ['cert', 'inspect', cert]),
    await step('verify it as the gateway will', ['cert', 'verify', cert, '--ca', `${ca}.pub`, '--principal', 'agent-7']),
    await step('the same certificate an hour later is refused', ['cert', 'verify', cert, '--ca', `${ca}.pub`, '--at', new Date(Date.now() + 3_600_000).toISOString()]),
  ];
  process.stdout.write(`\nFiles are in ${dir}\n`);
  const expected = [0, 0, 0, 0, 1];
  return results.every((code, i) => code === expected[i]) ? 0 : 1;
}

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
