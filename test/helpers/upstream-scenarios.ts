/**
 * The upstream-mode scenarios every kind of upstream server must pass, run
 * through one real `pushgate serve` per call with the real OpenSSH client
 * and git. A test file starts its upstream server, wraps it in an
 * UpstreamFixture, and calls `upstreamScenarios(t, fixture)`.
 *
 * The fixture interface (all a new kind of upstream server has to provide):
 *
 *   name             a short word for titles and messages ('file', 'ssh', 'gitolite', 'https')
 *   config           the upstreams[] fields besides name, repositories, fetchInterval and timeout:
 *                    `url` with {repo} (e.g. `ssh://git@127.0.0.1:PORT/{repo}.git`) and the
 *                    credential fields (sshKeyFile + knownHostsFile, username + tokenFile or
 *                    credentialHelper, caFile), paths absolute
 *   create(repo)     a repository `repo` (a name without .git, such as `team/clone`) upstream,
 *                    with one commit on main and HEAD on main
 *   refs(repo)       every ref and its id as the upstream holds them, read on the server's side
 *   directPush(repo, message)
 *                    a new commit on main made straight on the upstream, not through pushgate;
 *                    returns its id
 *   setRefusingHook(repo, text)
 *                    makes the upstream refuse every push to `repo`, printing `text` to the
 *                    pusher (its own hook or protection); `null` makes it accept again
 *   stop(), start()  the whole server stops answering (connections refused), and comes back on
 *                    the same address; each does nothing when the server is already so
 *
 * Repositories used: team/{clone,push,deny,park,stale,hook,down,race} (fetchInterval 300 ms) and
 * held/down (fetchInterval 1 h, so a push reaches the hook without a refresh first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, awsKeyId, awsSecret } from '../scan/fixtures.js';
import { SshUser, sleep, startGateway, type Gateway } from '../gateway/harness.js';
import { ALICE, queue } from '../queue/helpers.js';
import { scrapeUntil, valueOf } from '../metrics/scrape.js';
import { tempDir } from './tools.js';

export interface UpstreamFixture {
  name: string;
  config: { url: string } & Record<string, unknown>;
  create(repo: string): void | Promise<void>;
  refs(repo: string): Record<string, string> | Promise<Record<string, string>>;
  directPush(repo: string, message: string): string | Promise<string>;
  setRefusingHook(repo: string, text: string | null): void | Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

type Tap = Parameters<typeof tempDir>[0] & {
  test(name: string, fn: (t: any) => Promise<void> | void): Promise<unknown>;
};

export const SCENARIO_REPOS = ['team/clone', 'team/push', 'team/deny', 'team/park', 'team/stale', 'team/hook', 'team/down', 'team/race', 'held/down'] as const;

/** The two upstreams[] entries the scenarios use, for `fixture`. */
export function scenarioUpstreams(fixture: Pick<UpstreamFixture, 'config'>): unknown[] {
  return [
    { name: 'up', repositories: 'team/**', fetchInterval: '300ms', timeout: '20s', ...fixture.config },
    { name: 'up-held', repositories: 'held/**', fetchInterval: '1h', timeout: '20s', ...fixture.config },
  ];
}

/** Refs under refs/heads and refs/tags of a local bare repository. */
export function refsOf(gitDir: string): Record<string, string> {
  const out = spawnSync('git', ['--git-dir', gitDir, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads', 'refs/tags'], { encoding: 'utf8' }).stdout;
  return Object.fromEntries(out.split('\n').filter((l) => l !== '').map((l) => l.split(' ') as [string, string]));
}

/** The same for a set of refs read elsewhere: only refs/heads and refs/tags. */
export function branchesAndTags(refs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(refs).filter(([ref]) => ref.startsWith('refs/heads/') || ref.startsWith('refs/tags/')));
}

export function cloneAs(gateway: Gateway, who: SshUser, repo: string, t: Parameters<typeof tempDir>[0]): { dir: string; ran: ReturnType<SshUser['git']> } {
  const dir = join(tempDir(t), 'work');
  const ran = who.git(['clone', '-q', gateway.url(`${repo}.git`), dir]);
  return { dir, ran };
}

export function commitIn(who: SshUser, dir: string, file: string, content: string): string {
  spawnSync('sh', ['-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', file], { cwd: dir, input: content });
  who.git(['add', file], { cwd: dir });
  who.git(['commit', '-q', '-m', `add ${file}`], { cwd: dir });
  return who.git(['rev-parse', 'HEAD'], { cwd: dir }).stdout.trim();
}

function queueId(stderr: string): string {
  const match = /"queueId":"([^"]+)"/.exec(stderr);
  if (match === null) throw new Error(`the push was not parked:\n${stderr}`);
  return match[1]!;
}

