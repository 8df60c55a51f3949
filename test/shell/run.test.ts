import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { run } from '../helpers/tools.js';
import { ShellFixture } from './fixtures.js';

const fx = new ShellFixture(t);
const alice = fx.sign(fx.key('alice'), { principals: ['alice'], keyId: 'alice@laptop', serial: 7 });
const ADVERTISEMENT = /^[0-9a-f]{4}[0-9a-f]{40} /;

function codes(events: { type: string; code?: string; result?: string }[]): string[] {
  return events.map((e) => `${e.type}:${e.code ?? e.result ?? ''}`);
}

t.test('runs git-upload-pack for a valid certificate, with the gateway\'s audit records', async (t) => {
  fx.server.createRepo('team/seeded');
  const gitDir = join(fx.server.reposRoot, 'team/seeded.git');
  const tree = run('git', ['--git-dir', gitDir, 'mktree'], { input: '' }).trim();
  const env = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' };
  const commit = run('git', ['--git-dir', gitDir, 'commit-tree', tree, '-m', 'seed'], { env }).trim();
  run('git', ['--git-dir', gitDir, 'update-ref', 'refs/heads/main', commit]);

  const ran = await fx.run({ env: fx.env(alice, "git-upload-pack '/team/seeded.git'") }, '0000');
  t.equal(ran.code, 0, ran.stderr);
  t.match(ran.stdout, ADVERTISEMENT);
  t.match(ran.stdout, `${commit} refs/heads/main`);
  t.same(codes(ran.events), ['ssh.auth:ok', 'ssh.command:started', 'ssh.session-end:0']);
  const [auth, command, end] = ran.events;
  t.match(auth, { identity: { principal: 'alice', roles: ['agent'], keyId: 'alice@laptop', certSerial: '7', clientAddress: '127.0.0.1' }, reason: 'certificate via sshd, logged in as git' });
  t.match(command, { repository: 'team/seeded', command: "git-upload-pack '/team/seeded.git'" });
  t.equal(auth!.session, end!.session);
  t.match(auth!.session, /^[0-9a-f]{12}-1$/);
  t.type(end!.durationMs, 'number');
});

