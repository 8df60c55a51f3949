/**
 * `pushgate upstream check` and `pushgate upstream sync` against a real
 * sshd + git-shell upstream, and `pushgate config check` on upstreams
 * entries an administrator gets wrong.
 */
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushgateCli, testServer } from '../helpers/git-server.js';
import { freePort, run, tempDir } from '../helpers/tools.js';
import { startSshUpstream } from '../helpers/upstream-sshd.js';
import { baseEnv } from '../queue/helpers.js';

const ssh = await startSshUpstream(t);
ssh.repos.create('good/app');
ssh.repos.create('good/lib');
const keys = tempDir(t, 'pushgate-keys-');
// A key the upstream does not know, and a host key that is not the upstream's.
const strangerKey = join(keys, 'stranger');
run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', strangerKey]);
run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keys, 'other_host')]);
const wrongHosts = join(keys, 'wrong_known_hosts');
writeFileSync(wrongHosts, `[127.0.0.1]:${ssh.port} ${readFileSync(join(keys, 'other_host.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
const closed = await freePort();

const server = testServer(t);
const entry = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name, repositories: `${name}/app`, url: ssh.urlTemplate, sshKeyFile: ssh.deployKey, knownHostsFile: ssh.knownHosts, timeout: '10s', ...extra,
});
server.setConfig(['upstreams'], [
  { ...entry('good'), repositories: 'good/**' },
  entry('hostkey', { knownHostsFile: wrongHosts }),
  entry('nokey', { sshKeyFile: join(keys, 'missing') }),
  entry('closed', { url: `ssh://root@127.0.0.1:${closed}/srv/{repo}.git` }),
  entry('credential', { sshKeyFile: strangerKey }),
  entry('norepo'),
]);
const cli = (args: string[]) => pushgateCli([...args, '--config', server.configPath], { env: baseEnv() });

/** The lines `upstream check` printed for one upstream. */
const linesOf = (stdout: string, name: string): string => stdout.split('\n').filter((l) => l.startsWith(`${name}: `)).join('\n');

t.test('upstream check: a pattern without a mirror needs --repo; an unknown name is refused', async (t) => {
  const pattern = cli(['upstream', 'check', 'good']);
  t.equal(pattern.status, 1);
  t.match(pattern.stdout, /repositories is a pattern \(good\/\*\*\) and no mirror of it exists yet: name a repository to try with --repo/);
  const unknown = cli(['upstream', 'check', 'nothere']);
  t.equal(unknown.status, 1);
  t.match(unknown.stderr, /no upstream is named "nothere"; the configuration has good, hostkey/);
});

t.test('upstream check: a good upstream passes every step, with --write too', async (t) => {
  const checked = cli(['upstream', 'check', 'good', '--repo', 'good/app', '--write']);
  t.equal(checked.status, 0, checked.stdout + checked.stderr);
  t.match(checked.stdout, /good: ok files: credential files are readable by pushgate only/);
  t.match(checked.stdout, /good: ok reach: reached ssh:\/\/.*, host key matches knownHostsFile, credential accepted/);
  t.match(checked.stdout, /good: ok read: read good\/app: 1 branch/);
  t.match(checked.stdout, /good: ok write: a dry-run push to good\/app was accepted \(nothing was sent\)/);
  t.same(Object.keys(ssh.repos.refs('good/app')), ['refs/heads/main'], 'the dry run left the upstream as it was');
});

