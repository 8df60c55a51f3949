import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createDemoRepo } from '../../src/dev/setup.js';
import { parseFsckConfig } from '../../src/git/fsck.js';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';
import { run, tempDir } from '../helpers/tools.js';
import { hostileTrees, ObjectWriter } from './objects.js';

const server = testServer(t);
const remote = server.createRepo('team/app');
const work = WorkTree.clone(t, remote);
const first = work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0, 'initial push allowed');
const objects = new ObjectWriter(work.path);

function config(repo: string, key: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return run('git', ['--git-dir', repo, 'config', '--get', key], { env }).trim();
  } catch {
    return '';
  }
}

function refExists(repo: string, ref: string): boolean {
  return run('git', ['--git-dir', repo, 'for-each-ref', '--format=%(refname)', ref]).trim() !== '';
}

t.test('repo create turns on git\'s object checks for receiving and fetching', async (t) => {
  for (const key of ['receive.fsckObjects', 'transfer.fsckObjects', 'fetch.fsckObjects']) t.equal(config(remote, key), 'true', key);
});

t.test('every hostile tree is refused by git before the hook, and no ref is made', async (t) => {
  const cases = hostileTrees(objects);
  cases.forEach(({ name, message, tree }, i) => {
    const ref = `refs/heads/hostile-${i}`;
    const commit = objects.commit(tree, `hostile: ${name}`, first);
    const pushed = work.push(['origin', `${commit}:${ref}`]);
    t.not(pushed.code, 0, `${name}: refused`);
    t.match(pushed.output, message, `${name}: git names the problem`);
    t.notOk(refExists(remote, ref), `${name}: no ref`);
  });
  // The same trees, pointed at directly by a tag (no commit at all).
  const tree = cases[0]!.tree;
  const tagged = work.push(['origin', `${tree}:refs/tags/tree-only`]);
  t.not(tagged.code, 0);
  t.match(tagged.output, /hasDotgit/);
  t.notOk(refExists(remote, 'refs/tags/tree-only'));
});

t.test('a .gitmodules blob the repository already holds under another name is still checked', async (t) => {
  const body = objects.gitmodules('[submodule "x"]\n\tpath = x\n\turl = -u./payload\n');
  const innocent = objects.commit(objects.tree([['100644', 'README.md', objects.blob('hello\n')], ['100644', 'notes.txt', body]]), 'notes', first);
  t.equal(work.push(['origin', `${innocent}:refs/heads/notes`]).code, 0, 'as notes.txt it is a plain file');
  const reused = objects.commit(objects.tree([['100644', '.gitmodules', body]]), 'modules', innocent);
  const pushed = work.push(['origin', `${reused}:refs/heads/notes`]);
  t.not(pushed.code, 0);
  t.match(pushed.output, /gitmodulesUrl/);
  const hooks = objects.hooksDir();
  const asDir = objects.commit(objects.tree([['40000', 'hooks-copy', hooks]]), 'a directory', innocent);
  t.equal(work.push(['origin', `${asDir}:refs/heads/notes`]).code, 0, 'a plain directory');
  const asGit = objects.commit(objects.tree([['40000', '.git', hooks]]), 'the same tree as .git', asDir);
  const again = work.push(['origin', `${asGit}:refs/heads/notes`]);
  t.not(again.code, 0, 'only the new tree object is new; it is checked');
  t.match(again.output, /hasDotgit/);
});

t.test('a push through many objects (index-pack, not unpack-objects) is checked the same way', async (t) => {
  let parent = first;
  for (let i = 0; i < 120; i++) parent = objects.commit(objects.tree([['100644', `f${i}.txt`, objects.blob(`file ${i}\n`)]]), `bulk ${i}`, parent);
  const evil = objects.commit(objects.tree([['40000', '.GIT', objects.hooksDir()]]), 'hidden among many', parent);
  const pushed = work.push(['origin', `${evil}:refs/heads/bulk`]);
  t.not(pushed.code, 0);
  t.match(pushed.output, /hasDotgit/);
  t.notOk(refExists(remote, 'refs/heads/bulk'));
});

t.test('the hook refuses every push into a repository whose object checks are off', async (t) => {
  const repo = server.createRepo('team/legacy');
  const clone = WorkTree.clone(t, repo);
  clone.commit('first', { 'README.md': 'hello\n' });
  t.equal(clone.push(['origin', 'main']).code, 0);
  for (const key of ['receive.fsckObjects', 'transfer.fsckObjects']) run('git', ['--git-dir', repo, 'config', '--unset', key]);

  clone.commit('clean', { 'a.txt': 'a\n' });
  const clean = clone.push(['origin', 'main']);
  t.equal(clean.result?.decision, 'deny', clean.output);
  t.match(clean.result?.findings, [{ rule: 'object.fsck-disabled', action: 'deny' }]);
  t.match(clean.output, /pushgate repo install-hooks/);
  const fromHook = clean.output.split('\n').filter((l) => l.startsWith('remote: ')).join('\n');
  t.notOk(fromHook.includes(server.dir), 'the hook names no server path to the pusher');

  const w = new ObjectWriter(clone.path);
  const evil = w.commit(w.tree([['40000', '.git', w.hooksDir()]]), 'evil', clone.git('rev-parse', 'HEAD').trim());
  const pushed = clone.push(['origin', `${evil}:refs/heads/evil`]);
  t.equal(pushed.result?.decision, 'deny', 'git let it in; the hook does not');
  t.notOk(refExists(repo, 'refs/heads/evil'));

  // receive.fsckObjects=false with transfer.fsckObjects=true: receive wins, as in git.
  run('git', ['--git-dir', repo, 'config', 'transfer.fsckObjects', 'true']);
  run('git', ['--git-dir', repo, 'config', 'receive.fsckObjects', 'false']);
  t.match(clone.push(['origin', 'main']).result?.findings, [{ rule: 'object.fsck-disabled' }]);

  const installed = pushgateCli(['repo', 'install-hooks', repo, '--config', server.configPath]);
  t.equal(installed.status, 0, installed.stderr);
  t.match(installed.stdout, /receive\.fsckObjects/, 'install-hooks says what it turned on');
  t.equal(config(repo, 'receive.fsckObjects'), 'true');
  t.equal(clone.push(['origin', 'main']).code, 0, 'after install-hooks a clean push is allowed');
  const refused = clone.push(['origin', `${evil}:refs/heads/evil`]);
  t.not(refused.code, 0);
  t.match(refused.output, /hasDotgit/, 'and git refuses the .git tree itself');
  const twice = pushgateCli(['repo', 'install-hooks', repo, '--config', server.configPath]);
  t.notMatch(twice.stdout, /fsck/, 'installing twice sets nothing again');
});

