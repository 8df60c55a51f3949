import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, tempDir } from '../helpers/tools.js';
import { configureRefusalCases } from '../helpers/scenarios.js';
import { Client, startSshd, type AuditLine } from './sshd.js';

let krlPath = '';
const sshd = await startSshd(t, {
  repos: ['team/app', 'secret/vault'],
  configure(server) {
    // pushgate's KRL only: sshd has no RevokedKeys, so a refusal below is pushgate's own.
    krlPath = configureRefusalCases(server);
  },
});
const url = sshd.url('team/app');
const root = sshd.server.reposRoot;
const REFUSAL = /^pushgate: repository ".*" does not exist, or you may not (read|push to) it$/m;

function noSuccessFor(keyId: string): boolean {
  return !sshd.audit().some((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.identity?.keyId === keyId);
}

t.test('a valid certificate is accepted (the baseline for every refusal below)', async (t) => {
  const user = new Client(sshd, 'baseline').sign({ serial: 1 });
  const listed = user.git(['ls-remote', url]);
  t.equal(listed.status, 0, listed.stderr);
});

t.test('refused by sshd: an expired certificate', async (t) => {
  const user = new Client(sshd, 'expired').sign({ validity: '-30m:-10m', keyId: 'case-expired' });
  const result = user.git(['ls-remote', url]);
  t.not(result.status, 0);
  t.match(result.stderr, /Permission denied \(publickey\)/);
  t.ok(noSuccessFor('case-expired'));
});

t.test('refused by sshd: a source-address the client is not in', async (t) => {
  const user = new Client(sshd, 'elsewhere').sign({ options: ['source-address=10.9.8.0/24,192.0.2.1'], keyId: 'case-source' });
  const result = user.git(['ls-remote', url]);
  t.not(result.status, 0);
  t.match(result.stderr, /Permission denied \(publickey\)/);
  t.ok(noSuccessFor('case-source'));
});

t.test('refused by pushgate: revoked in pushgate\'s KRL (sshd has none)', async (t) => {
  const user = new Client(sshd, 'revokee').sign({ serial: 1001, keyId: 'case-revoked' });
  t.equal(user.git(['ls-remote', url]).status, 0, 'serial 1001 works before it is revoked');
  writeFileSync(join(sshd.server.dir, 'revoked-serials'), 'serial: 999\nserial: 1001\n');
  run('ssh-keygen', ['-q', '-k', '-f', krlPath, '-s', join(sshd.server.dir, 'ca.pub'), join(sshd.server.dir, 'revoked-serials')]);
  const result = user.git(['ls-remote', url]);
  t.not(result.status, 0);
  t.match(result.stderr, /Permission denied \(publickey\)/);
  const refusal = await sshd.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'refused' && l.identity?.keyId === 'case-revoked');
  t.equal(refusal.code, 'cert.revoked');
  t.match(refusal.reason, /AuthorizedPrincipalsCommand.*serial 1001/);
});

t.test('refused by pushgate: a principal the access rules do not allow reads as a missing repository', async (t) => {
  const outsider = new Client(sshd, 'outsider').sign({ roles: [] });
  const denied = outsider.git(['ls-remote', url]);
  t.equal(denied.status === 0, false);
  const missing = outsider.git(['ls-remote', sshd.url('team/nope')]);
  t.equal(missing.status === 0, false);
  const message = (text: string): string => text.split('\n').find((l) => l.startsWith('pushgate:'))!.replace(/"[^"]*"/, '"…"');
  t.equal(message(denied.stderr), message(missing.stderr), 'denied and missing are indistinguishable');
  t.match(denied.stderr, /does not exist, or you may not read it/);
  const record = await sshd.waitForAudit((l) => l.type === 'ssh.command' && l.identity?.principal === 'outsider' && l.repository === 'team/app');
  t.match(record, { result: 'refused', code: 'access.denied' });

  const boss = new Client(sshd, 'boss').sign({ roles: [] });
  const work = join(tempDir(t), 'boss');
  t.equal(boss.git(['clone', '-q', sshd.url('secret/vault'), work]).status, 0, 'a principal rule grants read');
  boss.git(['commit', '-q', '--allow-empty', '-m', 'x'], { cwd: work });
  const pushed = boss.git(['push', 'origin', 'HEAD:main'], { cwd: work });
  t.not(pushed.status, 0, 'read does not grant write');
  t.match(pushed.stderr, /does not exist, or you may not push to it/);
});

