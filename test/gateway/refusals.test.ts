import t from 'tap';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../helpers/tools.js';
import { configureRefusalCases } from '../helpers/scenarios.js';
import { SshUser, startGateway, type AuditLine } from './harness.js';

let krlPath = '';
const gateway = await startGateway(t, {
  repos: ['team/app', 'secret/vault'],
  configure(server) {
    krlPath = configureRefusalCases(server);
  },
});
const url = gateway.url('team/app');

/** Logs in with `git ls-remote`; returns the client's result and the refusal recorded for this key id. */
async function attempt(user: SshUser, keyId: string): Promise<{ status: number; stderr: string; refusal: AuditLine }> {
  const result = user.git(['ls-remote', url]);
  const refusal = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'refused' && l.identity?.keyId === keyId);
  return { status: result.status, stderr: result.stderr, refusal };
}

t.test('a valid certificate is accepted (the baseline for every refusal below)', async (t) => {
  const user = new SshUser(gateway, 'baseline').sign({ serial: 1 });
  const listed = user.git(['ls-remote', url]);
  t.equal(listed.status, 0, listed.stderr);
});

const certificateCases: Array<{ name: string; code: string; sign: Parameters<SshUser['sign']>[0] }> = [
  { name: 'expired', code: 'cert.expired', sign: { validity: '-30m:-10m' } },
  { name: 'not yet valid', code: 'cert.not-yet-valid', sign: { validity: '+10m:+30m' } },
  { name: 'source-address mismatch', code: 'cert.source-address', sign: { options: ['source-address=10.9.8.0/24,192.0.2.1'] } },
  { name: 'unknown critical option', code: 'cert.critical-option', sign: { options: ['critical:no-such-option@example.com=yes'] } },
];

for (const { name, code, sign } of certificateCases) {
  t.test(`refused: ${name}`, async (t) => {
    const keyId = `case-${code}`;
    const user = new SshUser(gateway, `u-${code.replace(/\W/g, '-')}`).sign({ ...sign, keyId });
    const { status, stderr, refusal } = await attempt(user, keyId);
    t.not(status, 0);
    t.match(stderr, /Permission denied \(publickey\)/);
    t.equal(refusal.code, code);
    t.equal(refusal.identity?.clientAddress, '127.0.0.1');
    const plain = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.code === 'auth.plain-key' && l.session === refusal.session);
    t.ok(plain, 'the client fell back to the plain key, which is refused too');
    t.notOk(gateway.audit().some((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.session === refusal.session));
  });
}

t.test('refused: a certificate from an untrusted CA', async (t) => {
  const otherCa = join(gateway.dir, 'other-ca');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherCa]);
  const user = new SshUser(gateway, 'untrusted').sign({ ca: otherCa, keyId: 'case-untrusted' });
  const { status, refusal } = await attempt(user, 'case-untrusted');
  t.not(status, 0);
  t.equal(refusal.code, 'cert.untrusted-ca');
});

t.test('refused: a plain key without a certificate', async (t) => {
  const user = new SshUser(gateway, 'plain');
  rmSync(user.cert, { force: true });
  const result = user.git(['ls-remote', url]);
  t.not(result.status, 0);
  t.match(result.stderr, /Permission denied \(publickey\)/);
  const fingerprint = run('ssh-keygen', ['-l', '-f', `${user.key}.pub`]).split(' ')[1]!;
  const refusal = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && (l.identity as { keyFingerprint?: string } | undefined)?.keyFingerprint === fingerprint);
  t.equal(refusal.code, 'auth.plain-key');
});

t.test('refused: a login name that is neither the service user nor a principal', async (t) => {
  const user = new SshUser(gateway, 'wrongname').sign({ keyId: 'case-login' });
  const result = user.git(['ls-remote', 'ssh://root@127.0.0.1/team/app']);
  t.not(result.status, 0);
  const refusal = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'refused' && l.identity?.keyId === 'case-login');
  t.equal(refusal.code, 'auth.user');
});

