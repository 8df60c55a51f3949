/**
 * Where a repository allowlist may come from: only a trusted branch
 * (policy.allowlist.trustedRefs) as it was before the push — never the
 * pushed objects, never a tag, note or other namespace, never a branch the
 * pusher could write unreviewed; and any change to the file parks. Real
 * pushes into a hooked bare repository; allowlists that got onto other refs
 * some other way (an older server, a tool writing the repository) are
 * planted with `git fetch` into the bare repository, which runs no hook.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { chooseAllowlistSource } from '../../src/policy/allowlist.js';
import { testServer, WorkTree, type Pushed } from '../helpers/git-server.js';
import { BLOCKING_LIMIT, run } from '../helpers/tools.js';
import { ALICE, queue } from '../queue/helpers.js';
import { gh, Rng, slackBot } from '../scan/fixtures.js';

const rng = new Rng(0xa110);
const server = testServer(t);
const remote = server.createRepo('team/allow');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0);
const base = work.git('rev-parse', 'HEAD').trim();

const ALLOW_ALL = 'paths: ["**"]\n';
const ALLOWLIST = '.pushgate/allowlist.yaml';

function serverGit(...args: string[]): string {
  return run('git', ['--git-dir', remote, ...args]).trim();
}

/** Puts a commit holding `files` (on top of `base`) at `ref` in the server repository, as a hook-less write would. */
function plant(ref: string, files: Record<string, string>): string {
  work.git('checkout', '--quiet', '-B', 'plant', base);
  const commit = work.commit(`plant ${ref}`, files);
  serverGit('fetch', '--quiet', work.path, `+refs/heads/plant:${ref}`);
  work.git('checkout', '--quiet', 'main');
  work.git('reset', '--quiet', '--hard', base);
  return commit;
}

/** A commit on `from` with three secrets in three files (what an allowlist of "**" would hide). */
function threeSecrets(from: string): { commit: string; secrets: string[] } {
  work.git('checkout', '--quiet', '-B', 'secrets', from);
  const secrets = [gh(rng), slackBot(rng), gh(rng)];
  const commit = work.commit('three secrets', { 'a.ts': `const a = "${secrets[0]}";\n`, 'b/c.ts': `const b = "${secrets[1]}";\n`, 'd.env': `TOKEN=${secrets[2]}\n` });
  return { commit, secrets };
}

function expectDenied(t: Test, pushed: Pushed, secrets: string[]): void {
  t.equal(pushed.result?.decision, 'deny', pushed.output.slice(0, 1500));
  t.ok(pushed.result!.findings.filter((f) => f.rule.startsWith('secret.') && f.excerpt).length >= secrets.length, 'every secret is a finding');
  for (const secret of secrets) t.notOk(pushed.output.includes(secret));
}

function serverRef(ref: string): string | null {
  const result = spawnSync('git', ['--git-dir', remote, 'rev-parse', '--verify', '--quiet', ref], { encoding: 'utf8', ...BLOCKING_LIMIT });
  return result.status === 0 ? result.stdout.trim() : null;
}

