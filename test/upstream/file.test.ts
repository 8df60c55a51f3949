import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { join } from 'node:path';
import { SshUser, sleep } from '../gateway/harness.js';
import { baseEnv } from '../queue/helpers.js';
import { BLOCKING_LIMIT, pushgateBin } from '../helpers/tools.js';
import { fileFixture, upstreamRepos } from '../helpers/upstream-sshd.js';
import { cloneAs, commitIn, refsOf, upstreamScenarios } from '../helpers/upstream-scenarios.js';

// The upstream is a directory of bare repositories reached by file://.
const repos = upstreamRepos(t);
const gateway = await upstreamScenarios(t, fileFixture(repos));
const user = new SshUser(gateway, 'agent-three').sign({ roles: ['agent'] } as never);
const other = new SshUser(gateway, 'agent-four').sign({ roles: ['agent'] } as never);

t.test('a refresh between the upstream accepting a push and git applying it here does not make the push fail', async (t) => {
  repos.create('team/window');
  const { dir, ran } = cloneAs(gateway, user, 'team/window', t);
  t.equal(ran.status, 0, ran.stderr);
  // The upstream holds the push after moving its ref: its post-receive waits for a signal.
  const signal = join(repos.root, 'window.go');
  writeFileSync(join(repos.path('team/window'), 'hooks', 'post-receive'), `#!/bin/sh\ncat >/dev/null\nwhile [ ! -e '${signal}' ]; do sleep 0.05; done\n`, { mode: 0o755 });
  t.teardown(() => writeFileSync(signal, ''));
  const head = commitIn(user, dir, 'w.txt', 'w\n');
  const push = user.gitAsync(['push', 'origin', 'HEAD:main'], { cwd: dir });
  for (let i = 0; i < 600 && repos.refs('team/window')['refs/heads/main'] !== head; i++) await sleep(50);
  t.equal(repos.refs('team/window')['refs/heads/main'], head, 'the upstream took the push');
  // The mirror is now older than fetchInterval: the next session wants to refresh it.
  await sleep(400);
  const read = other.gitAsync(['ls-remote', gateway.url('team/window.git')]);
  // The reader's session is in (a slow handshake would otherwise let the push finish first,
  // and the window would never be tried); then it has time to refresh if it is going to
  // (it must wait for the push instead).
  await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.identity?.principal === 'agent-four');
  await Promise.race([read, sleep(1500)]);
  writeFileSync(signal, '');
  const pushed = await push;
  t.equal(pushed.status, 0, `the push that landed upstream is reported as landed:\n${pushed.stderr}`);
  const listed = await read;
  t.equal(listed.status, 0, listed.stderr);
  t.match(listed.stdout, new RegExp(`^${head}\\trefs/heads/main$`, 'm'), 'the reader sees the push once it is applied');
  t.equal(refsOf(join(gateway.server.reposRoot, 'team/window.git'))['refs/heads/main'], head);
});

t.test('pushgate repo create refuses a name an upstream covers', async (t) => {
  const create = (name: string) => spawnSync(process.execPath, [pushgateBin, 'repo', 'create', name, '--config', gateway.server.configPath], { encoding: 'utf8', env: baseEnv(), ...BLOCKING_LIMIT });
  const refused = create('team/fresh');
  t.equal(refused.status, 1, refused.stderr);
  t.match(refused.stderr, /team\/fresh belongs to upstream up/);
  t.match(refused.stderr, /pushgate upstream sync team\/fresh/, 'says how the mirror is made');
  t.notOk(existsSync(join(gateway.server.reposRoot, 'team/fresh.git')), 'nothing created');
  const local = create('local/app');
  t.equal(local.status, 0, local.stderr);
  t.ok(existsSync(join(gateway.server.reposRoot, 'local/app.git', 'HEAD')), 'a name no upstream covers is created as before');
});

t.test('a mirror whose upstream the configuration no longer names: a push is denied, nothing moves here or upstream', async (t) => {
  repos.create('team/orphan');
  const { dir, ran } = cloneAs(gateway, user, 'team/orphan', t);
  t.equal(ran.status, 0, ran.stderr);
  const mirror = join(gateway.server.reposRoot, 'team/orphan.git');
  const [mirrorBefore, upstreamBefore] = [refsOf(mirror), repos.refs('team/orphan')];
  // The administrator narrows the upstream's pattern; the mirror stays on disk.
  gateway.server.setConfig(['upstreams', 0, 'repositories'], 'elsewhere/**');
  t.teardown(() => gateway.server.setConfig(['upstreams', 0, 'repositories'], 'team/**'));
  commitIn(user, dir, 'o.txt', 'o\n');
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  t.not(pushed.status, 0, pushed.stderr);
  t.match(pushed.stderr, /upstream\.unavailable/);
  t.match(pushed.stderr, /team\/orphan mirrors an upstream that this configuration does not name/);
  t.same(refsOf(mirror), mirrorBefore, 'the mirror did not move alone');
  t.same(repos.refs('team/orphan'), upstreamBefore, 'nor did the upstream');
  // No upstream configured at all: the same.
  const upstreams = parse(readFileSync(gateway.server.configPath, 'utf8')).upstreams;
  gateway.server.setConfig(['upstreams'], []);
  t.teardown(() => gateway.server.setConfig(['upstreams'], upstreams));
  const again = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
  t.not(again.status, 0, again.stderr);
  t.match(again.stderr, /team\/orphan mirrors an upstream that this configuration does not name/);
  t.same(refsOf(mirror), mirrorBefore, 'the mirror still did not move');
});
