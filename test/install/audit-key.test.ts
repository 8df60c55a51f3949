/**
 * install.sh keys the audit chain of a new installation: it creates the
 * HMAC key (mode 0600, never replaced) and the config it writes names it.
 * An existing config without a key is kept, with a warning. Real install.sh
 * runs into temporary directories (npm ci from npm's cache or the registry).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ran, requireTool, runAsync, tempDir, type Ran } from '../helpers/tools.js';

requireTool('git', 'git');
requireTool('npm', 'npm');

const checkout = new URL('../../../', import.meta.url).pathname;
const installSh = join(checkout, 'install.sh');
const root = tempDir(t, 'pushgate-install-key-');
const prefix = join(root, 'opt');
const binDir = join(root, 'bin');
const stateDir = join(root, 'state');
const link = join(binDir, 'pushgate');

function install(configDir: string): Promise<Ran> {
  return runAsync('bash', [installSh, '--prefix', prefix, '--bin-dir', binDir, '--config-dir', configDir, '--state-dir', stateDir, '--no-systemd'], { env: process.env, timeoutMs: 240_000 });
}

function pushgate(args: string[]): Ran {
  return ran(spawnSync(link, args, { encoding: 'utf8', timeout: 60_000 }));
}

await t.test('a new installation: an HMAC key the config names', async (t) => {
  const configDir = join(root, 'etc');
  const installed = await install(configDir);
  t.equal(installed.status, 0, installed.stderr);
  const key = join(stateDir, 'audit.key');
  t.match(installed.stdout, `create the audit HMAC key ${key}`);
  t.equal(statSync(key).mode & 0o777, 0o600, 'the key is private');
  t.match(readFileSync(key, 'utf8'), /^[0-9a-f]{64}\n$/);
  const configFile = join(configDir, 'pushgate.yaml');
  t.match(readFileSync(configFile, 'utf8'), `  hmacKeyFile: ${key}\n`);
  const check = pushgate(['config', 'check', '--config', configFile]);
  t.equal(check.status, 0, check.stderr);
  t.equal(check.stderr, '', 'no warning about an unkeyed chain');

  const before = readFileSync(key, 'utf8');
  const again = await install(configDir);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, `unchanged: the audit HMAC key ${key} (a key is never replaced)`);
  t.equal(readFileSync(key, 'utf8'), before, 'the key is kept');
});

await t.test('an existing config without a key is kept, with a warning', async (t) => {
  const configDir = join(root, 'etc-old');
  mkdirSync(configDir);
  const configFile = join(configDir, 'pushgate.yaml');
  copyFileSync(join(checkout, 'config', 'pushgate.example.yaml'), configFile);
  const text = readFileSync(configFile, 'utf8').replace(/^stateDir: .*$/m, `stateDir: ${stateDir}`).replace(/^(  key: )ca$/m, `$1${stateDir}/ca`)
    .replace(/^(    - )ca\.pub$/m, `$1${stateDir}/ca.pub`).replace(/^(    - )host_ed25519$/m, `$1${stateDir}/host_ed25519`);
  t.match(text, /^  hmacKeyFile: null$/m);
  writeFileSync(configFile, text);
  const installed = await install(configDir);
  t.equal(installed.status, 0, installed.stderr);
  t.match(installed.stderr, /warning: audit\.hmacKeyFile is null: the audit log is a plain SHA-256 chain/);
  t.equal(readFileSync(configFile, 'utf8'), text, 'an existing config is never rewritten');
  t.ok(existsSync(join(stateDir, 'audit.key')), 'the key of the first installation is still there');
});
