import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BLOCKING_LIMIT, tempDir } from '../helpers/tools.js';
import { forcePushIsDenied } from '../helpers/scenarios.js';
import { Client, startSshd } from './sshd.js';

const sshd = await startSshd(t, {
  repos: ['team/app', 'team/other'],
  configure(server) {
    server.setConfig(['identity', 'roles'], [
      { principals: ['local:*'], roles: ['reviewer'] },
      { principals: ['rita'], roles: ['reviewer'] },
    ]);
  },
});
const url = sshd.url('team/app');

function listFiles(tar: Buffer): string[] {
  return spawnSync('tar', ['t'], { input: tar, encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '').sort();
}

t.test('clone, push, fetch, ls-remote and git archive --remote through sshd and pushgate shell', async (t) => {
  const user = new Client(sshd, 'dev').sign({ keyId: 'dev@laptop', serial: 77 });
  const work = join(tempDir(t), 'work');
  const cloned = user.git(['clone', url, work]);
  t.equal(cloned.status, 0, cloned.stderr);
  spawnSync('sh', ['-c', 'echo hello > hello.txt'], { cwd: work });
  t.equal(user.git(['add', 'hello.txt'], { cwd: work }).status, 0);
  t.equal(user.git(['commit', '-q', '-m', 'hello'], { cwd: work }).status, 0);
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: work });
  t.equal(pushed.status, 0, pushed.stderr);
  t.match(pushed.stderr, /pushgate-result: \{"decision":"allow"/, 'the hook ran and its result reached the client');
  const head = user.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim();

  const listed = user.git(['ls-remote', url]);
  t.equal(listed.status, 0, listed.stderr);
  t.match(listed.stdout, `${head}\trefs/heads/main`);

  const other = join(tempDir(t), 'other');
  t.equal(user.git(['clone', '-q', url, other]).status, 0);
  spawnSync('sh', ['-c', 'echo again >> hello.txt'], { cwd: work });
  user.git(['commit', '-q', '-am', 'again'], { cwd: work });
  t.equal(user.git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work }).status, 0);
  const fetched = user.git(['fetch', '-q', 'origin'], { cwd: other });
  t.equal(fetched.status, 0, fetched.stderr);
  t.equal(user.git(['rev-parse', 'origin/main'], { cwd: other }).stdout.trim(), user.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim(), 'fetch sees the second push');

  const archive = spawnSync('git', ['archive', `--remote=${url}`, 'main'], { env: user.gitEnv(), ...BLOCKING_LIMIT });
  t.equal(archive.status, 0, archive.stderr.toString());
  t.ok(listFiles(archive.stdout).includes('hello.txt'), 'git archive --remote returns the pushed file');

  const decision = await sshd.waitForAudit((l) => l.type === 'push.decision' && l.identity?.keyId === 'dev@laptop');
  t.match(decision, { decision: 'allow', repository: 'team/app', identity: { principal: 'dev', certSerial: '77', clientAddress: '127.0.0.1' } }, 'the hook\'s decision names the certificate\'s identity');
  const end = await sshd.waitForAudit((l) => l.type === 'ssh.session-end' && l.identity?.principal === 'dev' && l.command?.startsWith('git-receive-pack') === true);
  t.match(end, { repository: 'team/app', result: '0', identity: { keyId: 'dev@laptop', certSerial: '77', clientAddress: '127.0.0.1' } });
  t.type(end.durationMs, 'number');
  const auth = await sshd.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.session === end.session);
  t.match(auth.reason, /certificate via sshd/);
});

t.test('protocol v2 (GIT_PROTOCOL through AcceptEnv) and v0', async (t) => {
  const user = new Client(sshd, 'proto').sign();
  const v2 = user.git(['ls-remote', url], { env: { GIT_TRACE_PACKET: '1' } });
  t.equal(v2.status, 0, v2.stderr);
  t.match(v2.stderr, /< version 2/, 'the server speaks v2');
  const v0 = user.git(['-c', 'protocol.version=0', 'ls-remote', url], { env: { GIT_TRACE_PACKET: '1' } });
  t.equal(v0.status, 0, v0.stderr);
  t.notMatch(v0.stderr, /version 2/);
  t.match(v0.stdout, /refs\/heads\/main/);
});

t.test('a push the hook denies shows its pushgate-result to the client', async (t) => {
  forcePushIsDenied(t, new Client(sshd, 'forcer').sign({ keyId: 'forcer@ci' }), url);
  const decision = await sshd.waitForAudit((l) => l.type === 'push.decision' && l.identity?.keyId === 'forcer@ci');
  t.match(decision, { decision: 'deny', identity: { principal: 'forcer' }, rules: ['ref.force-push'] }, 'the audit record names the certificate\'s principal and key id');
});

