import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';
import { run, tempDir } from '../helpers/tools.js';

// Commit metadata, ref name and path rules through real pushes into a hooked bare repository.
const server = testServer(t);
const remote = server.createRepo('team/rules');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0, 'initial push allowed');

const noRules = { message: [], authorEmail: [], committerEmail: [], pusher: [], linear: [], signature: [] };
function commitRules(rules: Record<string, unknown>): void {
  server.setConfig(['policy', 'commit'], { ...noRules, ...rules });
}
function resetTo(ref: string): void {
  work.git('fetch', '--quiet', 'origin');
  work.git('checkout', '--quiet', '-B', 'main', `origin/${ref}`);
}
const tip = (ref: string): string => run('git', ['--git-dir', remote, 'rev-parse', ref]).trim();

t.test('a required message pattern: refused without it, with a finding that names the commit; accepted with it', async (t) => {
  commitRules({ message: [{ require: '\\b[A-Z]+-[0-9]+\\b', description: 'a ticket id such as ABC-123', refs: ['refs/heads/main'] }] });
  const before = tip('main');
  const bad = work.commit('no ticket here');
  const refused = work.push(['origin', 'main']);
  t.equal(refused.result?.decision, 'deny', refused.output);
  t.match(refused.result?.findings, [{ rule: 'commit.message', action: 'deny', mode: 'enforce', commit: bad }]);
  t.match(refused.output, /a ticket id such as ABC-123/);
  t.match(refused.output, /fix: Reword the commit message/);
  t.equal(tip('main'), before, 'main did not move');
  work.git('commit', '--quiet', '--amend', '--allow-empty', '-m', 'PG-12 with a ticket');
  t.equal(work.push(['origin', 'main']).code, 0, 'accepted with a ticket id');
});

t.test('trailers: a message must carry an Agent-Session trailer (multi-line anchors)', async (t) => {
  commitRules({ message: [{ require: '^Agent-Session: \\S+$' }] });
  work.commit('change\n\nno trailer');
  t.equal(work.push(['origin', 'main']).result?.decision, 'deny');
  work.git('commit', '--quiet', '--amend', '--allow-empty', '-m', 'change\n\nAgent-Session: s-42');
  t.equal(work.push(['origin', 'main']).code, 0);
});

t.test('audit mode reports "would deny" and lets the push through', async (t) => {
  commitRules({ message: [{ require: 'PG-[0-9]+', mode: 'audit' }] });
  work.commit('unticketed but audited');
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.code, 0, pushed.output);
  t.equal(pushed.result?.decision, 'allow');
  t.match(pushed.result?.findings, [{ rule: 'commit.message', mode: 'audit', action: 'deny' }]);
});

t.test('ref scoping: a rule on main leaves other branches alone', async (t) => {
  commitRules({ message: [{ require: 'PG-[0-9]+', refs: ['refs/heads/main'] }] });
  work.git('checkout', '--quiet', '-b', 'scratch');
  work.commit('scratch work without ticket');
  const pushed = work.push(['origin', 'scratch']);
  t.equal(pushed.code, 0, pushed.output);
  t.same(pushed.result?.findings, []);
  resetTo('main');
});

t.test('role scoping: a rule for agents applies to agents only', async (t) => {
  commitRules({ message: [{ forbid: '^(WIP|fixup!)', roles: ['agent'], action: 'park' }] });
  work.commit('WIP not done');
  const asAgent = work.push(['origin', 'main'], { PUSHGATE_PRINCIPAL: 'bot', PUSHGATE_ROLES: 'agent' });
  t.equal(asAgent.result?.decision, 'park', asAgent.output);
  t.match(asAgent.result?.findings, [{ rule: 'commit.message', action: 'park' }]);
  const asPerson = work.push(['origin', 'main'], { PUSHGATE_PRINCIPAL: 'dana', PUSHGATE_ROLES: 'developer' });
  t.equal(asPerson.code, 0, asPerson.output);
});