t.test('the child gets PUSHGATE_* and a valid GIT_PROTOCOL, nothing else of the session', async (t) => {
  const env = fx.env(alice, 'queue list', { GIT_PROTOCOL: 'version=2', LC_LEAK: 'x', SSH_TTY: '' });
  const ran = await fx.run({ env, queue: () => ({ command: 'env', args: [] }), session: 'abc-1' });
  t.equal(ran.code, 0, ran.stderr);
  const vars = Object.fromEntries(ran.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  t.match(vars, { PUSHGATE_PRINCIPAL: 'alice', PUSHGATE_ROLES: 'agent', PUSHGATE_KEY_ID: 'alice@laptop', PUSHGATE_CERT_SERIAL: '7', PUSHGATE_CLIENT_ADDRESS: '127.0.0.1', PUSHGATE_SESSION: 'abc-1', GIT_PROTOCOL: 'version=2' });
  t.match(vars.PUSHGATE_KEY_FINGERPRINT, /^SHA256:/);
  for (const name of ['LC_LEAK', 'SSH_USER_AUTH', 'SSH_CONNECTION', 'SSH_ORIGINAL_COMMAND']) t.notOk(name in vars, name);

  const bad = await fx.run({ env: fx.env(alice, 'queue list', { GIT_PROTOCOL: 'version=2:x' }), queue: () => ({ command: 'env', args: [] }) });
  t.notMatch(bad.stdout, /GIT_PROTOCOL/, 'an invalid GIT_PROTOCOL is dropped');
});

t.test('refuses to run without what sshd provides', async (t) => {
  const cases: Array<[string, NodeJS.ProcessEnv, string]> = [
    ['no SSH_USER_AUTH', fx.env(undefined, "git-upload-pack 'team/app'"), 'shell.no-auth-info'],
    ['empty SSH_USER_AUTH', fx.env(undefined, "git-upload-pack 'team/app'", { SSH_USER_AUTH: '' }), 'shell.no-auth-info'],
    ['unreadable SSH_USER_AUTH', fx.env(join(fx.dir, 'missing'), "git-upload-pack 'team/app'"), 'shell.no-auth-info'],
    ['no public key in it', fx.env(fx.authFile(['password', 'keyboard-interactive']), "git-upload-pack 'team/app'"), 'shell.no-certificate'],
    ['no SSH_CONNECTION', { ...fx.env(alice, "git-upload-pack 'team/app'"), SSH_CONNECTION: undefined }, 'shell.no-connection'],
    ['a malformed SSH_CONNECTION', fx.env(alice, "git-upload-pack 'team/app'", { SSH_CONNECTION: 'nowhere 1 2 3' }), 'shell.no-connection'],
  ];
  for (const [name, env, code] of cases) {
    const ran = await fx.run({ env });
    t.equal(ran.code, 1, name);
    t.match(ran.stderr, /^pushgate: /, name);
    t.same(codes(ran.events), [`ssh.auth:${code}`], name);
    t.equal(ran.stdout, '', name);
  }
  const big = fx.authFile([`publickey ${alice.cert} ${'x'.repeat(300 * 1024)}`]);
  t.same(codes((await fx.run({ env: fx.env(big, "git-upload-pack 'team/app'") })).events), ['ssh.auth:shell.auth-info'], 'an oversized file is refused');
});

t.test('certificates pushgate refuses even though sshd let them in', async (t) => {
  const otherCa = fx.key('other-ca');
  const krl = join(fx.dir, 'revoked.krl');
  writeFileSync(join(fx.dir, 'serials'), 'serial: 666\n');
  run('ssh-keygen', ['-q', '-k', '-f', krl, '-s', join(fx.server.dir, 'ca.pub'), join(fx.dir, 'serials')]);
  const cases: Array<[string, ReturnType<typeof fx.sign>, string, Partial<Parameters<typeof fx.run>[0]>]> = [
    ['expired', fx.sign(fx.key('k-expired'), { validity: '-30m:-10m' }), 'cert.expired', {}],
    ['not yet valid', fx.sign(fx.key('k-future'), { validity: '+10m:+30m' }), 'cert.not-yet-valid', {}],
    ['untrusted CA', fx.sign(fx.key('k-untrusted'), { ca: otherCa.path }), 'cert.untrusted-ca', {}],
    ['source-address', fx.sign(fx.key('k-source'), { options: ['source-address=10.9.8.0/24'] }), 'cert.source-address', {}],
    ['unknown critical option', fx.sign(fx.key('k-critical'), { options: ['critical:no-such@example.com=1'] }), 'cert.critical-option', {}],
    ['login neither service user nor principal', alice, 'auth.user', { user: 'mallory' }],
  ];
  for (const [name, key, code, extra] of cases) {
    const ran = await fx.run({ env: fx.env(key, "git-upload-pack 'team/app'"), ...extra });
    t.equal(ran.code, 1, name);
    t.match(ran.stderr, new RegExp(`^pushgate: access refused \\(${code.replace('.', '\\.')}\\)`), name);
    t.same(codes(ran.events), [`ssh.auth:${code}`], name);
  }

  const revoked = fx.sign(fx.key('k-revoked'), { serial: 666, keyId: 'gone' });
  const config = fx.config();
  const withKrl = { ...config, ca: { ...config.ca, krl } };
  const ran = await fx.run({ env: fx.env(revoked, "git-upload-pack 'team/app'"), config: withKrl });
  t.same(codes(ran.events), ['ssh.auth:cert.revoked']);
  t.match(ran.events[0], { identity: { principal: 'alice', keyId: 'gone', certSerial: '666', clientAddress: '127.0.0.1' } });
  writeFileSync(krl, 'garbage');
  const broken = await fx.run({ env: fx.env(alice, "git-upload-pack 'team/app'"), config: withKrl });
  t.same(codes(broken.events), ['ssh.auth:krl.unusable'], 'an unreadable KRL refuses every certificate');

  const inside = fx.sign(fx.key('k-inside'), { options: ['source-address=127.0.0.0/8'] });
  t.equal((await fx.run({ env: fx.env(inside, "git-upload-pack 'team/app'") }, '0000')).code, 0, 'a source-address that matches SSH_CONNECTION is fine');
  const mapped = await fx.run({ env: fx.env(inside, "git-upload-pack 'team/app'", { SSH_CONNECTION: '::ffff:127.0.0.1 5 ::1 22' }) }, '0000');
  t.equal(mapped.code, 0, 'an IPv4-mapped address is normalised');
});

t.test('the key: several certificates, plain keys and break-glass keys', async (t) => {
  const bob = fx.sign(fx.key('bob'), { principals: ['bob'] });
  const two = fx.authFile([`publickey ${alice.cert}`, `publickey ${bob.cert}`]);
  t.same(codes((await fx.run({ env: fx.env(two, "git-upload-pack 'team/app'") })).events), ['ssh.auth:shell.auth-info']);
  const same = fx.authFile([`publickey ${alice.cert}`, `publickey ${alice.cert}`, 'password']);
  t.equal((await fx.run({ env: fx.env(same, "git-upload-pack 'team/app'") }, '0000')).code, 0, 'the same certificate twice is one');
  const certAndKey = fx.authFile([`publickey ${bob.plain}`, `publickey ${alice.cert}`]);
  t.match((await fx.run({ env: fx.env(certAndKey, "git-upload-pack 'team/app'") }, '0000')).events[0], { identity: { principal: 'alice' } }, 'the certificate wins over a plain key');

  const plain = fx.key('plain');
  const plainOnly = await fx.run({ env: fx.env(plain, "git-upload-pack 'team/app'") });
  t.same(codes(plainOnly.events), ['ssh.auth:auth.plain-key']);
  t.match(plainOnly.events[0], { identity: { keyFingerprint: /^SHA256:/ } });
  const twoPlain = fx.authFile([`publickey ${plain.plain}`, `publickey ${bob.plain}`]);
  t.same(codes((await fx.run({ env: fx.env(twoPlain, "git-upload-pack 'team/app'") })).events), ['ssh.auth:shell.auth-info']);
  const junk = fx.authFile(['publickey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJunk', 'publickey ssh-ed25519 !!!']);
  t.same(codes((await fx.run({ env: fx.env(junk, "git-upload-pack 'team/app'") })).events), ['ssh.auth:auth.unsupported-key']);

  const glassFile = join(fx.dir, 'break-glass');
  writeFileSync(glassFile, `${plain.plain} admin\n`);
  const config = fx.config();
  const glass = { ...config, ssh: { ...config.ssh, breakGlassKeys: glassFile }, access: [...config.access, { repos: ['**'], principals: ['break-glass:*'], roles: [], permissions: ['read' as const] }] };
  const allowed = await fx.run({ env: fx.env(plain, "git-upload-pack 'team/app'"), config: glass }, '0000');
  t.equal(allowed.code, 0, allowed.stderr);
  t.match(allowed.events[0], { type: 'ssh.auth', result: 'ok', reason: 'break-glass key, via sshd', identity: { principal: /^break-glass:SHA256:/ } });
  t.same(codes((await fx.run({ env: fx.env({ ...bob, cert: '' }, "git-upload-pack 'team/app'"), config: glass })).events).slice(0, 1), ['ssh.auth:auth.plain-key'], 'a key not on the list');
  t.same(codes((await fx.run({ env: fx.env(plain, "git-upload-pack 'team/app'"), config: glass, user: 'root' })).events), ['ssh.auth:auth.user']);
  const gone = { ...glass, ssh: { ...glass.ssh, breakGlassKeys: join(fx.dir, 'no-such-list') } };
  t.same(codes((await fx.run({ env: fx.env(plain, "git-upload-pack 'team/app'"), config: gone })).events), ['ssh.auth:auth.break-glass-unusable']);
});

t.test('sessions that are not a git command are refused', async (t) => {
  const cases: Array<[string, NodeJS.ProcessEnv, string, boolean?]> = [
    ['a shell', fx.env(alice, undefined), 'session.shell'],
    ['a shell from a terminal (ssh git@host typed by a person)', fx.env(alice, undefined, { SSH_TTY: '/dev/pts/3' }), 'session.shell', true],
    ['a pty (SSH_TTY)', fx.env(alice, "git-upload-pack 'team/app'", { SSH_TTY: '/dev/pts/3' }), 'session.pty'],
    ['a pty (stdin is a terminal)', fx.env(alice, "git-upload-pack 'team/app'"), 'session.pty', true],
    ['another program', fx.env(alice, 'id'), 'command.unknown'],
    ['sftp', fx.env(alice, '/usr/lib/openssh/sftp-server'), 'command.unknown'],
    ['command chaining', fx.env(alice, "git-upload-pack 'team/app'; id"), 'command.bad-argument'],
    ['traversal', fx.env(alice, "git-upload-pack '../../etc'"), 'repo.invalid-path'],
    ['a repository the rules do not allow', fx.env(alice, "git-upload-pack 'secret/vault'"), 'access.denied'],
    ['a missing repository', fx.env(alice, "git-receive-pack 'team/nope'"), 'repo.not-found'],
  ];
  for (const [name, env, code, tty] of cases) {
    const ran = await fx.run({ env, ...(tty === true ? { tty } : {}) });
    t.equal(ran.code, 1, name);
    t.match(ran.stderr, /^pushgate: /, name);
    t.equal(ran.stdout, '', name);
    t.same(codes(ran.events).slice(0, 1), ['ssh.auth:ok'], name);
    t.equal(ran.events[1]?.type, 'ssh.command', name);
    if (code.startsWith('repo.')) t.match(ran.events[1]?.code, /^repo\./, name);
    else t.equal(ran.events[1]?.code, code, name);
    t.equal(ran.events.length, 2, name);
  }
});

t.test('no command: a short help, who you are, your roles and what you may run', async (t) => {
  for (const tty of [false, true]) {
    const ran = await fx.run({ env: fx.env(alice, undefined, tty ? { SSH_TTY: '/dev/pts/3' } : {}), ...(tty ? { tty } : {}) });
    t.equal(ran.code, 1);
    t.match(ran.stderr, /^pushgate: hello \S+; roles: /m);
    t.match(ran.stderr, /you may run:\n.*git clone \/ fetch \/ pull \/ push/);
    t.notMatch(ran.stderr, /terminals are refused/);
  }
});

t.test('a certificate\'s force-command replaces the request, even a shell', async (t) => {
  const forced = fx.sign(fx.key('forced'), { options: ["force-command=git-upload-pack 'team/app'"] });
  for (const command of [undefined, "git-receive-pack 'secret/vault'"]) {
    const ran = await fx.run({ env: fx.env(forced, command) }, '0000');
    t.equal(ran.code, 0, ran.stderr);
    t.match(ran.events[0], { type: 'ssh.auth', result: 'ok', command: "git-upload-pack 'team/app'" });
    t.match(ran.events[1], { type: 'ssh.command', repository: 'team/app', command: `git-upload-pack 'team/app' (forced; requested: ${command ?? 'a shell'})` });
  }
});

t.test('queue commands run pushgate queue with the server\'s config', async (t) => {
  const reviewer = fx.sign(fx.key('rita'), { principals: ['rita'], roles: ['reviewer'] });
  const listed = await fx.run({ env: fx.env(reviewer, 'queue list --format json') });
  t.equal(listed.code, 0, listed.stderr);
  t.same(JSON.parse(listed.stdout), []);
  t.match(listed.events.at(-1), { type: 'ssh.session-end', result: '0', command: 'queue list --format json' });

  for (const command of ['queue list --config /tmp/x.yaml', 'queue list --config=/tmp/x.yaml']) {
    const refused = await fx.run({ env: fx.env(reviewer, command) });
    t.equal(refused.code, 1);
    t.match(refused.stderr, /--config is not accepted/);
  }
  const textConfig = parseConfig(`reposRoot: ${fx.server.reposRoot}\nstateDir: ${fx.dir}\nca:\n  trusted: [${join(fx.server.dir, 'ca.pub')}]\n  key: null\n`);
  const unavailable = await fx.run({ env: fx.env(reviewer, 'queue list'), config: textConfig });
  t.equal(unavailable.code, 1);
  t.match(unavailable.stderr, /queue commands are not available/);
  t.equal(unavailable.events[1]?.code, 'command.unavailable');
});

t.test('server-side failures', async (t) => {
  const config = fx.config();
  const noCa = { ...config, ca: { ...config.ca, trusted: [{ kind: 'file' as const, path: join(fx.dir, 'no-ca.pub') }] } };
  const untrusted = await fx.run({ env: fx.env(alice, "git-upload-pack 'team/app'"), config: noCa });
  t.equal(untrusted.code, 2);
  t.match(untrusted.stderr, /cannot check certificates/);
  t.same(codes(untrusted.events), ['ssh.auth:shell.trust']);

  const noGit = await fx.run({ env: fx.env(alice, "git-upload-pack 'team/app'", { PATH: join(fx.dir, 'empty-path') }) });
  t.equal(noGit.code, 2);
  t.match(noGit.stderr, /could not be started/);
  t.same(codes(noGit.events), ['ssh.auth:ok', 'ssh.command:started', 'ssh.session-end:error']);

  const failing = await fx.run({ env: fx.env(alice, 'queue list'), queue: () => ({ command: 'sh', args: ['-c', 'exit 3'] }) });
  t.equal(failing.code, 3, 'the child\'s exit code is the shell\'s');
  const killed = await fx.run({ env: fx.env(alice, 'queue list'), queue: () => ({ command: 'sh', args: ['-c', 'kill -TERM $$'] }) });
  t.equal(killed.code, 143, 'a signal becomes 128 + its number, as a shell reports it');
  t.match(killed.events.at(-1), { type: 'ssh.session-end', result: 'signal SIGTERM' });
});

t.test('signals sshd sends to pushgate shell are passed on to the child', async (t) => {
  const spawnModule = new URL('../../src/shell/spawn.js', import.meta.url).href;
  const script = `const m = await import(${JSON.stringify(spawnModule)});
const running = m.runChild('sleep', ['30'], { env: process.env, stdio: 'ignore', forwardSignals: true });
process.stdout.write('ready\\n');
process.stdout.write(JSON.stringify(await running));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  await new Promise<void>((resolve) => child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    if (out.includes('ready\n')) resolve();
  }));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.equal(code, 0, 'pushgate shell outlived the signal and reported the child');
  t.same(JSON.parse(out.slice(out.indexOf('\n') + 1)), { code: 143, result: 'signal SIGTERM' });
});