t.test('upstream check: each broken upstream fails with what to do', async (t) => {
  // good/** is a pattern: the check tries a mirror of it (made here by sync).
  t.equal(cli(['upstream', 'sync', 'good/app']).status, 0);
  const checked = cli(['upstream', 'check']);
  t.equal(checked.status, 1, 'exit 1: a check failed');
  t.match(linesOf(checked.stdout, 'good'), /good: ok read/, 'the good one still passes');
  t.match(linesOf(checked.stdout, 'hostkey'), /FAILED reach: the upstream's host key is not the one in knownHostsFile .*wrong_known_hosts.*ssh-keyscan/);
  t.match(linesOf(checked.stdout, 'nokey'), /FAILED files: sshKeyFile .*missing cannot be read by this user \(ENOENT\)/);
  t.match(linesOf(checked.stdout, 'closed'), /FAILED reach: nothing answers at the upstream's address: check the url, the port and the firewall/);
  t.match(linesOf(checked.stdout, 'credential'), /FAILED reach: the upstream refused pushgate's credential: check that the public half of .*stranger is a deploy key/);
  t.match(linesOf(checked.stdout, 'norepo'), /FAILED reach: the upstream answered, but has no such repository/);
  t.notMatch(checked.stdout, /PRIVATE KEY/, 'no key material');
});

t.test('upstream sync creates a mirror, then refreshes it; names without an upstream are refused', async (t) => {
  const mirror = join(server.reposRoot, 'good/app.git');
  const created = cli(['upstream', 'sync', 'good/lib']);
  t.equal(created.status, 0, created.stderr);
  t.match(created.stdout, /good\/lib: mirror created/);
  t.ok(existsSync(join(server.reposRoot, 'good/lib.git', 'HEAD')));
  t.ok(existsSync(join(server.reposRoot, 'good/lib.git', 'hooks', 'pre-receive')), 'with pushgate\'s hooks');
  const moved = ssh.repos.commit('good/app', 'made upstream');
  const refreshed = cli(['upstream', 'sync', 'good/app.git']);
  t.equal(refreshed.status, 0, refreshed.stderr);
  t.match(refreshed.stdout, /good\/app: refreshed/);
  t.equal(run('git', ['--git-dir', mirror, 'rev-parse', 'refs/heads/main']).trim(), moved, 'the mirror has the upstream\'s new commit');
  const none = cli(['upstream', 'sync', 'elsewhere/app']);
  t.equal(none.status, 1);
  t.match(none.stderr, /elsewhere\/app matches no upstream/);
  await ssh.stop();
  t.teardown(() => ssh.start());
  const down = cli(['upstream', 'sync', 'good/app']);
  t.equal(down.status, 2, 'could not run: the upstream is down');
  t.match(down.stderr, /good\/app: fetching from upstream good failed/);
  t.equal(run('git', ['--git-dir', mirror, 'rev-parse', 'refs/heads/main']).trim(), moved, 'the mirror is left as it was');
});

t.test('config check: each mistake in upstreams is named by its path', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'pushgate.yaml');
  writeFileSync(config, [
    `reposRoot: ${join(dir, 'repos')}`,
    'upstreams:',
    '  - { name: Bad Name, repositories: "a/**", url: "file:///srv/{repo}.git" }',
    '  - { name: norepo, repositories: "b/**", url: "ssh://git@h/x.git", sshKeyFile: k, knownHostsFile: h }',
    '  - { name: sshbare, repositories: "c/**", url: "ssh://git@h/{repo}.git", tokenFile: t }',
    '  - { name: https, repositories: "d/**", url: "https://h/{repo}.git", sshKeyFile: k }',
    '  - { name: userinfo, repositories: "e/**", url: "https://TOKENVALUE@h/{repo}.git", username: u, tokenFile: t }',
    '  - { name: plain, repositories: "f/**", url: "http://git.example.com/{repo}.git", credentialHelper: store }',
    '  - { name: both, repositories: "g/**", url: "https://h/{repo}.git", username: u, tokenFile: t, credentialHelper: store }',
    '  - { name: nouser, repositories: "h/**", url: "https://h/{repo}.git", tokenFile: t }',
    '  - { name: https, repositories: "d/**", url: "file:///srv/{repo}.git" }',
    '  - { name: ftp, repositories: "i/**", url: "ftp://h/{repo}.git" }',
    '',
  ].join('\n'));
  const checked = pushgateCli(['config', 'check', '--config', config], { env: baseEnv() });
  t.equal(checked.status, 1);
  const expect: Array<[string, RegExp]> = [
    ['upstreams[0].name', /a name is lowercase letters, digits and \. _ -/],
    ['upstreams[1].url', /the URL needs \{repo\}/],
    ['upstreams[2].tokenFile', /not used with an ssh upstream/],
    ['upstreams[3].sshKeyFile', /not used with an https upstream/],
    ['upstreams[3].tokenFile', /an https upstream needs a credential/],
    ['upstreams[4].url', /the URL carries a user name, password or token; put the user name in username and the token in tokenFile/],
    ['upstreams[5].url', /plain http would send the credential in the clear/],
    ['upstreams[6].credentialHelper', /give either tokenFile \(with username\) or credentialHelper, not both/],
    ['upstreams[7].username', /tokenFile needs a username/],
    ['upstreams[8].name', /upstreams\[3\] is already named "https"/],
    ['upstreams[8].repositories', /upstreams\[3\] \(https\) already covers "d\/\*\*"/],
    ['upstreams[9].url', /expected an ssh:\/\/, https:\/\/ or file:\/\/ URL/],
  ];
  for (const [path, message] of expect) {
    const line = checked.stderr.split('\n').find((l) => l.includes(`${path}: `) && message.test(l));
    t.ok(line, `${path}: ${message.source}\n${checked.stderr}`);
  }
  t.notMatch(checked.stderr, /TOKENVALUE/, 'a token written into the URL is not repeated');
});
