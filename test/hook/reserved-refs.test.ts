import { spawnSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { checkRefUpdates, foldRefName, isReservedRef } from '../../src/policy/refs.js';
import type { ClassifiedUpdate } from '../../src/policy/types.js';
import { pushgateResult, testServer, WorkTree, type Pushed } from '../helpers/git-server.js';
import { BLOCKING_LIMIT, run } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';

const rng = new Rng(0x4ef5);
const server = testServer(t);
const remote = server.createRepo('team/app');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main', 'HEAD:refs/tags/v1']).code, 0, 'initial push allowed');

function refs(): string[] {
  return run('git', ['--git-dir', remote, 'for-each-ref', '--format=%(refname)']).split('\n').filter((l) => l !== '');
}

/** What the hook printed (git's own lines, which echo the refspec, left out). */
function fromHook(pushed: Pushed): string {
  return pushed.output.split('\n').filter((l) => l.startsWith('remote: ')).join('\n');
}

function denied(t: Test, refspec: string, rule: string, env: NodeJS.ProcessEnv = {}): Pushed {
  const before = refs();
  const pushed = work.push(['origin', refspec], env);
  t.equal(pushed.result?.decision, 'deny', `${JSON.stringify(refspec)} denied: ${pushed.output.slice(0, 600)}`);
  t.ok(pushed.result?.findings.some((f) => f.rule === rule), `${JSON.stringify(refspec)}: ${rule}`);
  t.same(refs(), before, 'no ref was made or moved');
  return pushed;
}

t.test('refs named like HEAD or @ are refused: clones would read them as HEAD', async (t) => {
  for (const ref of ['refs/heads/HEAD', 'refs/heads/head', 'refs/heads/Head', 'refs/tags/HEAD', 'refs/heads/feature/HEAD',
    'refs/remotes/origin/HEAD', 'refs/heads/FETCH_HEAD', 'refs/heads/ORIG_HEAD', 'refs/heads/MERGE_HEAD', 'refs/heads/@', 'refs/heads/x/@/y', 'refs/tags/@']) {
    denied(t, `HEAD:${ref}`, 'ref.reserved-name');
  }
  // `git push origin HEAD:HEAD` qualifies the destination to refs/heads/HEAD.
  denied(t, 'HEAD:HEAD', 'ref.reserved-name');
});

t.test('the queue\'s namespace is closed in every spelling', async (t) => {
  for (const ref of ['refs/pushgate/pending/x', 'refs/PushGate/x', 'refs/PUSHGATE/pending/fake', 'refs/Pushgate/queue/q',
    'refs/push\u200cgate/x', 'refs/\uff50\uff55\uff53\uff48\uff47\uff41\uff54\uff45/x', 'refs/pu\u017fhgate/x']) {
    denied(t, `HEAD:${ref}`, 'ref.reserved-namespace');
  }
  // refs/pushgate itself would block the namespace's directory; git refuses the one-level name already.
  const bare = work.push(['origin', 'HEAD:refs/pushgate']);
  t.not(bare.code, 0);
  t.notOk(refs().some((r) => foldRefName(r).startsWith('refs/pushgate')), 'nothing in any spelling of refs/pushgate');
  // REFS/… is qualified by the client to refs/heads/REFS/…: a branch typed as the namespace.
  denied(t, 'HEAD:REFS/pushgate/x', 'ref.reserved-namespace');
  denied(t, 'HEAD:refs/heads/refs/PushGate/pending/x', 'ref.reserved-namespace');
  denied(t, 'HEAD:refs/tags/REFS/pushgate', 'ref.reserved-namespace');
});

t.test('neither audit mode nor an override opens the reserved names', async (t) => {
  server.setConfig(['policy', 'mode'], 'audit');
  server.setConfig(['policy', 'rules'], { 'ref.*': { action: 'off' } });
  t.teardown(() => {
    server.setConfig(['policy', 'mode'], 'enforce');
    server.setConfig(['policy', 'rules'], {});
  });
  denied(t, 'HEAD:refs/heads/HEAD', 'ref.reserved-name');
  denied(t, 'HEAD:refs/PushGate/pending/x', 'ref.reserved-namespace');
  const option = work.push(['origin', 'HEAD:refs/heads/-f']);
  t.equal(option.code, 0, 'ref.name is an ordinary rule: an administrator may turn it off');
  t.equal(work.push(['origin', ':refs/heads/-f']).code, 0);
});

t.test('names tools or readers would misread are refused', async (t) => {
  const head = work.git('rev-parse', 'HEAD').trim();
  for (const ref of ['refs/heads/-x', 'refs/heads/feature/-rf', 'refs/tags/--upload-pack=x', `refs/heads/${head}`, `refs/tags/${'a'.repeat(64)}`,
    'refs/heads/a\u202eb', 'refs/heads/zero\u200bwidth', 'refs/heads/nb\u00a0sp', 'refs/heads/bom\ufeff', 'refs/heads/cafe\u0301', 'refs/heads/refs/heads/main', 'refs/tags/Refs/tags/v1']) {
    denied(t, `HEAD:${ref}`, 'ref.name');
  }
  const token = gh(rng);
  const secret = denied(t, `HEAD:refs/heads/deploy-${token}`, 'ref.name');
  t.notOk(fromHook(secret).includes(token), 'the credential in the ref name is masked in the hook\'s output');
  t.equal(work.push(['origin', 'HEAD:refs/heads/caf\u00e9']).code, 0, 'NFC Unicode is fine');
  t.equal(work.push(['origin', 'HEAD:refs/heads/deadbeef']).code, 0, 'a short hex name is fine');
});

t.test('a ref that is not UTF-8 is refused: the hook could not name it', async (t) => {
  const before = refs();
  // Node would send a string argument as UTF-8: the byte 0xff goes through printf.
  const pushed = spawnSync('sh', ['-c', 'git push origin "HEAD:refs/heads/a$(printf \'\\377\')b"'], { cwd: work.path, encoding: 'utf8', ...BLOCKING_LIMIT });
  const output = `${pushed.stdout}${pushed.stderr}`;
  t.not(pushed.status, 0, output);
  t.match(pushgateResult(output)?.findings, [{ rule: 'hook.bad-input' }]);
  t.match(output, /not valid UTF-8/);
  t.same(refs(), before);
});

t.test('a new ref may not differ from another only in case or Unicode form', async (t) => {
  denied(t, 'HEAD:refs/heads/MAIN', 'ref.case-conflict');
  denied(t, 'HEAD:refs/heads/Main/x', 'ref.case-conflict');
  denied(t, 'HEAD:refs/tags/V1', 'ref.case-conflict');
  denied(t, 'HEAD:refs/Heads/main', 'ref.case-conflict');
  denied(t, 'HEAD:refs/heads/ma\u0131n', 'ref.case-conflict');
  const before = refs();
  const both = work.push(['origin', 'HEAD:refs/heads/new', 'HEAD:refs/heads/NEW']);
  t.equal(both.result?.decision, 'deny', 'two spellings in one push');
  t.same(refs(), before);
  t.equal(work.push(['origin', 'HEAD:refs/heads/Old']).code, 0);
  t.equal(work.push(['origin', ':refs/heads/Old', 'HEAD:refs/heads/old']).code, 0, 'renaming by case in one push is fine');
  t.equal(work.push(['origin', 'HEAD:refs/heads/main-2']).code, 0, 'a name that merely starts alike is fine');
  server.setConfig(['policy', 'rules'], { 'ref.case-conflict': 'off' });
  t.teardown(() => server.setConfig(['policy', 'rules'], {}));
  t.equal(work.push(['origin', 'HEAD:refs/heads/MAIN']).code, 0, 'an administrator may turn it off');
});

t.test('pure checks', async (t) => {
  const oid = '1'.repeat(40);
  const zero = '0'.repeat(40);
  const update = (ref: string, kind: ClassifiedUpdate['kind'] = 'create'): ClassifiedUpdate => ({ ref, oldOid: kind === 'create' ? zero : oid, newOid: kind === 'delete' ? zero : oid, kind, isTag: ref.startsWith('refs/tags/') });
  const pusher = { principal: 'p', roles: [] };
  const policy = { protect: [], refNames: [] } as unknown as Parameters<typeof checkRefUpdates>[2];
  const rules = (updates: ClassifiedUpdate[], existing?: string[]): string[] => checkRefUpdates(updates, pusher, policy, existing).map((f) => f.ruleId);
  t.ok(isReservedRef('refs/pushgate'));
  t.ok(isReservedRef('refs/PUSHGATE/x'));
  t.notOk(isReservedRef('refs/pushgates/x'));
  t.ok(isReservedRef('refs/heads/refs/pushgate/x'));
  t.notOk(isReservedRef('refs/heads/pushgate/x'));
  t.same(rules([update('refs/heads/HEAD', 'delete')]), [], 'a bad name already there may be deleted');
  t.same(rules([update('refs/heads/HEAD', 'fast-forward')]), ['ref.reserved-name'], 'but not moved');
  t.same(rules([update('refs/pushgate/x', 'delete')]), ['ref.reserved-namespace'], 'the namespace is closed to deletes too');
  t.same(rules([update('refs/heads/MAIN')]), [], 'without the listing, no case check');
  t.same(rules([update('refs/heads/MAIN')], ['refs/heads/main']), ['ref.case-conflict']);
  t.same(rules([update('refs/heads/a/b')], ['refs/heads/A']), ['ref.case-conflict'], 'a directory of the other\'s name');
  t.same(rules([update('refs/heads/A')], ['refs/heads/a/b']), ['ref.case-conflict'], 'a file of the other\'s directory name');
  t.same(rules([update('refs/heads/a/c')], ['refs/heads/a/b']), [], 'siblings are fine');
  t.same(rules([update('refs/heads/main', 'fast-forward')], ['refs/heads/MAIN', 'refs/heads/main']), [], 'only new refs are checked');
});