/** Runs every scenario against `fixture` through one gateway; resolves to that gateway. */
export async function upstreamScenarios(t: Tap, fixture: UpstreamFixture): Promise<Gateway> {
  for (const repo of SCENARIO_REPOS) await fixture.create(repo);
  const gateway = await startGateway(t, {
    configure(server) {
      server.setConfig(['upstreams'], scenarioUpstreams(fixture));
    },
  });
  const user = new SshUser(gateway, 'agent-one').sign({ roles: ['agent'] } as never);
  const other = new SshUser(gateway, 'agent-two').sign({ roles: ['agent'] } as never);
  const mirror = (name: string): string => join(gateway.server.reposRoot, `${name}.git`);
  const upstreamRefs = async (repo: string): Promise<Record<string, string>> => branchesAndTags(await fixture.refs(repo));
  const clone = (who: SshUser, repo: string, tt: Parameters<typeof tempDir>[0]): ReturnType<typeof cloneAs> => cloneAs(gateway, who, repo, tt);
  const label = fixture.name;

  await t.test(`${label}: a clone through pushgate equals the upstream; a commit made upstream shows after fetchInterval`, async (t) => {
    const { dir, ran } = clone(user, 'team/clone', t);
    t.equal(ran.status, 0, ran.stderr);
    t.ok(existsSync(join(mirror('team/clone'), 'hooks', 'pre-receive')), 'the mirror was created with pushgate\'s hooks');
    t.same(refsOf(mirror('team/clone')), await upstreamRefs('team/clone'), 'the mirror holds the upstream\'s refs');
    t.equal(user.git(['rev-parse', 'HEAD'], { cwd: dir }).stdout.trim(), (await upstreamRefs('team/clone'))['refs/heads/main']);
    const direct = await fixture.directPush('team/clone', 'pushed directly upstream');
    let seen = '';
    for (let i = 0; i < 100 && seen !== direct; i++) {
      await sleep(100);
      user.git(['fetch', '-q', 'origin'], { cwd: dir });
      seen = user.git(['rev-parse', 'origin/main'], { cwd: dir }).stdout.trim();
    }
    t.equal(seen, direct, 'the upstream commit reached a fetch through pushgate');
  });

  await t.test(`${label}: an allowed push lands upstream with the same ids, then in the mirror`, async (t) => {
    const { dir } = clone(user, 'team/push', t);
    const head = commitIn(user, dir, 'hello.txt', 'hello\n');
    const pushed = user.git(['push', 'origin', 'HEAD:main', 'HEAD:refs/heads/feature'], { cwd: dir });
    t.equal(pushed.status, 0, pushed.stderr);
    t.match(pushed.stderr, /"decision":"allow"/);
    const after = await upstreamRefs('team/push');
    t.equal(after['refs/heads/main'], head, 'upstream main is the pushed commit');
    t.equal(after['refs/heads/feature'], head, 'both refs of the push landed upstream');
    t.same(refsOf(mirror('team/push')), after, 'the mirror equals the upstream');
    const forward = await gateway.waitForAudit((l) => l.type === 'upstream.forward' && l.repository === 'team/push');
    t.equal(forward.result, 'accepted');
    t.equal(forward.upstream, 'up');
  });

  await t.test(`${label}: a denied push changes nothing upstream or in the mirror`, async (t) => {
    const { dir } = clone(user, 'team/deny', t);
    const before = await upstreamRefs('team/deny');
    const rng = new Rng(7);
    commitIn(user, dir, 'creds.env', `AWS_ACCESS_KEY_ID=${awsKeyId(rng)}\nAWS_SECRET_ACCESS_KEY=${awsSecret(rng)}\n`);
    const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    t.not(pushed.status, 0);
    t.match(pushed.stderr, /"decision":"deny"/);
    t.same(await upstreamRefs('team/deny'), before, 'upstream unchanged');
    t.same(refsOf(mirror('team/deny')), before, 'mirror unchanged');
  });

  await t.test(`${label}: a parked push changes nothing until approved, then lands upstream`, async (t) => {
    const { dir } = clone(user, 'team/park', t);
    const before = await upstreamRefs('team/park');
    const head = commitIn(user, dir, '.github/workflows/ci.yml', 'on: push\n');
    const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    t.match(pushed.stderr, /"decision":"park"/, pushed.stderr);
    const id = queueId(pushed.stderr);
    t.same(await upstreamRefs('team/park'), before, 'nothing upstream while parked');
    t.same(refsOf(mirror('team/park')), before, 'nothing in the mirror\'s branches while parked');
    const approved = queue(gateway.server, ['approve', id], ALICE);
    t.equal(approved.status, 0, approved.stderr);
    t.equal((await upstreamRefs('team/park'))['refs/heads/main'], head, 'approved: the push landed upstream');
    t.equal(refsOf(mirror('team/park'))['refs/heads/main'], head, 'and in the mirror');
  });

  await t.test(`${label}: an upstream ref moved meanwhile makes the approval stale; nothing lands`, async (t) => {
    const { dir } = clone(user, 'team/stale', t);
    commitIn(user, dir, '.github/workflows/ci.yml', 'on: push\n');
    const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    const id = queueId(pushed.stderr);
    const moved = await fixture.directPush('team/stale', 'moved upstream');
    const approved = queue(gateway.server, ['approve', id], ALICE);
    t.not(approved.status, 0);
    t.match(approved.stderr, /stale/);
    t.equal((await upstreamRefs('team/stale'))['refs/heads/main'], moved, 'upstream keeps its own commit');
    t.equal(refsOf(mirror('team/stale'))['refs/heads/main'], moved, 'the mirror follows the upstream');
  });

  await t.test(`${label}: an upstream hook's refusal reaches the agent with its text; an approval it refuses stays pending`, async (t) => {
    const { dir } = clone(user, 'team/hook', t);
    const before = await upstreamRefs('team/hook');
    await fixture.setRefusingHook('team/hook', 'UPSTREAM-POLICY: main is protected, open a merge request');
    t.teardown(() => fixture.setRefusingHook('team/hook', null));
    commitIn(user, dir, 'a.txt', 'a\n');
    const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: dir });
    t.not(pushed.status, 0);
    t.match(pushed.stderr, /upstream\.rejected/);
    t.match(pushed.stderr, /UPSTREAM-POLICY: main is protected, open a merge request/, 'the upstream\'s own words reach the agent');
    t.same(await upstreamRefs('team/hook'), before);
    t.same(refsOf(mirror('team/hook')), before, 'nothing moved in the mirror');

    const parked = commitIn(user, dir, '.github/workflows/ci.yml', 'on: push\n');
    const id = queueId(user.git(['push', 'origin', 'HEAD:main'], { cwd: dir }).stderr);
    const approved = queue(gateway.server, ['approve', id], ALICE);
    t.equal(approved.status, 1, 'refused, not failed');
    t.match(approved.stderr, /UPSTREAM-POLICY/, 'the reviewer sees the upstream\'s reason');
    const shown = queue(gateway.server, ['show', id, '--format', 'json'], ALICE);
    t.equal(shown.json?.state ?? shown.json?.record?.state, 'pending', 'the entry stays pending');
    t.match(shown.stdout, /upstream-refused/, 'with the refusal in its history');
    await fixture.setRefusingHook('team/hook', null);
    const again = queue(gateway.server, ['approve', id], ALICE);
    t.equal(again.status, 0, again.stderr);
    t.equal((await upstreamRefs('team/hook'))['refs/heads/main'], parked, 'the approved commit landed upstream');
    t.equal(refsOf(mirror('team/hook'))['refs/heads/main'], parked, 'and in the mirror');
  });

  await t.test(`${label}: two agents racing on one ref: exactly one wins upstream, the mirror equals the upstream`, async (t) => {
    const a = clone(user, 'team/race', t);
    const b = clone(other, 'team/race', t);
    const ha = commitIn(user, a.dir, 'a.txt', 'a\n');
    const hb = commitIn(other, b.dir, 'b.txt', 'b\n');
    const [ra, rb] = await Promise.all([user.gitAsync(['push', 'origin', 'HEAD:main'], { cwd: a.dir }), other.gitAsync(['push', 'origin', 'HEAD:main'], { cwd: b.dir })]);
    const wins = [ra.status === 0, rb.status === 0].filter(Boolean).length;
    t.equal(wins, 1, `exactly one push wins:\n${ra.stderr}\n${rb.stderr}`);
    const loser = ra.status === 0 ? rb : ra;
    t.match(loser.stderr, /upstream\.rejected|fetch first|non-fast-forward|stale/i, 'the other is told clearly');
    t.equal((await upstreamRefs('team/race'))['refs/heads/main'], ra.status === 0 ? ha : hb);
    await sleep(400);
    other.git(['ls-remote', gateway.url('team/race.git')]);
    t.same(refsOf(mirror('team/race')), await upstreamRefs('team/race'), 'the mirror equals the upstream');
  });

  await t.test(`${label}: upstream stopped: pushes are denied upstream.unavailable, a clone is served from the mirror with a warning`, async (t) => {
    const down = clone(user, 'team/down', t);
    const held = clone(user, 'held/down', t);
    t.equal(held.ran.status, 0, held.ran.stderr);
    const before = refsOf(mirror('team/down'));
    const heldBefore = refsOf(mirror('held/down'));
    await fixture.stop();
    t.teardown(() => fixture.start());
    await sleep(400);
    commitIn(user, down.dir, 'b.txt', 'b\n');
    const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: down.dir });
    t.not(pushed.status, 0);
    t.match(pushed.stderr, /upstream up cannot be reached/, 'refused before git starts: the mirror could not be refreshed');
    t.match(pushed.stderr, /\(upstream\.unavailable\)/, 'the refusal names its code');
    t.same(refsOf(mirror('team/down')), before, 'the mirror did not move alone');

    // held/** is fresh for an hour: the session does not refresh, the hook meets the stopped upstream.
    commitIn(user, held.dir, 'c.txt', 'c\n');
    const direct = user.git(['push', 'origin', 'HEAD:main'], { cwd: held.dir });
    t.not(direct.status, 0);
    t.match(direct.stderr, /upstream\.unavailable/, 'the hook denies with upstream.unavailable');
    t.same(refsOf(mirror('held/down')), heldBefore, 'nothing applied locally alone');

    const again = clone(user, 'team/down', t);
    t.equal(again.ran.status, 0, again.ran.stderr);
    t.match(again.ran.stderr, /warning: upstream up cannot be reached; serving the last copy/);
    await gateway.waitForAudit((l) => l.type === 'upstream.refresh' && l.repository === 'team/down' && l.result === 'error');
    await gateway.waitForAudit((l) => l.type === 'upstream.forward' && l.repository === 'held/down' && l.result === 'unavailable');
    await fixture.start();
    t.same(await upstreamRefs('held/down'), heldBefore, 'and nothing upstream');
  });

  await t.test(`${label}: /metrics counts forwards by result, refresh latency and mirror staleness`, async (t) => {
    const forwards = (result: string) => (s: Parameters<typeof valueOf>[0]): number => valueOf(s, 'pushgate_upstream_forwards_total', { upstream: 'up', result });
    const { samples, text } = await scrapeUntil(gateway.httpUrl, (s) => forwards('accepted')(s) >= 1 && forwards('rejected')(s) >= 1
      && valueOf(s, 'pushgate_upstream_forwards_total', { upstream: 'up-held', result: 'unavailable' }) >= 1);
    t.ok(forwards('accepted')(samples) >= 2, 'accepted forwards (pushes and an approval) counted');
    t.ok(forwards('rejected')(samples) >= 1, 'the upstream hook\'s refusal counted');
    t.ok(valueOf(samples, 'pushgate_upstream_forwards_total', { upstream: 'up-held', result: 'unavailable' }) >= 1, 'the forward to a stopped upstream counted');
    t.ok(valueOf(samples, 'pushgate_upstream_refresh_duration_seconds_count', { upstream: 'up', result: 'ok' }) >= 1, 'refreshes timed');
    t.ok(valueOf(samples, 'pushgate_upstream_refresh_duration_seconds_count', { upstream: 'up', result: 'error' }) >= 1, 'failed refreshes timed apart');
    t.ok(samples.some((s) => s.name === 'pushgate_upstream_mirror_age_seconds' && s.labels.upstream === 'up' && s.value >= 0), 'the oldest mirror\'s age per upstream');
    t.notMatch(text, /pushgate_upstream_\w+\{[^}]*(team\/|held\/|agent-)/, 'no repository or principal in a label');
  });

  return gateway;
}