t.test('pushing an allowlist file anywhere parks it for review, in any form', async (t) => {
  const parks = (t: Test, pushed: Pushed, ref: string): void => {
    t.equal(pushed.result?.decision, 'park', pushed.output.slice(0, 1500));
    t.ok(pushed.result?.findings.some((f) => f.rule === 'allowlist.changed'), 'allowlist.changed');
    t.equal(serverRef(ref), null, `${ref} did not move`);
  };
  work.git('checkout', '--quiet', '-B', 'allow', base);
  work.commit('allow everything', { [ALLOWLIST]: ALLOW_ALL });
  parks(t, work.push(['origin', 'HEAD:refs/allow/x']), 'refs/allow/x');
  parks(t, work.push(['origin', 'HEAD:refs/tags/allow']), 'refs/tags/allow');
  parks(t, work.push(['origin', 'HEAD:refs/notes/commits']), 'refs/notes/commits');
  parks(t, work.push(['origin', 'HEAD:refs/heads/feature-allow']), 'refs/heads/feature-allow');
  // Rules switched off or to audit in the configuration do not soften it.
  server.setConfig(['policy', 'rules'], { 'path.*': 'off', 'allowlist.*': 'off' });
  server.setConfig(['policy', 'mode'], 'audit');
  parks(t, work.push(['origin', 'HEAD:refs/heads/feature-allow']), 'refs/heads/feature-allow');
  server.setConfig(['policy', 'mode'], 'enforce');
  // A bare tree (no commit) holding the file, as in the report.
  const file = join(work.path, '.git', 'allow-blob');
  writeFileSync(file, ALLOW_ALL);
  const blob = work.git('hash-object', '-w', file).trim();
  const inner = run('git', ['mktree'], { cwd: work.path, input: `100644 blob ${blob}\tallowlist.yaml\n` }).trim();
  const tree = run('git', ['mktree'], { cwd: work.path, input: `040000 tree ${inner}\t.pushgate\n` }).trim();
  parks(t, work.push(['origin', `${tree}:refs/allow/tree`]), 'refs/allow/tree');
  // A letter-case variant of the path.
  work.git('checkout', '--quiet', '-B', 'allow-case', base);
  work.commit('case variant', { '.PushGate/ALLOWLIST.yaml': ALLOW_ALL });
  parks(t, work.push(['origin', 'HEAD:refs/heads/case']), 'refs/heads/case');
  server.setConfig(['policy', 'rules'], {});
  work.git('checkout', '--quiet', 'main');
});

t.test('the report: an allowlist on refs/allow/x, deleted in the same push that brings three secrets', async (t) => {
  // Even once a reviewer let it onto refs/allow/x, it is not a trusted branch.
  work.git('checkout', '--quiet', '-B', 'allow', base);
  work.commit('allow everything', { [ALLOWLIST]: ALLOW_ALL });
  const parked = work.push(['origin', 'HEAD:refs/allow/x']);
  t.equal(parked.result?.decision, 'park');
  const approved = queue(server, ['approve', parked.result?.queueId as string], ALICE);
  t.equal(approved.status, 0, approved.stderr);
  t.ok(serverRef('refs/allow/x'), 'the allowlist is on refs/allow/x');
  const { secrets } = threeSecrets(base);
  expectDenied(t, work.push(['origin', ':refs/allow/x', 'HEAD:refs/heads/t']), secrets);
  expectDenied(t, work.push(['origin', '+HEAD:refs/allow/x']), secrets);
  t.equal(serverRef('refs/heads/t'), null);
  work.git('checkout', '--quiet', 'main');
});

t.test('allowlists on tags, notes, branches outside trustedRefs and look-alike names are never read', async (t) => {
  for (const ref of ['refs/tags/allow', 'refs/notes/commits', 'refs/heads/feature', 'refs/heads/main-ish', 'refs/heads/mainx', 'refs/heads/release', 'refs/heads/refs/heads/main']) {
    const planted = plant(ref, { [ALLOWLIST]: ALLOW_ALL });
    const { secrets } = threeSecrets(planted);
    // Onto the ref itself (its old value holds the allowlist), and onto a new branch.
    expectDenied(t, work.push(['origin', `+HEAD:${ref}`]), secrets);
    expectDenied(t, work.push(['origin', 'HEAD:refs/heads/new-one']), secrets);
    t.equal(serverRef(ref), planted, `${ref} unchanged`);
    serverGit('update-ref', '-d', ref);
    work.git('checkout', '--quiet', 'main');
  }
});

