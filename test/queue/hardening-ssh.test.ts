import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SshUser, startGateway } from '../gateway/harness.js';
import { run, runAsync, type Ran } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';
import { entryRepo, hasObject, recordRepo } from './helpers.js';

/**
 * A parked push against the real gateway, with two agents, the pusher's
 * human sponsor and a reviewer, through OpenSSH and git: who can see the
 * entry, who can fetch its objects (by any protocol, by id, by name, by
 * archive, through the entry's own path), what happens to them on
 * rejection, how hostile text in it reaches the reviewer, how waits are
 * served and bounded, and that no answer names a server path.
 */
t.test('a parked push is readable by its reviewers and pusher only, and gone after rejection', async (t) => {
  const gateway = await startGateway(t, {
    repos: ['team/app'],
    configure: (server) => server.setConfig(['queue', 'waits', 'perIdentity'], 2),
  });
  const rng = new Rng(7);
  const token = gh(rng);
  const agent = new SshUser(gateway, 'agent-7').sign({ roles: ['agent'], options: ['extension:sponsor@pushgate=carol'] });
  const other = new SshUser(gateway, 'agent-8').sign({ roles: ['agent'] });
  const carol = new SshUser(gateway, 'carol').sign({ roles: ['agent'] });
  const rita = new SshUser(gateway, 'rita').sign({ roles: ['reviewer'] });
  const url = `ssh://git@127.0.0.1:${gateway.port}/team/app.git`;
  const remote = join(gateway.server.reposRoot, 'team', 'app.git');
  /** Everything a non-administrator was told, to look for server paths at the end. */
  const told: string[] = [];
  const keep = (ran: Ran): Ran => {
    told.push(ran.stdout, ran.stderr);
    return ran;
  };

  const work = join(gateway.dir, 'agent-work');
  t.equal(agent.git(['clone', '-q', url, work]).status, 0);
  agent.git(['checkout', '-q', '-b', 'main'], { cwd: work });
  agent.git(['commit', '-q', '--allow-empty', '-m', 'base'], { cwd: work });
  t.equal(agent.git(['push', '-q', 'origin', 'main'], { cwd: work }).status, 0, 'base push allowed');

  mkdirSync(join(work, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(work, '.github', 'workflows', 'ci.yml'), 'on: push\n');
  mkdirSync(join(work, 'notes'));
  const content = `parked content ${Date.now()}\n`;
  writeFileSync(join(work, 'notes', 'parked.txt'), content);
  agent.git(['add', '-A'], { cwd: work });
  agent.git(['commit', '-q', '-m', `deploy \u001b[8mhidden\u001b[0m ${token}`], { cwd: work });
  const tip = agent.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim();
  const tree = agent.git(['rev-parse', 'HEAD^{tree}'], { cwd: work }).stdout.trim();
  const blob = agent.git(['rev-parse', 'HEAD:notes/parked.txt'], { cwd: work }).stdout.trim();
  // The token in the commit message is a finding of its own (messages are scanned): the pusher asks for review, so it parks.
  const parked = keep(agent.git(['push', '-o', `review=urgent \u001b]52;c;aGk=\u0007 ${token}`, 'origin', 'main'], { cwd: work }));
  t.not(parked.status, 0, 'the push is refused for now');
  const id = /"queueId":"([a-z0-9]+)"/.exec(parked.stderr)?.[1] ?? '';
  t.ok(id, `parked: ${parked.stderr.slice(0, 300)}`);
  for (const oid of [tip, tree, blob]) t.notOk(hasObject(remote, oid), 'the repository\'s object store never holds the parked objects');

  await t.test('another agent gets nothing of it, by any way in', async (t) => {
    const clone = join(gateway.dir, 'other-clone');
    t.equal(other.git(['clone', '-q', url, clone]).status, 0);
    for (const version of ['2', '0']) {
      const listed = other.git(['-c', `protocol.version=${version}`, 'ls-remote', 'origin'], { cwd: clone });
      t.equal(listed.status, 0);
      t.notMatch(listed.stdout, /pushgate/, `ls-refs (v${version}) shows nothing of the queue`);
      for (const oid of [tip, tree, blob]) {
        const fetched = keep(other.git(['-c', `protocol.version=${version}`, 'fetch', 'origin', oid], { cwd: clone }));
        t.not(fetched.status, 0, `v${version} fetch by id of ${oid} refused`);
      }
    }
    t.not(other.git(['cat-file', '-e', blob], { cwd: clone }).status, 0, 'the blob never reached the clone');
    for (const name of [`refs/pushgate/pending/${id}/heads/main`, tip, `refs/pushgate/queue/${id}`]) {
      const archived = spawnSync('git', ['archive', `--remote=${url}`, name], { cwd: clone, env: other.gitEnv(), timeout: 60_000 });
      t.not(archived.status, 0, `git archive --remote ${name} refused`);
      t.notOk(archived.stdout.includes(Buffer.from(content)));
    }
    // The entry's own store, by the gateway's entry path and by its path on disk.
    const entryFetch = keep(other.git(['fetch', `${url}/.queue/${id}`, `refs/pushgate/pending/${id}/*:refs/x/*`], { cwd: clone }));
    t.not(entryFetch.status, 0, 'the entry path is refused to someone who may not see it');
    const unused = keep(other.git(['fetch', `${url}/.queue/zzzzzzzz`, 'refs/pushgate/pending/zzzzzzzz/*:refs/x/*'], { cwd: clone }));
    t.equal(entryFetch.stderr.replaceAll(id, 'ID'), unused.stderr.replaceAll('zzzzzzzz', 'ID'), 'exactly as for an entry that does not exist');
    const byDisk = keep(other.git(['fetch', `ssh://git@127.0.0.1:${gateway.port}/team/app.git/.pushgate/parked/${id}.git`, 'HEAD'], { cwd: clone }));
    t.not(byDisk.status, 0, 'the store is not a repository anyone can name');
    t.not(other.git(['cat-file', '-e', tip], { cwd: clone }).status, 0);

    const listed = keep(other.ssh(['queue', 'list', '--state', 'all', '--format', 'json']));
    t.equal(listed.status, 0, listed.stderr);
    t.same(JSON.parse(listed.stdout), [], 'queue list shows another identity\'s entry to nobody else');
    for (const command of [['show', id], ['status', id], ['wait', id, '--timeout', '1s'], ['approve', id], ['reject', id, '--reason', 'x']]) {
      const theirs = keep(other.ssh(['queue', ...command]));
      const none = keep(other.ssh(['queue', ...command.map((w) => (w === id ? 'zzzzzzzz' : w))]));
      t.equal(theirs.status, 1, `queue ${command[0]}: refused`);
      t.equal(theirs.stderr.replaceAll(id, 'ID'), none.stderr.replaceAll('zzzzzzzz', 'ID'), `queue ${command[0]} answers exactly as for an unused id`);
      t.equal(theirs.stdout, none.stdout);
    }
    const expire = keep(other.ssh(['queue', 'expire']));
    t.equal(expire.status, 1, 'queue expire is for reviewers and administrators');
    t.match(expire.stderr, /queue\.not-reviewer/);
  });

  await t.test('the pusher sees its own entry and fetches its own push; the sponsor sees it', async (t) => {
    const shown = keep(agent.ssh(['queue', 'show', id, '--format', 'json']));
    t.equal(shown.status, 0, shown.stderr);
    t.equal(JSON.parse(shown.stdout).id, id);
    t.notOk('localGitDir' in JSON.parse(shown.stdout), 'no server path for a remote caller');
    const fetched = keep(agent.git(['fetch', `${url}/.queue/${id}`, `refs/pushgate/pending/${id}/*:refs/remotes/pushgate/${id}/*`], { cwd: work }));
    t.equal(fetched.status, 0, fetched.stderr);
    t.equal(agent.git(['rev-parse', `refs/remotes/pushgate/${id}/heads/main`], { cwd: work }).stdout.trim(), tip);
    const pushInto = keep(agent.git(['push', `${url}/.queue/${id}`, `HEAD:refs/heads/evil`], { cwd: work }));
    t.not(pushInto.status, 0, 'nobody pushes into an entry\'s store');
    const archived = spawnSync('git', ['archive', `--remote=${url}/.queue/${id}`, `refs/pushgate/pending/${id}/heads/main`], { cwd: work, env: agent.gitEnv(), timeout: 60_000 });
    t.not(archived.status, 0, 'an entry is fetched, never archived');

    const sponsorSees = keep(carol.ssh(['queue', 'show', id]));
    t.equal(sponsorSees.status, 0, `the sponsor sees the entry: ${sponsorSees.stderr}`);
    const sponsorClone = join(gateway.dir, 'carol-clone');
    t.equal(carol.git(['clone', '-q', url, sponsorClone]).status, 0);
    t.not(keep(carol.git(['fetch', `${url}/.queue/${id}`, `refs/pushgate/pending/${id}/*:refs/x/*`], { cwd: sponsorClone })).status, 0, 'but does not fetch its objects');
  });

  await t.test('the reviewer sees the entry escaped and masked, and fetches it with the command queue show prints', async (t) => {
    const shown = rita.ssh(['queue', 'show', id]);
    t.equal(shown.status, 0, shown.stderr);
    t.notMatch(shown.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control character reaches the reviewer\'s terminal');
    t.match(shown.stdout, 'deploy \\e[8mhidden\\e[0m', 'the hidden text is shown with its escapes visible');
    t.match(shown.stdout, '\\e]52;c;', 'the clipboard write is shown, not obeyed');
    t.notOk(shown.stdout.includes(token), 'no token in plaintext');
    t.notOk(shown.stdout.includes(gateway.dir), 'no server path');
    const json = rita.ssh(['queue', 'show', id, '--format', 'json']);
    t.notMatch(json.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    t.notOk(json.stdout.includes(token));
    t.match(rita.ssh(['queue', 'list']).stdout, id);

    const clone = join(gateway.dir, 'rita-clone');
    t.equal(rita.git(['clone', '-q', url, clone]).status, 0);
    const command = shown.stdout.split('\n').find((l) => l.includes('/.queue/'))!.trim();
    const ran = spawnSync('sh', ['-c', command], { cwd: clone, env: rita.gitEnv(), encoding: 'utf8', timeout: 60_000 });
    t.equal(ran.status, 0, `the fetch command queue show prints works: ${ran.stderr}`);
    t.equal(rita.git(['cat-file', '-p', `refs/remotes/pushgate/${id}/heads/main:notes/parked.txt`], { cwd: clone }).stdout, content);
  });

  await t.test('nothing stored holds the token in plaintext', async (t) => {
    const history = run('git', ['--git-dir', recordRepo(remote), 'log', '-p', `refs/pushgate/queue/${id}`]);
    t.match(history, /record\.json/);
    t.notOk(history.includes(token), 'no version of the record holds the token (reason, push options, subject)');
    t.notOk(history.includes('\u001b'), 'nor raw escape characters from JSON text');
  });

  await t.test('waits are served in the gateway, at most perIdentity at once', async (t) => {
    const waits = [0, 1].map(() => runAsync('ssh', [...agent.sshOptions(), 'git@127.0.0.1', 'queue', 'wait', id, '--timeout', '2m'], { env: process.env }));
    await gateway.waitForCount((l) => l.type === 'ssh.command' && l.result === 'started' && l.identity?.principal === 'agent-7' && /queue wait/.test(l.command ?? ''), 2, 30_000);
    const children = readFileSync(`/proc/${gateway.pid}/task/${gateway.pid}/children`, 'utf8').trim();
    const commands = children === '' ? [] : children.split(/\s+/).map((pid) => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } });
    // A short-lived git read of a record may be under way; a waiter of its own would be a pushgate process.
    t.same(commands.filter((c) => c !== 'git' && c !== ''), [], 'no process per waiter');
    const third = keep(agent.ssh(['queue', 'wait', id, '--timeout', '2m']));
    t.equal(third.status, 1, 'a third wait of the same identity is refused');
    t.match(third.stderr, /queue\.limit: agent-7 already waits on 2 entries/);
    const rejected = rita.ssh(['queue', 'reject', id, '--reason', `'leaks ${token}'`]);
    t.equal(rejected.status, 0, rejected.stderr);
    for (const waited of await Promise.all(waits)) {
      t.equal(waited.status, 1, `the waits end with the decision: ${waited.stdout}${waited.stderr}`);
      t.match(waited.stdout, `${id} team/app: rejected by rita: leaks `);
      t.notOk(waited.stdout.includes(token), 'the rejection reason is masked');
    }
  });

  await t.test('after rejection the objects are gone, for everyone', async (t) => {
    t.notOk(existsSync(entryRepo(remote, id)), 'the entry\'s store is deleted with the rejection');
    for (const oid of [tip, tree, blob]) t.notOk(hasObject(remote, oid));
    const clone = join(gateway.dir, 'rita-clone');
    const again = rita.git(['fetch', `${url}/.queue/${id}`, `refs/pushgate/pending/${id}/*:refs/y/*`], { cwd: clone });
    t.not(again.status, 0, 'not even a reviewer fetches a rejected entry');
    const byId = keep(other.git(['-c', 'protocol.version=2', 'fetch', 'origin', tip], { cwd: join(gateway.dir, 'other-clone') }));
    t.not(byId.status, 0);
    t.equal(keep(agent.ssh(['queue', 'status', id])).status, 0, 'the pusher still reads the decision');
    t.equal(rita.ssh(['queue', 'expire']).status, 0, 'a reviewer may run queue expire');
  });

  await t.test('a park that fails tells the pusher why without naming a server path', async (t) => {
    const unstorable = gateway.server.createRepo('team/unstorable');
    const clone = join(gateway.dir, 'unstorable-work');
    const repoUrl = `ssh://git@127.0.0.1:${gateway.port}/team/unstorable.git`;
    t.equal(agent.git(['clone', '-q', repoUrl, clone]).status, 0);
    agent.git(['checkout', '-q', '-b', 'main'], { cwd: clone });
    agent.git(['commit', '-q', '--allow-empty', '-m', 'base'], { cwd: clone });
    t.equal(agent.git(['push', '-q', 'origin', 'main'], { cwd: clone }).status, 0);
    writeFileSync(join(unstorable, '.pushgate'), 'not a directory\n');
    mkdirSync(join(clone, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(clone, '.github', 'workflows', 'ci.yml'), 'on: push\n');
    agent.git(['add', '-A'], { cwd: clone });
    agent.git(['commit', '-q', '-m', 'ci'], { cwd: clone });
    const denied = keep(agent.git(['push', 'origin', 'main'], { cwd: clone }));
    t.not(denied.status, 0);
    t.match(denied.stderr, /queue\.unavailable/, 'denied, never allowed');
    t.match(denied.stderr, /<server path>/, 'the file system\'s complaint, without the path');
  });
  const serverPaths = [gateway.dir, gateway.server.reposRoot];
  for (const text of told) for (const path of serverPaths) if (text.includes(path)) t.fail(`a remote caller was told a server path: ${text.slice(0, 300)}`);
});
