/**
 * The upstream servers the upstream-mode tests forward to, proven with plain
 * git before pushgate is put in front of them: gitolite3 behind OpenSSH sshd
 * with deploy keys, and git http-backend behind nginx with TLS from a test CA
 * and basic auth with a token. What pushgate relies on is shown here: its
 * credential reads and writes, others are refused, an upstream-side refusal's
 * text reaches the client, atomic pushes and leases work, and a stopped
 * server refuses connections.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { BLOCKING_LIMIT, ran, run, tempDir, type Ran } from '../helpers/tools.js';
import { startGitoliteUpstream } from '../helpers/upstream-gitolite.js';
import { makeTestCa, startHttpsUpstream, tokenFileHelper } from '../helpers/upstream-https.js';
import type { DirectClone, UpstreamServer } from '../helpers/upstream-server.js';


function git(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Ran {
  return ran(spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, ...BLOCKING_LIMIT }));
}

/** A fresh clone through `env`'s credential, with a commit on main that is not pushed yet. */
function cloneAndCommit(t: Test, url: string, env: NodeJS.ProcessEnv, message: string): { path: string; head: string } {
  const path = join(tempDir(t, 'pushgate-upstream-client-'), 'work');
  const cloned = git(['clone', '--quiet', url, path], env);
  if (cloned.status !== 0) throw new Error(`clone failed: ${cloned.stderr}`);
  run('git', ['-C', path, 'checkout', '--quiet', '-B', 'main']);
  writeFileSync(join(path, `${message}.txt`), `${message}\n`);
  run('git', ['-C', path, 'add', '-A']);
  run('git', ['-C', path, '-c', 'user.name=Pushgate', '-c', 'user.email=pushgate@example.test', 'commit', '--quiet', '-m', message]);
  return { path, head: run('git', ['-C', path, 'rev-parse', 'HEAD']).trim() };
}

/** What every upstream must do for pushgate, whatever the transport. */
function commonBehaviour(t: Test, server: UpstreamServer, repo: string, pushgateEnv: NodeJS.ProcessEnv): void {
  let direct: DirectClone;
  let first = '';

  t.test('pushgate\'s credential clones and pushes; the ids on the server are the pushed ones', async (t) => {
    const work = cloneAndCommit(t, server.url(repo), pushgateEnv, 'first');
    const pushed = git(['push', '--porcelain', 'origin', 'main'], pushgateEnv, work.path);
    t.equal(pushed.status, 0, pushed.stderr);
    t.same(server.repos.refs(repo), { 'refs/heads/main': work.head });
    first = work.head;
  });

  t.test('someone else pushes directly; pushgate\'s credential fetches it', async (t) => {
    direct = server.directClone(t, repo);
    t.equal(direct.git('rev-parse', 'HEAD').trim(), first);
    const id = direct.commit('direct change', { 'direct.txt': 'from the developer\n' });
    const pushed = direct.push(['origin', 'main']);
    t.equal(pushed.code, 0, pushed.output);
    t.equal(server.repos.refs(repo)['refs/heads/main'], id);
    const seen = git(['ls-remote', server.url(repo), 'refs/heads/main'], pushgateEnv);
    t.equal(seen.status, 0, seen.stderr);
    t.equal(seen.stdout.split('\t')[0], id);
  });

  t.test('atomic pushes with leases: all refs or none, a moved ref is refused as stale', async (t) => {
    const before = server.repos.refs(repo)['refs/heads/main']!;
    const work = cloneAndCommit(t, server.url(repo), pushgateEnv, 'atomic');
    const both = git(['push', '--atomic', '--porcelain', `--force-with-lease=refs/heads/main:${before}`, '--force-with-lease=refs/heads/feature:', 'origin', 'main:refs/heads/main', 'main:refs/heads/feature'], pushgateEnv, work.path);
    t.equal(both.status, 0, both.stderr);
    t.same(server.repos.refs(repo), { 'refs/heads/main': work.head, 'refs/heads/feature': work.head });

    // The lease names the old value the pushgate side saw; the upstream moved since.
    const stale = git(['push', '--atomic', '--porcelain', `--force-with-lease=refs/heads/main:${before}`, `--force-with-lease=refs/heads/other:`, 'origin', `${before}:refs/heads/main`, 'main:refs/heads/other'], pushgateEnv, work.path);
    t.not(stale.status, 0);
    t.match(stale.stdout, /\[rejected\] \(stale info\)/);
    t.same(server.repos.refs(repo), { 'refs/heads/main': work.head, 'refs/heads/feature': work.head }, 'nothing moved, not even the ref that was not stale');
    const deleted = git(['push', '--porcelain', `--force-with-lease=refs/heads/feature:${work.head}`, 'origin', ':refs/heads/feature'], pushgateEnv, work.path);
    t.equal(deleted.status, 0, deleted.stderr);
    t.same(Object.keys(server.repos.refs(repo)), ['refs/heads/main']);
  });

  t.test('an upstream-side refusal: its text reaches the client, and nothing moves', async (t) => {
    const before = server.repos.refs(repo);
    server.setRefusingHook(repo, 'UPSTREAM-POLICY: pushes to main need ticket PG-42');
    const work = cloneAndCommit(t, server.url(repo), pushgateEnv, 'refused');
    const refused = git(['push', '--porcelain', 'origin', 'main'], pushgateEnv, work.path);
    t.not(refused.status, 0);
    t.match(refused.stderr, /remote: .*UPSTREAM-POLICY: pushes to main need ticket PG-42/);
    t.same(server.repos.refs(repo), before);
    server.setRefusingHook(repo, undefined);
    const again = git(['push', '--porcelain', 'origin', 'main'], pushgateEnv, work.path);
    t.equal(again.status, 0, again.stderr);
    t.equal(server.repos.refs(repo)['refs/heads/main'], work.head);
  });

  t.test('stopped, the server refuses connections; started again, it serves the same repositories', async (t) => {
    const before = server.repos.refs(repo);
    await server.stop();
    const down = git(['ls-remote', server.url(repo)], pushgateEnv);
    t.not(down.status, 0);
    t.match(down.stderr, /Connection refused|Failed to connect|Could not connect/i);
    await server.start();
    const up = git(['ls-remote', server.url(repo), 'refs/heads/main'], pushgateEnv);
    t.equal(up.status, 0, up.stderr);
    t.equal(up.stdout.split('\t')[0], before['refs/heads/main']);
  });
}

