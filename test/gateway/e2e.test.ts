import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BLOCKING_LIMIT, tempDir } from '../helpers/tools.js';
import { forcePushIsDenied } from '../helpers/scenarios.js';
import { KEY_KINDS } from '../sshcert/fixtures.js';
import { SshUser, startGateway } from './harness.js';

const gateway = await startGateway(t, { repos: ['team/app', 'team/other'], env: { PUSHGATE_TEST_SERVER_SECRET: 'must-not-leak' } });
const url = gateway.url('team/app.git');

function listFiles(tar: Buffer): string[] {
  const listed = spawnSync('tar', ['t'], { input: tar, encoding: 'utf8' });
  return listed.stdout.split('\n').filter((l) => l !== '').sort();
}

for (const kind of KEY_KINDS) {
  t.test(`a ${kind.label} certificate clones, pushes, fetches, lists and archives`, async (t) => {
    const user = new SshUser(gateway, `dev-${kind.label}`, kind).sign();
    const work = join(tempDir(t), 'work');
    const cloned = user.git(['clone', url, work]);
    t.equal(cloned.status, 0, cloned.stderr);
    const file = `${kind.label}.txt`;
    spawnSync('sh', ['-c', `echo ${kind.label} > ${file}`], { cwd: work });
    t.equal(user.git(['add', file], { cwd: work }).status, 0);
    t.equal(user.git(['commit', '-q', '-m', `from ${kind.label}`], { cwd: work }).status, 0);
    user.git(['pull', '--rebase', '-q', 'origin', 'main'], { cwd: work });
    const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: work });
    t.equal(pushed.status, 0, pushed.stderr);
    t.match(pushed.stderr, /pushgate-result: \{"decision":"allow"/, 'the hook ran and its result reached the client');
    const head = user.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim();

    const listed = user.git(['ls-remote', url]);
    t.equal(listed.status, 0, listed.stderr);
    t.match(listed.stdout, `${head}\trefs/heads/main`);

    const other = join(tempDir(t), 'other');
    t.equal(user.git(['clone', '-q', url, other]).status, 0);
    t.equal(user.git(['fetch', '-q', 'origin'], { cwd: other }).status, 0);
    t.equal(user.git(['rev-parse', 'origin/main'], { cwd: other }).stdout.trim(), head, 'a fresh clone sees the pushed commit');

    const archive = spawnSync('git', ['archive', `--remote=${url}`, 'main'], { env: user.gitEnv(), ...BLOCKING_LIMIT });
    t.equal(archive.status, 0, archive.stderr.toString());
    t.ok(listFiles(archive.stdout).includes(file), 'git archive --remote returns the pushed file');

    const end = await gateway.waitForAudit((l) => l.type === 'ssh.session-end' && l.identity?.principal === user.name && l.command?.startsWith('git-receive-pack') === true);
    t.equal(end.repository, 'team/app');
    t.equal(end.result, '0');
    t.ok(end.bytesIn! > 0 && end.bytesOut! > 0, 'bytes each way are recorded');
    t.type(end.durationMs, 'number');
  });
}

t.test('protocol v2 and v0 both work', async (t) => {
  const user = new SshUser(gateway, 'proto').sign();
  const v2 = user.git(['ls-remote', url], { env: { GIT_TRACE_PACKET: '1' } });
  t.equal(v2.status, 0, v2.stderr);
  t.match(v2.stderr, /< version 2/, 'GIT_PROTOCOL reached git: the server speaks v2');
  const v0 = user.git(['-c', 'protocol.version=0', 'ls-remote', url], { env: { GIT_TRACE_PACKET: '1' } });
  t.equal(v0.status, 0, v0.stderr);
  t.notMatch(v0.stderr, /version 2/);
  t.match(v0.stdout, /refs\/heads\/main/);

  for (const version of ['0', '2']) {
    const work = join(tempDir(t), `v${version}`);
    const cloned = user.git(['-c', `protocol.version=${version}`, 'clone', '-q', url, work]);
    t.equal(cloned.status, 0, `clone with protocol ${version}: ${cloned.stderr}`);
    spawnSync('sh', ['-c', `echo ${version} > proto-${version}.txt`], { cwd: work });
    user.git(['add', '.'], { cwd: work });
    user.git(['commit', '-q', '-m', `v${version}`], { cwd: work });
    const pushed = user.git(['-c', `protocol.version=${version}`, 'push', 'origin', 'HEAD:main'], { cwd: work });
    t.equal(pushed.status, 0, `push with protocol ${version}: ${pushed.stderr}`);
  }
});

t.test('a push the hook denies shows its message to the client', async (t) => {
  forcePushIsDenied(t, new SshUser(gateway, 'forcer').sign(), url);
});

t.test('git and its hooks get PUSHGATE_* from the certificate and nothing of the client\'s', async (t) => {
  const probe = gateway.createProbeRepo('team/probe');
  const user = new SshUser(gateway, 'carol').sign({ principals: ['carol', 'carol-alt'], roles: ['agent', 'tester'], serial: 4242, keyId: 'carol@laptop' });
  const work = join(tempDir(t), 'work');
  t.equal(user.git(['clone', '-q', gateway.url('team/probe'), work]).status, 0);
  user.git(['commit', '-q', '--allow-empty', '-m', 'c'], { cwd: work });
  const pushed = user.git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work, env: { LC_PUSHGATE_LEAK: 'x' } });
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
  t.notOk('LC_PUSHGATE_LEAK' in env);
  t.notOk('PUSHGATE_TEST_SERVER_SECRET' in env, 'the server\'s own environment does not leak either');
  const command = await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.session === env.PUSHGATE_SESSION);
  t.match(command, { result: 'started', repository: 'team/probe', identity: { principal: 'carol' } }, 'the session id joins the hook to the gateway\'s records');

  const alt = new SshUser(gateway, 'carol2').sign({ principals: ['carol', 'carol-alt'] });
  const listed = alt.git(['ls-remote', 'ssh://carol-alt@127.0.0.1/team/other']);
  t.equal(listed.status, 0, listed.stderr);
  const auth = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.identity?.principal === 'carol-alt');
  t.equal(auth.result, 'ok', 'a login name that is one of the principals becomes the principal');
});