t.test('author and committer address patterns', async (t) => {
  commitRules({ authorEmail: [{ require: '@example\\.com$' }], committerEmail: [{ forbid: '@evil\\.test$' }] });
  work.git('-c', 'user.email=someone@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'ok author', '--author', 'A <a@example.com>');
  run('git', ['-c', 'user.name=E', '-c', 'user.email=e@evil.test', 'commit', '--quiet', '--allow-empty', '-m', 'bad committer', '--author', 'A <a@example.com>'], { cwd: work.path });
  const refused = work.push(['origin', 'main']);
  t.equal(refused.result?.decision, 'deny');
  const rules = refused.result!.findings.map((f) => f.rule);
  t.same(rules, ['commit.committer-email'], refused.output);
  work.git('reset', '--quiet', '--hard', 'HEAD~1');
  work.commit('author not in the domain');
  const author = work.push(['origin', 'main']);
  t.match(author.result?.findings, [{ rule: 'commit.author-email' }]);
  t.match(author.output, /agent@example\.test/, 'the finding quotes the address');
  resetTo('main');
});

t.test('author or committer must be the pusher, through a template over the principal', async (t) => {
  commitRules({ pusher: [{ email: '{{principal}}@agents.example.com' }] });
  const as = { PUSHGATE_PRINCIPAL: 'bot-7' };
  run('git', ['-c', 'user.name=Bot', '-c', 'user.email=bot-7@agents.example.com', 'commit', '--quiet', '--allow-empty', '-m', 'by the pusher'], { cwd: work.path });
  t.equal(work.push(['origin', 'main'], as).code, 0, 'the pusher\'s own commit');
  run('git', ['-c', 'user.name=Bot', '-c', 'user.email=bot-8@agents.example.com', 'commit', '--quiet', '--allow-empty', '-m', 'by another agent'], { cwd: work.path });
  const other = work.push(['origin', 'main'], as);
  t.equal(other.result?.decision, 'deny', other.output);
  t.match(other.result?.findings, [{ rule: 'commit.pusher' }]);
  t.match(other.output, /bot-7@agents\.example\.com/);
  resetTo('main');
});

t.test('linear history: a merge is refused on main, also when it reaches main from a branch pushed earlier', async (t) => {
  commitRules({ linear: [{ refs: ['refs/heads/main'] }] });
  work.git('checkout', '--quiet', '-b', 'side');
  work.commit('side work', { 'side.txt': 's\n' });
  work.git('checkout', '--quiet', 'main');
  work.commit('main work', { 'main.txt': 'm\n' });
  work.git('merge', '--quiet', '--no-edit', 'side');
  const merge = work.git('rev-parse', 'HEAD').trim();
  const direct = work.push(['origin', 'main']);
  t.equal(direct.result?.decision, 'deny', direct.output);
  t.match(direct.result?.findings, [{ rule: 'commit.merge', commit: merge }]);
  // The same merge on a branch the rule does not cover is fine; then main fast-forwards to it, with no new objects.
  t.equal(work.push(['origin', 'main:refs/heads/integration']).code, 0);
  const moved = work.push(['origin', 'main']);
  t.equal(moved.result?.decision, 'deny', moved.output);
  t.match(moved.result?.findings, [{ rule: 'commit.merge', commit: merge }]);
  resetTo('main');
  work.git('branch', '--quiet', '-D', 'side');
});

t.test('ref names for creation extend ref.name', async (t) => {
  server.setConfig(['policy', 'refNames'], [{ require: '^refs/heads/(main|feature/|fix/)', refs: ['refs/heads/**'], description: 'feature/… or fix/…' }]);
  commitRules({});
  const bad = work.push(['origin', 'HEAD:refs/heads/random-name']);
  t.equal(bad.result?.decision, 'deny', bad.output);
  t.match(bad.result?.findings, [{ rule: 'ref.name', ref: 'refs/heads/random-name' }]);
  t.match(bad.output, /feature\/… or fix\/…/);
  t.equal(work.push(['origin', 'HEAD:refs/heads/feature/ok']).code, 0, 'a name that matches');
  t.equal(work.push(['origin', 'HEAD:refs/tags/anything']).code, 0, 'tags are outside the rule\'s refs');
  server.setConfig(['policy', 'refNames'], []);
});

t.test('path length, extensions and path patterns', async (t) => {
  server.setConfig(['policy', 'path'], {
    maxLength: [{ max: 40 }],
    extensions: [{ forbid: ['exe', '.DLL', 'tar.gz'], action: 'park' }],
    names: [{ forbid: '(^|/)\\.env$' }],
  });
  const long = `${'d/'.repeat(20)}file.txt`;
  work.commit('paths', { [long]: 'x\n', 'bin/tool.EXE': 'MZ\n', 'dist/a.tar.gz': 'z\n', 'config/.env': 'A=1\n', 'ok.txt': 'ok\n' });
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.result?.decision, 'deny', pushed.output);
  const found = pushed.result!.findings.filter((f) => f.rule.startsWith('path.')).map((f) => `${f.rule} ${f.path}`).sort();
  t.same(found, ['path.extension bin/tool.EXE', 'path.extension dist/a.tar.gz', 'path.forbidden config/.env', `path.too-long ${long}`]);
  work.git('reset', '--quiet', '--hard', 'HEAD~1');
  server.setConfig(['policy', 'path'], { maxLength: [], extensions: [], names: [] });
});

t.test('bad configuration is a config check error with its path, and the hook refuses pushes meanwhile', async (t) => {
  const dir = tempDir(t, 'pushgate-badrules-');
  const config = join(dir, 'pushgate.yaml');
  writeFileSync(config, [
    'reposRoot: repos',
    'stateDir: state',
    'policy:',
    '  commit:',
    '    message:',
    '      - require: "([A-Z"',
    '    pusher:',
    '      - email: "{{principle}}@agents.example.com"',
    '    linear:',
    '      - refs: [refs/heads/main]',
    '        rols: [agent]',
    '  refNames:',
    '    - refs: [main]',
    '      forbid: x',
    '  path:',
    '    extensions:',
    '      - forbid: []',
    '',
  ].join('\n'));
  const checked = pushgateCli(['config', 'check', '--config', config]);
  t.equal(checked.status, 1, checked.stderr);
  const out = checked.stdout + checked.stderr;
  t.match(out, /policy\.commit\.message\[0\]\.require.*invalid regular expression/);
  t.match(out, /policy\.commit\.pusher\[0\]\.email.*unknown placeholder \{\{principle\}\}/);
  t.match(out, /policy\.commit\.linear\[0\]\.rols.*unknown key.*roles/);
  t.match(out, /policy\.refNames\[0\]\.refs\[0\].*refs\/heads\/main/);
  t.match(out, /policy\.path\.extensions\[0\]\.forbid.*at least one/);
});