t.test('HEAD naming a non-branch, a missing branch, or a branch outside trustedRefs gives no allowlist', async (t) => {
  plant('refs/tags/head-target', { [ALLOWLIST]: ALLOW_ALL });
  serverGit('symbolic-ref', 'HEAD', 'refs/tags/head-target');
  const { secrets } = threeSecrets(base);
  expectDenied(t, work.push(['origin', 'HEAD:refs/heads/via-tag-head']), secrets);

  // HEAD names a trusted branch that does not exist: the look-alikes a
  // revision lookup would fall through to are not read.
  server.setConfig(['policy', 'allowlist', 'trustedRefs'], ['refs/heads/main', 'refs/heads/trunk']);
  serverGit('symbolic-ref', 'HEAD', 'refs/heads/trunk');
  const lookAlikes = ['refs/tags/refs/heads/trunk', 'refs/heads/refs/heads/trunk', 'refs/tags/HEAD', 'refs/heads/HEAD-ish', 'refs/tags/trunk'];
  for (const ref of lookAlikes) plant(ref, { [ALLOWLIST]: ALLOW_ALL });
  work.git('checkout', '--quiet', 'secrets');
  expectDenied(t, work.push(['origin', 'HEAD:refs/heads/via-missing-head']), secrets);

  // A branch that exists and holds the file, but is not trusted.
  plant('refs/heads/develop', { [ALLOWLIST]: ALLOW_ALL });
  serverGit('symbolic-ref', 'HEAD', 'refs/heads/develop');
  work.git('checkout', '--quiet', 'secrets');
  expectDenied(t, work.push(['origin', 'HEAD:refs/heads/via-develop']), secrets);

  serverGit('symbolic-ref', 'HEAD', 'refs/heads/main');
  server.setConfig(['policy', 'allowlist', 'trustedRefs'], ['refs/heads/main', 'refs/heads/master', 'refs/heads/release/**']);
  for (const ref of [...lookAlikes, 'refs/heads/develop', 'refs/tags/head-target']) serverGit('update-ref', '-d', ref);
  work.git('checkout', '--quiet', 'main');
});

t.test('an allowlist from another ref reaching a trusted branch through existing commits parks', async (t) => {
  // An unreviewed allowlist on some other ref (an older server, a tool): a
  // fast-forward, a merge or a new trusted branch would bring it along
  // without any new commit touching the file.
  const planted = plant('refs/allow/legacy', { [ALLOWLIST]: ALLOW_ALL });
  const parks = (t: Test, pushed: Pushed, ref: string): void => {
    t.equal(pushed.result?.decision, 'park', pushed.output.slice(0, 1500));
    t.ok(pushed.result?.findings.some((f) => f.rule === 'allowlist.changed'), 'allowlist.changed');
    t.not(serverRef(ref), planted, `${ref} did not take the allowlist`);
  };
  work.git('fetch', '--quiet', 'origin', '+refs/allow/legacy:refs/remotes/origin/legacy');
  parks(t, work.push(['origin', `${planted}:refs/heads/main`]), 'refs/heads/main');
  work.git('checkout', '--quiet', '-B', 'merging', base);
  work.git('merge', '--quiet', '--no-ff', '--no-edit', 'origin/legacy');
  parks(t, work.push(['origin', 'HEAD:refs/heads/main']), 'refs/heads/main');
  parks(t, work.push(['origin', `${planted}:refs/heads/release/9`]), 'refs/heads/release/9');
  // The same commits on an untrusted branch are no change to a trusted allowlist.
  const feature = work.push(['origin', `${planted}:refs/heads/legacy-copy`]);
  t.equal(feature.result?.decision, 'allow', feature.output.slice(0, 1500));
  serverGit('update-ref', '-d', 'refs/heads/legacy-copy');
  serverGit('update-ref', '-d', 'refs/allow/legacy');
  work.git('checkout', '--quiet', 'main');
});

t.test('config: only refs/heads/ patterns can be trusted', async (t) => {
  server.setConfig(['policy', 'allowlist', 'trustedRefs'], ['refs/tags/*']);
  const pushed = work.push(['origin', 'HEAD:refs/heads/anything']);
  t.equal(pushed.result?.decision, 'deny');
  t.match(pushed.output, /config\.invalid/);
  server.setConfig(['policy', 'allowlist', 'trustedRefs'], ['refs/heads/main', 'refs/heads/master', 'refs/heads/release/**']);
});