const user = new Client(sshd, 'prober').sign();
// The refusal lists below run as sessions of one connection: one authentication for all of them.
const viaMaster = await user.master(t);

t.test('refused: a shell (no command)', async (t) => {
  const result = user.ssh([], { extra: ['-T'] });
  t.equal(result.status, 1);
  t.match(result.stderr, /^pushgate: hello prober; roles: /m);
  t.match(result.stderr, /you may run:\n.*git clone/);
  await sshd.waitForAudit((l) => l.type === 'ssh.command' && l.code === 'session.shell' && l.identity?.principal === 'prober');
});

t.test('refused: a pty (sshd refuses it; the command then runs without one)', async (t) => {
  const result = user.ssh(["git-upload-pack 'team/app'"], { extra: ['-tt'], input: '0000' });
  t.match(result.stderr, /PTY allocation request failed/);
});

t.test('refused: commands other than git\'s', async (t) => {
  for (const command of ['id', 'sh -c id', 'git-shell', "git upload-pack --help 'team/app'", 'cat /etc/passwd', 'scp -f /etc/passwd']) {
    const result = user.ssh([command], { extra: viaMaster });
    t.equal(result.status, 1, command);
    t.match(result.stderr, /^pushgate: /m, command);
    t.notMatch(result.stdout, /uid=|root:/, command);
  }
});

t.test('refused: sftp (sshd runs the subsystem through pushgate shell, which refuses it)', async (t) => {
  const result = spawnSync('sftp', ['-b', '-', ...user.sshOptions().filter((o) => o !== '-p' && o !== String(sshd.port)), '-P', String(sshd.port), `${sshd.user}@127.0.0.1`], { input: 'ls /\n', encoding: 'utf8', timeout: 30_000 });
  t.not(result.status, 0);
  t.notMatch(result.stdout, /etc|root/);
  const record = await sshd.waitForAudit((l) => l.type === 'ssh.command' && l.identity?.principal === 'prober' && /sftp/.test(l.command ?? ''));
  t.match(record, { result: 'refused', code: 'command.unknown' });
});

t.test('refused: port forwarding', async (t) => {
  const result = user.ssh([], { extra: ['-W', `127.0.0.1:${sshd.port}`], timeout: 20_000 });
  t.not(result.status, 0);
  t.match(result.stderr, /administratively prohibited|open failed|forwarding failed/);
});

// A canary outside reposRoot that hostile paths try to reach.
const outside = join(tempDir(t), 'outside-canary');
run('git', ['init', '-q', '--bare', join(outside, 'secret.git')]);
symlinkSync(join(outside, 'secret.git'), join(root, 'abs-link.git'));
symlinkSync(outside, join(root, 'dir-link'));
mkdirSync(join(root, 'worktree'));
run('git', ['init', '-q', join(root, 'worktree')]);

const hostile: Array<[string, string]> = [
  ['parent traversal', "git-upload-pack '../outside-canary/secret.git'"],
  ['nested traversal', "git-upload-pack 'team/../../outside-canary/secret.git'"],
  ['absolute outside the root', `git-upload-pack '${outside}/secret.git'`],
  ['/etc/passwd', "git-upload-pack '/etc/passwd'"],
  ['absolute symlink escape', "git-upload-pack 'abs-link.git'"],
  ['directory symlink escape', "git-upload-pack 'dir-link/secret.git'"],
  ['non-bare worktree', "git-upload-pack 'worktree'"],
  ['very long path', `git-upload-pack '${'a/'.repeat(600)}x.git'`],
];

t.test('refused: hostile repository paths', async (t) => {
  for (const [name, command] of hostile) {
    const result = user.ssh([command], { input: '0000', extra: viaMaster });
    t.equal(result.status, 1, name);
    t.match(result.stderr, REFUSAL, `${name}: one message for every refused path`);
    t.equal(result.stdout, '', name);
  }
});