t.test('refused: revoked by the KRL, which is re-read when it changes', async (t) => {
  const user = new SshUser(gateway, 'revokee').sign({ serial: 1001, keyId: 'case-revoked' });
  t.equal(user.git(['ls-remote', url]).status, 0, 'serial 1001 works before it is revoked');
  writeFileSync(join(gateway.dir, 'revoked-serials'), 'serial: 999\nserial: 1001\n');
  run('ssh-keygen', ['-q', '-k', '-f', krlPath, '-s', join(gateway.dir, 'ca.pub'), join(gateway.dir, 'revoked-serials')]);
  const { status, refusal } = await attempt(user, 'case-revoked');
  t.not(status, 0, 'refused without a restart or SIGHUP');
  t.equal(refusal.code, 'cert.revoked');
  t.match(refusal.reason, /serial 1001/);

  writeFileSync(krlPath, 'not a KRL');
  const broken = new SshUser(gateway, 'krl-broken').sign({ keyId: 'case-krl-broken' });
  const failedClosed = await attempt(broken, 'case-krl-broken');
  t.not(failedClosed.status, 0, 'an unreadable KRL refuses every certificate, as sshd does');
  t.equal(failedClosed.refusal.code, 'krl.unusable');
  run('ssh-keygen', ['-q', '-k', '-f', krlPath, '-s', join(gateway.dir, 'ca.pub'), join(gateway.dir, 'revoked-serials')]);
  t.equal(broken.git(['ls-remote', url]).status, 0, 'a repaired KRL is picked up again');
});

t.test('access rules: a principal without access reads the same as a missing repository', async (t) => {
  const outsider = new SshUser(gateway, 'outsider').sign({ roles: [] });
  const denied = outsider.git(['ls-remote', url]);
  t.not(denied.status, 0);
  const missing = outsider.git(['ls-remote', gateway.url('team/nope')]);
  t.not(missing.status, 0);
  const message = (text: string): string => text.split('\n').find((l) => l.startsWith('pushgate:'))!.replace(/"[^"]*"/, '"…"');
  t.equal(message(denied.stderr), message(missing.stderr), 'denied and missing are indistinguishable');
  t.match(denied.stderr, /does not exist, or you may not read it/);
  await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.identity?.principal === 'outsider' && l.repository === 'team/nope');
  const records = gateway.audit().filter((l) => l.type === 'ssh.command' && l.identity?.principal === 'outsider');
  t.same(records.map((l) => l.code).sort(), ['access.denied', 'access.denied'], 'team/nope is refused by the rules before the disk is looked at');

  const agent = new SshUser(gateway, 'agent1').sign();
  t.equal(agent.git(['ls-remote', url]).status, 0);
  const vault = agent.git(['ls-remote', gateway.url('secret/vault')]);
  t.not(vault.status, 0, 'the agent role reaches team/** only');
  const agentMissing = agent.git(['ls-remote', gateway.url('team/missing')]);
  t.equal(message(vault.stderr), message(agentMissing.stderr));
  t.ok(await gateway.waitForAudit((l) => l.identity?.principal === 'agent1' && l.code === 'repo.not-found'), 'a missing repository the rules allow is looked up');

  const boss = new SshUser(gateway, 'boss').sign({ roles: [] });
  t.equal(boss.git(['ls-remote', gateway.url('secret/vault')]).status, 0, 'a principal rule grants read');
  const work = join(gateway.dir, 'boss-work');
  t.equal(boss.git(['clone', '-q', gateway.url('secret/vault'), work]).status, 0);
  boss.git(['commit', '-q', '--allow-empty', '-m', 'x'], { cwd: work });
  const pushed = boss.git(['push', 'origin', 'HEAD:main'], { cwd: work });
  t.not(pushed.status, 0, 'read does not grant write');
  t.match(pushed.stderr, /does not exist, or you may not push to it/);
});