t.test('a reviewed allowlist on the default branch applies to pushes to it and to new branches; mixed sources do not mix', async (t) => {
  // The file reaches main only through a review.
  work.git('checkout', '--quiet', 'main');
  work.git('reset', '--quiet', '--hard', base);
  work.commit('allow everything, reviewed', { [ALLOWLIST]: ALLOW_ALL });
  const parked = work.push(['origin', 'main']);
  t.equal(parked.result?.decision, 'park');
  t.equal(queue(server, ['approve', parked.result?.queueId as string], ALICE).status, 0);
  const main = serverRef('refs/heads/main')!;

  threeSecrets(main);
  const feature = work.push(['origin', 'HEAD:refs/heads/reviewed-feature']);
  t.equal(feature.result?.decision, 'allow', feature.output.slice(0, 1500));
  const onMain = work.push(['origin', 'HEAD:refs/heads/main']);
  t.equal(onMain.result?.decision, 'allow', onMain.output.slice(0, 1500));

  // A release branch with its own (empty) allowlist, pushed together with main: neither applies.
  const release = plant('refs/heads/release/1', { [ALLOWLIST]: 'paths: []\n' });
  const { secrets } = threeSecrets(release);
  work.git('fetch', '--quiet', 'origin');
  work.git('merge', '--quiet', '--no-edit', '-s', 'ours', 'origin/main');
  const mixed = work.push(['origin', 'HEAD:refs/heads/release/1', 'HEAD:refs/heads/main']);
  expectDenied(t, mixed, secrets);
  t.match(mixed.output, /allowlist\.yaml not used: the push updates refs whose allowlists would come from different places/);
  // Alone, release/1 reads its own old value, which allows nothing.
  expectDenied(t, work.push(['origin', 'HEAD:refs/heads/release/1']), secrets);
  work.git('checkout', '--quiet', 'main');
});

t.test('chooseAllowlistSource: the rule as a pure function', async (t) => {
  const Z = '0'.repeat(40);
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  const n = 'c'.repeat(40);
  const trusted = ['refs/heads/main', 'refs/heads/release/**'];
  const head = { ref: 'refs/heads/main', commit: a };
  t.same(chooseAllowlistSource([{ oldOid: a, newOid: n, ref: 'refs/heads/main' }], null, trusted), { commit: a, ref: 'refs/heads/main' }, 'a trusted target: its old value');
  t.same(chooseAllowlistSource([{ oldOid: Z, newOid: n, ref: 'refs/heads/feature' }], head, trusted), { commit: a, ref: 'refs/heads/main' }, 'a new branch: the default branch');
  t.same(chooseAllowlistSource([{ oldOid: b, newOid: n, ref: 'refs/tags/v1' }], head, trusted), { commit: a, ref: 'refs/heads/main' }, 'a tag: the default branch, never its own old value');
  t.same(chooseAllowlistSource([{ oldOid: Z, newOid: n, ref: 'refs/heads/release/2' }], head, trusted), { commit: a, ref: 'refs/heads/main' }, 'a new trusted branch: the default branch');
  t.same(chooseAllowlistSource([{ oldOid: b, newOid: n, ref: 'refs/heads/feature' }], null, trusted), { commit: null }, 'no default branch: none');
  t.same(chooseAllowlistSource([{ oldOid: b, newOid: n, ref: 'refs/heads/feature' }], { ref: 'refs/tags/main', commit: a }, trusted), { commit: null }, 'HEAD outside refs/heads: none');
  t.same(chooseAllowlistSource([{ oldOid: b, newOid: Z, ref: 'refs/heads/main' }], null, trusted), { commit: null }, 'deletions bring nothing');
  t.match(chooseAllowlistSource([{ oldOid: a, newOid: n, ref: 'refs/heads/main' }, { oldOid: b, newOid: n, ref: 'refs/heads/release/1' }], head, trusted), { commit: null, note: /different places/ }, 'two sources: none');
  t.same(chooseAllowlistSource([{ oldOid: a, newOid: n, ref: 'refs/heads/main' }, { oldOid: b, newOid: n, ref: 'refs/heads/x' }], null, trusted).commit, null, 'one update without a trusted source: none');
  t.same(chooseAllowlistSource([{ oldOid: a, newOid: n, ref: 'refs/heads/main' }, { oldOid: Z, newOid: n, ref: 'refs/heads/x' }], head, trusted), { commit: a, ref: 'refs/heads/main' }, 'main and a new branch agree');
  t.same(chooseAllowlistSource([{ oldOid: a, newOid: n, ref: 'refs/heads/main' }], head, ['refs/tags/**', 'main']), { commit: null }, 'patterns outside refs/heads/ trust nothing');
});
