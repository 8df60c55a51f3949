import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { tempDir } from '../helpers/tools.js';
import { KEY_KINDS, keygen, pushgate, sshKeygen } from './fixtures.js';

const [ed25519, , , , rsa] = KEY_KINDS as [typeof KEY_KINDS[0], typeof KEY_KINDS[0], typeof KEY_KINDS[0], typeof KEY_KINDS[0], typeof KEY_KINDS[0]];
const dir = tempDir(t);
const ca = keygen(dir, 'ca', ed25519);
const otherCa = keygen(dir, 'other-ca', ed25519);
const rsaCa = keygen(dir, 'rsa-ca', rsa);
let counter = 0;

/** Signs a fresh user key with ssh-keygen and returns the certificate path. */
function sign(args: string[], signer = ca): string {
  const user = keygen(dir, `user${counter++}`, ed25519);
  sshKeygen(['-q', '-s', signer, '-I', 'test-id', '-z', '9', ...args, `${user}.pub`]);
  return `${user}-cert.pub`;
}

function expectRefused(t: Test, cert: string, code: string, extra: string[] = [], caPub = `${ca}.pub`): void {
  const result = pushgate(['cert', 'verify', cert, '--ca', caPub, ...extra]);
  t.equal(result.status, 1, `${code}: exit 1 (stderr: ${result.stderr.trim()})`);
  t.match(result.stderr, new RegExp(`${code.replace('.', '\\.')}: `), `${code}: reason on stderr`);
}

t.test('a valid certificate verifies', async (t) => {
  const cert = sign(['-n', 'alice', '-V', '+5m']);
  const result = pushgate(['cert', 'verify', cert, '--ca', `${ca}.pub`, '--principal', 'alice']);
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, /valid for alice/);
});

t.test('expired', async (t) => expectRefused(t, sign(['-n', 'alice', '-V', '20200101:20200102']), 'cert.expired'));
t.test('not yet valid', async (t) => expectRefused(t, sign(['-n', 'alice', '-V', '+1d:+2d']), 'cert.not-yet-valid'));
t.test('--at moves the clock', async (t) => {
  const cert = sign(['-n', 'alice', '-V', '20200101:20200102']);
  t.equal(pushgate(['cert', 'verify', cert, '--ca', `${ca}.pub`, '--at', '2020-01-01T12:00:00Z']).status, 0);
});
t.test('skew tolerates a certificate that starts slightly in the future', async (t) => {
  const cert = sign(['-n', 'alice', '-V', '+1m:+10m']);
  const start = new Date(Date.now() + 60_000 - 20_000).toISOString();
  expectRefused(t, cert, 'cert.not-yet-valid', ['--at', start]);
  t.equal(pushgate(['cert', 'verify', cert, '--ca', `${ca}.pub`, '--at', start, '--skew', '120']).status, 0);
});
t.test('another principal', async (t) => expectRefused(t, sign(['-n', 'alice,bob', '-V', '+5m']), 'cert.principal', ['--principal', 'mallory']));
t.test('no principals at all', async (t) => expectRefused(t, sign(['-V', '+5m']), 'cert.principal'));
t.test('untrusted CA', async (t) => expectRefused(t, sign(['-n', 'alice', '-V', '+5m'], otherCa), 'cert.untrusted-ca'));
t.test('host certificate', async (t) => expectRefused(t, sign(['-h', '-n', 'alice', '-V', '+5m']), 'cert.type'));
t.test('unknown critical option', async (t) =>
  expectRefused(t, sign(['-n', 'alice', '-V', '+5m', '-O', 'critical:must-understand@example.com=yes']), 'cert.critical-option'));
t.test('verify-required is not understood for these keys', async (t) =>
  expectRefused(t, sign(['-n', 'alice', '-V', '+5m', '-O', 'verify-required']), 'cert.critical-option'));