t.test('gitolite3 behind OpenSSH sshd', async (t) => {
  const gitolite = await startGitoliteUpstream(t);
  gitolite.createRepos('team/app', 'team/other');
  const pushgateEnv = { GIT_SSH_COMMAND: gitolite.sshCommand('pushgate') };
  t.same(gitolite.repos.refs('team/other'), {}, 'repositories are created empty');
  commonBehaviour(t, gitolite, 'team/app', pushgateEnv);

  t.test('a key gitolite does not know is refused by sshd', async (t) => {
    const dir = tempDir(t, 'pushgate-stranger-');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'stranger')]);
    const env = { GIT_SSH_COMMAND: gitolite.sshCommand('pushgate').replace(gitolite.sshKeyFile, join(dir, 'stranger')) };
    const refused = git(['ls-remote', gitolite.url('team/app')], env);
    t.not(refused.status, 0);
    t.match(refused.stderr, /Permission denied \(publickey\)/);
  });

  t.test('the host key is pinned: a known_hosts naming another key is refused', async (t) => {
    const dir = tempDir(t, 'pushgate-hostkey-');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')]);
    const [type, blob] = run('cat', [join(dir, 'other.pub')]).trim().split(/\s+/);
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${gitolite.port} ${type} ${blob}\n`);
    const env = { GIT_SSH_COMMAND: gitolite.sshCommand('pushgate').replace(gitolite.knownHostsFile, join(dir, 'known_hosts')) };
    const refused = git(['ls-remote', gitolite.url('team/app')], env);
    t.not(refused.status, 0);
    t.match(refused.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  t.test('only the admin key administers gitolite; the deploy key is a plain user', async (t) => {
    const refused = git(['ls-remote', gitolite.url('gitolite-admin')], pushgateEnv);
    t.not(refused.status, 0);
    t.match(refused.stderr, /DENIED/);
    t.match(gitolite.log(), /\bpushgate\b/, 'gitolite logged the deploy key\'s sessions by name');
  });
});

t.test('git http-backend behind nginx, TLS from a test CA, basic auth with a token', async (t) => {
  const https = await startHttpsUpstream(t);
  https.createRepos('team/app');
  const pushgateEnv = https.clientEnv('pushgate');
  commonBehaviour(t, https, 'team/app', pushgateEnv);

  t.test('a wrong token is refused and nothing moves', async (t) => {
    const before = https.repos.refs('team/app');
    const dir = tempDir(t, 'pushgate-wrong-token-');
    writeFileSync(join(dir, 'token'), 'not-the-token\n');
    const env = { ...pushgateEnv, GIT_CONFIG_VALUE_1: tokenFileHelper(https.username, join(dir, 'token')) };
    const refused = git(['ls-remote', https.url('team/app')], env);
    t.not(refused.status, 0);
    t.match(refused.stderr, /Authentication failed/);
    const work = cloneAndCommit(t, https.url('team/app'), pushgateEnv, 'wrong-token');
    const push = git(['push', 'origin', 'main'], env, work.path);
    t.not(push.status, 0);
    t.match(push.stderr, /Authentication failed/);
    t.same(https.repos.refs('team/app'), before);
  });

  t.test('without credentials every request is refused, reads included', async (t) => {
    const env = { ...pushgateEnv, GIT_CONFIG_VALUE_1: '' };
    const refused = git(['ls-remote', https.url('team/app')], env);
    t.not(refused.status, 0);
    t.match(refused.stderr, /could not read Username|Authentication failed/);
  });

  t.test('a client that does not trust the test CA refuses the server', async (t) => {
    const other = makeTestCa(tempDir(t, 'pushgate-other-ca-'), 'some other CA');
    for (const cainfo of [other.cert, '/etc/ssl/certs/ca-certificates.crt']) {
      const refused = git(['ls-remote', https.url('team/app')], { ...pushgateEnv, GIT_SSL_CAINFO: cainfo });
      t.not(refused.status, 0);
      t.match(refused.stderr, /certificate/i, cainfo);
    }
  });

  t.test('the token never reaches nginx\'s logs', async (t) => {
    const token = run('cat', [https.tokenFile]).trim();
    t.ok(token.length >= 32);
    t.notMatch(https.log(), token);
    t.match(https.log(), /"GET \/team\/app\.git\/info\/refs\?service=git-upload-pack HTTP\/1\.1" 200/);
  });
});