t.test('refused: quoting tricks', async (t) => {
  for (const command of ["git-upload-pack 'team/app.git'; id", "git-upload-pack '$(id)'", 'git-upload-pack "team/app.git"', "git-upload-pack '--upload-pack=id'", "git-upload-pack 'team/app.git' && id"]) {
    const result = user.ssh([command], { input: '0000', extra: viaMaster });
    t.equal(result.status, 1, command);
    t.match(result.stderr, /^pushgate: /m, command);
    t.notMatch(result.stdout, /uid=/, command);
  }
  const utf = spawnSync('bash', ['-c', `${user.sshCommand()} ${sshd.user}@127.0.0.1 $'git-upload-pack \\'team/\\xff\\xfeapp.git\\'' </dev/null`], { encoding: 'utf8', timeout: 20_000 });
  t.equal(utf.status, 1, 'non-UTF-8');
  t.match(utf.stderr, /^pushgate: /m);
});

t.test('nothing outside reposRoot was created or changed', async (t) => {
  t.same(readdirSync(outside).sort(), ['secret.git']);
  t.notOk(existsSync(join(outside, 'secret.git', 'FETCH_HEAD')));
  const records = sshd.audit().filter((l: AuditLine) => l.type === 'ssh.command' && l.result === 'started');
  t.notOk(records.some((l) => (l.repository ?? '').includes('outside')), 'no command started on anything outside');
});

t.test('pushgate shell refuses when sshd does not expose the authentication (no ExposeAuthInfo)', async (t) => {
  const bare = await startSshd(t, { repos: ['team/app'], transform: (text) => text.replace(/^\s*ExposeAuthInfo yes\n/m, '') });
  const client = new Client(bare, 'noinfo').sign();
  const result = client.git(['ls-remote', bare.url('team/app')]);
  t.not(result.status, 0);
  t.match(result.stderr, /pushgate: SSH_USER_AUTH is not set/);
  const record = await bare.waitForAudit((l) => l.type === 'ssh.auth' && l.code === 'shell.no-auth-info');
  t.equal(record.result, 'refused');
});

// An sshd that leaves more to pushgate shell: terminals allowed, principals from a file (no principals command).
let variantKrl = '';
let variantPrincipals = '';
const variant = await startSshd(t, {
  repos: ['team/app'],
  configure(server) {
    variantKrl = join(server.dir, 'revoked.krl');
    writeFileSync(join(server.dir, 'serials'), 'serial: 2002\n');
    run('ssh-keygen', ['-q', '-k', '-f', variantKrl, '-s', join(server.dir, 'ca.pub'), join(server.dir, 'serials')]);
    server.setConfig(['ca', 'krl'], variantKrl);
    variantPrincipals = join(server.dir, 'principals');
    writeFileSync(variantPrincipals, 'tty\nfiled\nrevoked\n');
  },
  transform: (text) => text
    .replace(/PermitTTY no/, 'PermitTTY yes')
    .replace(/^\s*AuthorizedPrincipalsCommand .*\n/m, '')
    .replace(/^\s*AuthorizedPrincipalsCommandUser .*\n/m, '')
    .replace(/^(\s*)ExposeAuthInfo yes$/m, (line, indent: string) => `${line}\n${indent}AuthorizedPrincipalsFile ${variantPrincipals}`),
});

t.test('pushgate shell refuses a terminal even when sshd allows one (PermitTTY yes)', async (t) => {
  const client = new Client(variant, 'tty').sign();
  const result = client.ssh(["git-upload-pack 'team/app'"], { extra: ['-tt'], input: '0000' });
  t.not(result.status, 0);
  t.match(result.stdout + result.stderr, /pushgate: terminals are refused/);
  const record = await variant.waitForAudit((l) => l.type === 'ssh.command' && l.code === 'session.pty');
  t.equal(record.identity?.principal, 'tty');
});

t.test('without the principals command, pushgate shell itself refuses a revoked certificate', async (t) => {
  const fine = new Client(variant, 'filed').sign();
  const listed = fine.git(['ls-remote', variant.url('team/app')]);
  t.equal(listed.status, 0, listed.stderr);
  const revoked = new Client(variant, 'revoked').sign({ serial: 2002, keyId: 'case-shell-krl' });
  const refused = revoked.git(['ls-remote', variant.url('team/app')]);
  t.not(refused.status, 0);
  t.match(refused.stderr, /pushgate: access refused \(cert\.revoked\)/, 'sshd let it in; pushgate shell refused it');
  const record = await variant.waitForAudit((l) => l.type === 'ssh.auth' && l.identity?.keyId === 'case-shell-krl');
  t.match(record, { result: 'refused', code: 'cert.revoked' });
  t.match(record.reason, /^sshd session: /);
});