t.test('source-address', async (t) => {
  const cert = sign(['-n', 'alice', '-V', '+5m', '-O', 'source-address=10.0.0.0/8,192.0.2.7']);
  expectRefused(t, cert, 'cert.source-address', ['--source-address', '192.168.1.1']);
  expectRefused(t, cert, 'cert.source-address');
  t.equal(pushgate(['cert', 'verify', cert, '--ca', `${ca}.pub`, '--source-address', '::ffff:192.0.2.7']).status, 0, 'IPv4-mapped address matches');
});
t.test('ssh-rsa (SHA-1) CA signature', async (t) =>
  expectRefused(t, sign(['-t', 'ssh-rsa', '-n', 'alice', '-V', '+5m'], rsaCa), 'cert.weak-algorithm', [], `${rsaCa}.pub`));
t.test('rsa-sha2-256 CA signature is accepted', async (t) => {
  const cert = sign(['-t', 'rsa-sha2-256', '-n', 'alice', '-V', '+5m'], rsaCa);
  t.equal(pushgate(['cert', 'verify', cert, '--ca', `${rsaCa}.pub`]).status, 0);
});
t.test('not a certificate, or garbage', async (t) => {
  expectRefused(t, `${ca}.pub`, 'cert.malformed');
  const garbage = join(dir, 'garbage-cert.pub');
  writeFileSync(garbage, 'ssh-ed25519-cert-v01@openssh.com AAAA!!!! x\n');
  expectRefused(t, garbage, 'cert.malformed');
  writeFileSync(garbage, '');
  expectRefused(t, garbage, 'cert.malformed');
});
t.test('could not run: exit 2', async (t) => {
  const cert = sign(['-n', 'alice', '-V', '+5m']);
  const missing = pushgate(['cert', 'verify', join(dir, 'nope'), '--ca', `${ca}.pub`]);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /no such file/);
  t.equal(pushgate(['cert', 'verify', cert, '--ca', join(dir, 'nope.pub')]).status, 2);
  t.equal(pushgate(['cert', 'verify', cert, '--ca', `${ca}.pub`, '--at', 'yesterday']).status, 2);
  t.equal(pushgate(['cert', 'verify', cert]).status, 2, 'missing --ca');
});

t.test('revoked by a KRL that ssh-keygen -k made: serials, ranges, key ids, keys', async (t) => {
  const bySerial = sign(['-n', 'alice', '-V', '+5m', '-z', '17']);
  const byRange = sign(['-n', 'alice', '-V', '+5m', '-z', '150']);
  const byId = sign(['-n', 'alice', '-V', '+5m', '-z', '1', '-I', 'leaked-laptop']);
  const byKey = sign(['-n', 'alice', '-V', '+5m', '-z', '2']);
  const notRevoked = sign(['-n', 'alice', '-V', '+5m', '-z', '3']);
  const spec = join(dir, 'krl.spec');
  writeFileSync(spec, ['serial: 17', 'serial: 100-200', 'id: leaked-laptop', `key: ${readFileSync(byKey.replace('-cert.pub', '.pub'), 'utf8').trim()}`].join('\n'));
  const krl = join(dir, 'revoked.krl');
  sshKeygen(['-q', '-k', '-f', krl, '-s', `${ca}.pub`, spec]);
  for (const cert of [bySerial, byRange, byId, byKey]) expectRefused(t, cert, 'cert.revoked', ['--krl', krl]);
  t.equal(pushgate(['cert', 'verify', notRevoked, '--ca', `${ca}.pub`, '--krl', krl]).status, 0, 'a certificate the KRL does not name is valid');
  const broken = join(dir, 'broken.krl');
  writeFileSync(broken, 'not a krl');
  const result = pushgate(['cert', 'verify', notRevoked, '--ca', `${ca}.pub`, '--krl', broken]);
  t.equal(result.status, 2, 'an unreadable KRL means the check could not run');
  t.match(result.stderr, /KRL/);
});
