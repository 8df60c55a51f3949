/**
 * Principals pushgate assigns itself (`local:<user>` on the server's shell,
 * `break-glass:<fingerprint>`) cannot be claimed by a certificate, even one
 * the trusted CA signed: the default config makes `local:*` a reviewer.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isReservedPrincipal } from '../../src/identity/index.js';
import { pushgateBin } from '../helpers/tools.js';
import { SshUser, startGateway } from './harness.js';

const gateway = await startGateway(t, { repos: ['team/app'] });
gateway.seed('team/app');
const url = gateway.url('team/app');

t.test('a valid certificate is accepted (the baseline)', async (t) => {
  const user = new SshUser(gateway, 'baseline').sign();
  const listed = user.git(['ls-remote', url]);
  t.equal(listed.status, 0, listed.stderr);
});

const cases: Array<{ name: string; principals: string[]; options?: string[] }> = [
  { name: 'local:root', principals: ['local:root'] },
  { name: 'upper case LOCAL:root', principals: ['LOCAL:root'] },
  { name: 'a fullwidth colon', principals: ['local\uff1aroot'] },
  { name: 'break-glass:…', principals: ['break-glass:SHA256:AAAA'] },
  { name: 'a reserved principal next to an ordinary one', principals: ['mixed-ok', 'local:root'] },
  { name: 'an ordinary principal with a reserved sponsor', principals: ['sponsored'], options: ['extension:sponsor@pushgate=local:root'] },
];

for (const [index, { name, principals, options }] of cases.entries()) {
  t.test(`refused: a CA-signed certificate naming ${name}`, async (t) => {
    const keyId = `reserved-${index}`;
    const user = new SshUser(gateway, `reserved${index}`).sign({ principals, keyId, roles: ['reviewer'], ...(options !== undefined ? { options } : {}) });
    const listed = user.git(['ls-remote', url]);
    t.not(listed.status, 0, 'git cannot read');
    t.match(listed.stderr, /Permission denied \(publickey\)/);
    const queue = user.ssh(['queue', 'list']);
    t.equal(queue.status, 255, 'nor run queue commands (approve included)');
    const refusal = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'refused' && l.identity?.keyId === keyId);
    t.equal(refusal.code, 'cert.reserved-principal');
    t.match(refusal.reason, /reserved/);
    t.notOk(gateway.audit().some((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.identity?.keyId === keyId), 'never logged in');
  });
}

t.test('pushgate ca sign refuses a reserved principal', async (t) => {
  const user = new SshUser(gateway, 'casign');
  for (const principal of ['local:root', 'Break-Glass:x']) {
    const result = spawnSync(process.execPath, [pushgateBin, 'ca', 'sign', '--ca', join(gateway.dir, 'ca'), '--principal', 'alice', '--principal', principal, '--out', join(gateway.dir, 'never-cert.pub'), `${user.key}.pub`], { encoding: 'utf8' });
    t.equal(result.status, 1, result.stderr);
    t.match(result.stderr, /reserved/);
  }
});

t.test('the folded comparison catches look-alikes and nothing else', async (t) => {
  for (const name of ['local:root', 'LOCAL:root', 'Local:x', ' local:root', '\tlocal:root', 'local\uff1aroot', 'local\u2236root', 'lo\u200bcal:root', 'ｌｏｃａｌ:root',
    'break-glass:SHA256:x', 'BREAK-GLASS:x', 'break_glass:x', 'breakglass:x', 'break.glass:x']) {
    t.ok(isReservedPrincipal(name), `${JSON.stringify(name)} is reserved`);
  }
  for (const name of ['alice', 'localhost:1', 'locale:x', 'ci:local:x', 'glass:x', 'break-glassy:x', 'oidc:corp', 'local']) {
    t.notOk(isReservedPrincipal(name), `${JSON.stringify(name)} is not reserved`);
  }
});