t.test('a weakened check anywhere git reads config is refused, and install-hooks restores it in the repository', async (t) => {
  const repo = server.createRepo('team/weakened');
  const clone = WorkTree.clone(t, repo);
  clone.commit('first', { 'README.md': 'hello\n' });
  t.equal(clone.push(['origin', 'main']).code, 0);
  // A global config (as an administrator's ~/.gitconfig would be) that lets .git trees in as warnings.
  const globalConfig = join(tempDir(t), 'gitconfig');
  writeFileSync(globalConfig, '[receive "fsck"]\n\thasDotgit = warn\n\tgitmodulesUrl = ignore\n');
  const env = { GIT_CONFIG_GLOBAL: globalConfig };
  const w = new ObjectWriter(clone.path);
  const evil = w.commit(w.tree([['40000', '.git', w.hooksDir()]]), 'evil', clone.git('rev-parse', 'HEAD').trim());
  const pushed = clone.push(['origin', `${evil}:refs/heads/evil`], env);
  t.match(pushed.output, /warning: .*hasDotgit/, 'git only warned');
  t.equal(pushed.result?.decision, 'deny', pushed.output);
  t.match(pushed.result?.findings, [{ rule: 'object.fsck-disabled' }]);
  t.match(pushed.output, /receive\.fsck\.hasdotgit/);
  t.notOk(refExists(repo, 'refs/heads/evil'));

  const installed = pushgateCli(['repo', 'install-hooks', repo, '--config', server.configPath], { env: { ...process.env, ...env } });
  t.equal(installed.status, 0, installed.stderr);
  t.equal(config(repo, 'receive.fsck.hasDotgit', { ...process.env, ...env }), 'error');
  t.equal(config(repo, 'receive.fsck.gitmodulesUrl', { ...process.env, ...env }), 'error');
  const again = clone.push(['origin', `${evil}:refs/heads/evil`], env);
  t.not(again.code, 0);
  t.match(again.output, /error: .*hasDotgit/, 'git refuses it again');
  clone.commit('clean', { 'b.txt': 'b\n' });
  t.equal(clone.push(['origin', 'main'], env).code, 0, 'and clean pushes pass');
});

t.test('the demo repository of pushgate dev checks objects too', async (t) => {
  const reposRoot = mkdtempSync(join(tempDir(t), 'repos-'));
  const bare = await createDemoRepo(reposRoot, server.configPath);
  for (const key of ['receive.fsckObjects', 'transfer.fsckObjects', 'fetch.fsckObjects']) t.equal(config(bare, key), 'true', key);
});

t.test('parseFsckConfig reads git\'s booleans and last-one-wins like git', async (t) => {
  const entry = (key: string, value?: string): string => (value === undefined ? `${key}\0` : `${key}\n${value}\0`);
  t.same(parseFsckConfig(''), { receive: false, fetch: false, transfer: false, weakened: [] });
  t.equal(parseFsckConfig(entry('receive.fsckobjects')).receive, true, 'a key without a value is true');
  t.equal(parseFsckConfig(entry('receive.fsckobjects', '')).receive, false, 'an empty value is false');
  t.equal(parseFsckConfig(entry('transfer.fsckobjects', 'yes')).receive, true, 'transfer is the fallback');
  t.equal(parseFsckConfig(entry('transfer.fsckobjects', 'on') + entry('receive.fsckobjects', 'off')).receive, false, 'receive wins over transfer');
  t.equal(parseFsckConfig(entry('receive.fsckobjects', 'true') + entry('receive.fsckobjects', '0')).receive, false, 'the last value wins');
  t.equal(parseFsckConfig(entry('receive.fsckobjects', '2')).receive, true);
  t.equal(parseFsckConfig(entry('receive.fsckobjects', 'maybe')).receive, false, 'not a boolean: off');
  t.same(parseFsckConfig(entry('receive.fsckobjects', 'true') + entry('receive.fsck.hasdotgit', 'WARN') + entry('receive.fsck.missingemail', 'ignore') + entry('receive.fsck.gitmodulesurl', 'error')).weakened,
    [['hasdotgit', 'WARN']], 'only critical checks count; error is not weakened');
  t.same(parseFsckConfig(entry('receive.fsck.hasdotgit', 'ignore') + entry('receive.fsck.hasdotgit', 'error')).weakened, [], 'restored later in the repository');
});
