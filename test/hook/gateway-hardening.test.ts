import { join } from 'node:path';
import t from 'tap';
import { SshUser, startGateway } from '../gateway/harness.js';
import { pushgateResult } from '../helpers/git-server.js';
import { run, tempDir } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';
import { hostileTrees, ObjectWriter } from './objects.js';

/**
 * The same refusals as the hooked-repository tests, through `pushgate serve`
 * with an agent's certificate and the OpenSSH client: what git and the hook
 * refuse over a local path they refuse over SSH, and what the agent's
 * terminal receives is escaped.
 */
const gateway = await startGateway(t, { repos: ['team/app'] });
const url = gateway.url('team/app.git');
const bare = join(gateway.server.reposRoot, 'team', 'app.git');
gateway.seed('team/app');
const agent = new SshUser(gateway, 'agent-1').sign();
const work = join(tempDir(t), 'work');
t.equal(agent.git(['clone', '-q', url, work]).status, 0);
const main = agent.git(['rev-parse', 'origin/main'], { cwd: work }).stdout.trim();
const objects = new ObjectWriter(work);
const rng = new Rng(0x9a7e);

function refs(): string[] {
  return run('git', ['--git-dir', bare, 'for-each-ref', '--format=%(refname)']).split('\n').filter((l) => l !== '');
}

t.test('hostile trees are refused over SSH', async (t) => {
  const cases = hostileTrees(objects);
  // A representative few: one per fsck message family.
  for (const index of [0, 2, 7, 9, 12, 16, 18, 24]) {
    const { name, message, tree } = cases[index]!;
    const commit = objects.commit(tree, name, main);
    const pushed = agent.git(['push', 'origin', `${commit}:refs/heads/hostile-${index}`], { cwd: work });
    t.not(pushed.status, 0, name);
    t.match(pushed.stderr, message, name);
  }
  t.same(refs(), ['refs/heads/main'], 'nothing landed');
});

t.test('reserved and misleading ref names are refused over SSH', async (t) => {
  for (const [ref, rule] of [['refs/heads/HEAD', 'ref.reserved-name'], ['refs/heads/@', 'ref.reserved-name'], ['refs/PushGate/pending/x', 'ref.reserved-namespace'],
    ['refs/pushgate/pending/x', 'ref.reserved-namespace'], ['refs/heads/-x', 'ref.name'], ['refs/heads/MAIN', 'ref.case-conflict']] as const) {
    const pushed = agent.git(['push', 'origin', `HEAD:${ref}`], { cwd: work });
    const result = pushgateResult(pushed.stderr);
    t.equal(result?.decision, 'deny', `${ref}: ${pushed.stderr.slice(0, 400)}`);
    t.ok(result?.findings.some((f) => f.rule === rule), `${ref}: ${rule}`);
  }
  t.same(refs(), ['refs/heads/main'], 'nothing landed');
});

t.test('the agent\'s terminal gets escapes, not sequences, and no credential', async (t) => {
  const token = gh(rng);
  const pushed = agent.git(['push', '-o', `reason=\u001b[8mhidden ${token}`, 'origin', 'HEAD:refs/heads/a\u202eb'], { cwd: work });
  const fromHook = pushed.stderr.split('\n').filter((l) => l.startsWith('remote: ')).join('\n');
  t.match(fromHook, /ref\.name/);
  // eslint-disable-next-line no-control-regex
  t.notOk(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u.test(fromHook), JSON.stringify(fromHook.slice(0, 400)));
  t.notOk(fromHook.includes(token));
  t.match(String(pushgateResult(pushed.stderr)?.reason), /\\e\[8mhidden /);
});