t.test('git and its hooks get PUSHGATE_* from the certificate and nothing of the client\'s', async (t) => {
  const probe = sshd.createProbeRepo('team/probe');
  const user = new Client(sshd, 'carol').sign({ principals: ['carol', 'carol-alt'], roles: ['agent', 'tester'], serial: 4242, keyId: 'carol@laptop' });
  const work = join(tempDir(t), 'work');
  const cloned = user.git(['clone', '-q', sshd.url('team/probe'), work]);
  t.equal(cloned.status, 0, cloned.stderr);
  user.git(['commit', '-q', '--allow-empty', '-m', 'c'], { cwd: work });
  const sshCommand = `${user.sshCommand(['-o', 'SetEnv=LC_PUSHGATE_LEAK=x PUSHGATE_PRINCIPAL=mallory', '-o', 'SendEnv=LANG'])}`;
  const pushed = user.git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work, env: { GIT_SSH_COMMAND: sshCommand, LANG: 'C.UTF-8' } });
  t.equal(pushed.status, 0, pushed.stderr);
  const env = probe.env();
  t.match(env, {
    PUSHGATE_PRINCIPAL: 'carol', PUSHGATE_ROLES: 'agent,tester', PUSHGATE_KEY_ID: 'carol@laptop', PUSHGATE_CERT_SERIAL: '4242',
    PUSHGATE_CLIENT_ADDRESS: '127.0.0.1',
  });
  t.match(env.PUSHGATE_KEY_FINGERPRINT, /^SHA256:/);
  t.match(env.PUSHGATE_SESSION, /^[0-9a-f]{12}-\d+$/);
  const ours = Object.keys(env).filter((name) => name.startsWith('PUSHGATE_')).sort();
  t.same(ours, ['PUSHGATE_CERT_SERIAL', 'PUSHGATE_CLIENT_ADDRESS', 'PUSHGATE_KEY_FINGERPRINT', 'PUSHGATE_KEY_ID', 'PUSHGATE_PRINCIPAL', 'PUSHGATE_ROLES', 'PUSHGATE_SESSION']);
  t.notOk('LC_PUSHGATE_LEAK' in env, 'SetEnv of anything but GIT_PROTOCOL does not reach git');
  t.notOk('SSH_USER_AUTH' in env || 'SSH_CONNECTION' in env || 'SSH_ORIGINAL_COMMAND' in env, 'sshd\'s session variables stay with pushgate shell');
  const command = await sshd.waitForAudit((l) => l.type === 'ssh.command' && l.session === env.PUSHGATE_SESSION);
  t.match(command, { result: 'started', repository: 'team/probe', identity: { principal: 'carol' } }, 'the session id joins the hook to the shell\'s records');
});

t.test('a certificate\'s force-command replaces the requested command', async (t) => {
  const user = new Client(sshd, 'forced').sign({ options: ["force-command=git-upload-pack 'team/other'"] });
  const listed = user.git(['ls-remote', url]);
  t.equal(listed.status, 0, listed.stderr);
  t.equal(listed.stdout, '', 'team/other (empty) was listed, not team/app');
  const pushed = user.ssh(["git-receive-pack 'team/app'"], { input: '0000' });
  t.equal(pushed.status, 0, pushed.stderr);
  const record = await sshd.waitForAudit((l) => l.type === 'ssh.command' && l.identity?.principal === 'forced' && l.command?.includes("git-receive-pack 'team/app'") === true);
  t.match(record, { repository: 'team/other', result: 'started' });
  t.match(record.command, /^git-upload-pack 'team\/other' \(forced; requested: git-receive-pack 'team\/app'\)$/);
});

t.test('reviewer commands run under the caller\'s identity', async (t) => {
  const reviewer = new Client(sshd, 'rita').sign({ roles: [] });
  const listed = reviewer.ssh(['queue', 'list', '--format', 'json']);
  t.equal(listed.status, 0, listed.stderr);
  t.same(JSON.parse(listed.stdout), []);
  const sneaky = reviewer.ssh(['queue', 'list', '--config', '/tmp/elsewhere.yaml']);
  t.equal(sneaky.status, 1);
  t.match(sneaky.stderr, /--config is not accepted/);
  const record = await sshd.waitForAudit((l) => l.type === 'ssh.session-end' && l.identity?.principal === 'rita');
  t.match(record, { command: 'queue list --format json', result: '0' });
});
