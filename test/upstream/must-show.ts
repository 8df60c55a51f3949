/**
 * What upstream mode must show against every kind of real upstream server,
 * written once: a clone through pushgate equals the upstream; a commit pushed
 * directly upstream shows through pushgate after fetchInterval; an allowed
 * push lands upstream with identical ids; a denied push changes nothing; a
 * parked push lands only once approved; an upstream ref moved meanwhile makes
 * the approval stale; the upstream's own refusal reaches the agent with its
 * text; two agents racing on one ref → exactly one wins upstream; the
 * upstream stopped → pushes denied (upstream.unavailable), clones served from
 * the mirror with a warning.
 *
 * One pushgate gateway per server, one upstream repository per case.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { SshUser, sleep, startGateway, type Gateway } from '../gateway/harness.js';
import { ALICE, queue } from '../queue/helpers.js';
import { Rng, awsKeyId, awsSecret } from '../scan/fixtures.js';
import { tempDir } from '../helpers/tools.js';
import type { UpstreamServer } from '../helpers/upstream-server.js';

const CASES = ['clone', 'push', 'deny', 'park', 'stale', 'hook', 'race', 'down'] as const;

/** The refs pushgate's mirror holds (its own refs/pushgate/** aside). */
function mirrorRefs(gateway: Gateway, repo: string): Record<string, string> {
  const out = spawnSync('git', ['--git-dir', join(gateway.server.reposRoot, `${repo}.git`), 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads', 'refs/tags'], { encoding: 'utf8' }).stdout;
  return Object.fromEntries(out.split('\n').filter((l) => l !== '').map((l) => l.split(' ') as [string, string]));
}

function queueId(output: string): string {
  const id = /"queueId":"([^"]+)"/.exec(output)?.[1];
  if (id === undefined) throw new Error(`the push was not parked:\n${output}`);
  return id;
}

/**
 * Runs the cases against `server`, with pushgate configured to forward to it
 * as upstream `name` with `credentials` (sshKeyFile + knownHostsFile, or
 * username + tokenFile + caFile). `env` is added to pushgate's environment.
 */
