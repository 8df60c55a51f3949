/**
 * Behind sshd (AuthorizedPrincipalsCommand + `pushgate shell`), a CA-signed
 * certificate that claims a principal pushgate reserves for itself is refused
 * as it is by the gateway.
 */
import t from 'tap';
import { Client, startSshd } from './sshd.js';

const sshd = await startSshd(t, { repos: ['team/app'] });
const url = sshd.url('team/app');

t.test('a valid certificate is accepted (the baseline)', async (t) => {
  const user = new Client(sshd, 'baseline').sign();
  const listed = user.git(['ls-remote', url]);
  t.equal(listed.status, 0, listed.stderr);
});

const cases: Array<{ name: string; principals: string[] }> = [
  { name: 'local:root', principals: ['local:root'] },
  { name: 'Local:git', principals: ['Local:git'] },
  { name: 'an ordinary principal next to break-glass:…', principals: ['someone', 'break-glass:SHA256:AAAA'] },
];

for (const [index, { name, principals }] of cases.entries()) {
  t.test(`refused behind sshd: a certificate naming ${name}`, async (t) => {
    const keyId = `reserved-sshd-${index}`;
    const user = new Client(sshd, `reserved${index}`).sign({ principals, keyId, roles: ['reviewer'] });
    const listed = user.git(['ls-remote', url]);
    t.not(listed.status, 0);
    t.match(listed.stderr, /Permission denied \(publickey\)/);
    const refusal = await sshd.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'refused' && l.identity?.keyId === keyId);
    t.equal(refusal.code, 'cert.reserved-principal');
    t.notOk(sshd.audit().some((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.identity?.keyId === keyId));
  });
}