export async function mustShow(t: Test, server: UpstreamServer, name: string, credentials: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const repo = (c: (typeof CASES)[number]): string => `team/${c}`;
  server.createRepos(...CASES.map(repo));
  for (const c of CASES) server.repos.commit(repo(c), 'initial', { 'README.md': `# ${c}\n` });

  const gateway = await startGateway(t, {
    env,
    configure(s) {
      s.setConfig(['upstreams'], [{ name, repositories: 'team/**', url: server.urlTemplate, ...credentials, fetchInterval: '300ms', timeout: '20s' }]);
    },
  });
  const agent = new SshUser(gateway, 'agent-one').sign({ roles: ['agent'] });
  const other = new SshUser(gateway, 'agent-two').sign({ roles: ['agent'] });

  function clone(who: SshUser, c: (typeof CASES)[number], t: Test): string {
    const dir = join(tempDir(t), 'work');
    const cloned = who.git(['clone', '-q', gateway.url(`${repo(c)}.git`), dir]);
    if (cloned.status !== 0) throw new Error(`clone through pushgate failed:\n${cloned.stderr}`);
    return dir;
  }

  function commit(who: SshUser, dir: string, file: string, content: string): string {
    spawnSync('sh', ['-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', file], { cwd: dir, input: content });
    who.git(['add', file], { cwd: dir });
    who.git(['commit', '-q', '-m', `add ${file}`], { cwd: dir });
    return who.git(['rev-parse', 'HEAD'], { cwd: dir }).stdout.trim();
  }

  t.test('a clone through pushgate equals the upstream; a commit pushed directly upstream shows after fetchInterval', async (t) => {
    const dir = clone(agent, 'clone', t);
    t.same(mirrorRefs(gateway, repo('clone')), server.repos.refs(repo('clone')), 'the mirror holds the upstream\'s refs');
    t.equal(agent.git(['rev-parse', 'HEAD'], { cwd: dir }).stdout.trim(), server.repos.refs(repo('clone'))['refs/heads/main']);

    const direct = server.directClone(t, repo('clone'));
    const id = direct.commit('pushed directly upstream', { 'direct.txt': 'straight to the upstream\n' });
    const pushed = direct.push(['origin', 'main']);
    t.equal(pushed.code, 0, pushed.output);
    let seen = '';
    for (let i = 0; i < 100 && seen !== id; i++) {
      await sleep(100);
      agent.git(['fetch', '-q', 'origin'], { cwd: dir });
      seen = agent.git(['rev-parse', 'origin/main'], { cwd: dir }).stdout.trim();
    }
    t.equal(seen, id, 'the direct commit reached a fetch through pushgate');
  });

  t.test('an allowed push lands upstream with identical ids, then in the mirror', async (t) => {
    const dir = clone(agent, 'push', t);
    const head = commit(agent, dir, 'hello.txt', 'hello\n');
    const tree = agent.git(['rev-parse', 'HEAD^{tree}'], { cwd: dir }).stdout.trim();
    const pushed = agent.git(['push', 'origin', 'HEAD:main', 'HEAD:refs/heads/feature'], { cwd: dir });
    t.equal(pushed.status, 0, pushed.stderr);
    t.match(pushed.stderr, /"decision":"allow"/);
    t.same(server.repos.refs(repo('push')), { 'refs/heads/main': head, 'refs/heads/feature': head }, 'both refs landed upstream, same commit id');
    t.equal(spawnSync('git', ['--git-dir', server.repos.path(repo('push')), 'rev-parse', 'main^{tree}'], { encoding: 'utf8' }).stdout.trim(), tree, 'same tree id upstream');
    t.same(mirrorRefs(gateway, repo('push')), server.repos.refs(repo('push')), 'the mirror equals the upstream');
    const forward = await gateway.waitForAudit((l) => l.type === 'upstream.forward' && l.repository === repo('push'));
    t.match(forward, { result: 'accepted', upstream: name });
  });

  t.test('a denied push changes nothing upstream or in the mirror', async (t) => {
    const dir = clone(agent, 'deny', t);
    const before = server.repos.refs(repo('deny'));
    const rng = new Rng(11);
    commit(agent, dir, 'creds.env', `AWS_ACCESS_KEY_ID=${awsKeyId(rng)}\nAWS_SECRET_ACCESS_KEY=${awsSecret(rng)}\n`);
    const pushed = agent.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    t.not(pushed.status, 0);
    t.match(pushed.stderr, /"decision":"deny"/);
    t.same(server.repos.refs(repo('deny')), before, 'upstream unchanged');
    t.same(mirrorRefs(gateway, repo('deny')), before, 'mirror unchanged');
  });

  t.test('a parked push changes nothing upstream until approved, then lands', async (t) => {
    const dir = clone(agent, 'park', t);
    const before = server.repos.refs(repo('park'));
    const head = commit(agent, dir, '.github/workflows/ci.yml', 'on: push\n');
    const pushed = agent.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    t.match(pushed.stderr, /"decision":"park"/);
    const id = queueId(pushed.stderr);
    t.same(server.repos.refs(repo('park')), before, 'nothing upstream while parked');
    t.same(mirrorRefs(gateway, repo('park')), before, 'nothing in the mirror\'s branches while parked');
    const approved = queue(gateway.server, ['approve', id], ALICE);
    t.equal(approved.status, 0, approved.stderr);
    t.equal(server.repos.refs(repo('park'))['refs/heads/main'], head, 'approved: the push landed upstream');
    t.equal(mirrorRefs(gateway, repo('park'))['refs/heads/main'], head, 'and in the mirror');
  });

  t.test('an upstream ref moved meanwhile makes the approval stale; nothing lands', async (t) => {
    const dir = clone(agent, 'stale', t);
    commit(agent, dir, '.github/workflows/ci.yml', 'on: push\n');
    const id = queueId(agent.git(['push', 'origin', 'HEAD:main'], { cwd: dir }).stderr);
    const direct = server.directClone(t, repo('stale'));
    const moved = direct.commit('moved upstream meanwhile');
    t.equal(direct.push(['origin', 'main']).code, 0);
    const approved = queue(gateway.server, ['approve', id], ALICE);
    t.not(approved.status, 0);
    t.match(approved.stderr, /stale/);
    t.equal(server.repos.refs(repo('stale'))['refs/heads/main'], moved, 'the upstream keeps the direct commit');
    t.equal(mirrorRefs(gateway, repo('stale'))['refs/heads/main'], moved, 'the mirror follows the upstream');
  });

  t.test('the upstream\'s own refusal reaches the agent with its text; nothing moves', async (t) => {
    const dir = clone(agent, 'hook', t);
    const before = server.repos.refs(repo('hook'));
    server.setRefusingHook(repo('hook'), 'UPSTREAM-POLICY: main is protected, open a merge request');
    t.teardown(() => server.setRefusingHook(repo('hook'), undefined));
    commit(agent, dir, 'a.txt', 'a\n');
    const pushed = agent.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    t.not(pushed.status, 0);
    t.match(pushed.stderr, /upstream\.rejected/);
    t.match(pushed.stderr, /UPSTREAM-POLICY: main is protected, open a merge request/, 'the upstream\'s words reach the agent');
    t.same(server.repos.refs(repo('hook')), before, 'upstream unchanged');
    t.same(mirrorRefs(gateway, repo('hook')), before, 'mirror unchanged');
  });

  t.test('two agents racing on one ref: exactly one wins upstream, the other is told, the mirror equals the upstream', async (t) => {
    const a = clone(agent, 'race', t);
    const b = clone(other, 'race', t);
    const ha = commit(agent, a, 'a.txt', 'a\n');
    const hb = commit(other, b, 'b.txt', 'b\n');
    const [ra, rb] = await Promise.all([agent.gitAsync(['push', 'origin', 'HEAD:main'], { cwd: a }), other.gitAsync(['push', 'origin', 'HEAD:main'], { cwd: b })]);
    t.equal([ra, rb].filter((r) => r.status === 0).length, 1, `exactly one push wins:\n${ra.stderr}\n${rb.stderr}`);
    const loser = ra.status === 0 ? rb : ra;
    t.match(loser.stderr, /upstream\.rejected|stale|fetch first|non-fast-forward|cannot lock ref/i, 'the other is told why');
    t.equal(server.repos.refs(repo('race'))['refs/heads/main'], ra.status === 0 ? ha : hb, 'the winner is upstream');
    await sleep(400);
    other.git(['ls-remote', gateway.url(`${repo('race')}.git`)]);
    t.same(mirrorRefs(gateway, repo('race')), server.repos.refs(repo('race')), 'the mirror equals the upstream');
  });

  // Last: it stops the server.
  t.test('upstream stopped: a push is denied with upstream.unavailable, a clone is served from the mirror with a warning', async (t) => {
    const dir = clone(agent, 'down', t);
    const before = server.repos.refs(repo('down'));
    await server.stop();
    t.teardown(() => server.start());
    await sleep(400);
    commit(agent, dir, 'b.txt', 'b\n');
    const pushed = agent.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    t.not(pushed.status, 0);
    t.match(pushed.stderr, new RegExp(`upstream ${name} cannot be reached, so pushes to team/down are refused`));
    const refusal = await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.repository === repo('down') && l.result === 'refused');
    t.equal(refusal.code, 'upstream.unavailable');
    t.same(mirrorRefs(gateway, repo('down')), before, 'the mirror did not move alone');
    t.same(server.repos.refs(repo('down')), before);
    const again = join(tempDir(t), 'again');
    const cloned = agent.git(['clone', '-q', gateway.url(`${repo('down')}.git`), again]);
    t.equal(cloned.status, 0, cloned.stderr);
    t.match(cloned.stderr, new RegExp(`warning: upstream ${name} cannot be reached; serving the last copy`));
    t.equal(agent.git(['rev-parse', 'HEAD'], { cwd: again }).stdout.trim(), before['refs/heads/main'], 'the stale copy is the last upstream state');
    await gateway.waitForAudit((l) => l.type === 'upstream.refresh' && l.repository === repo('down') && l.result === 'error');
  });
}
