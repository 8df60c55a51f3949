import t from 'tap';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBareRepository, repoNameFromPath, resolveRepository } from '../../src/gateway/repo-path.js';
import { run, tempDir } from '../helpers/tools.js';

const base = tempDir(t);
const root = join(base, 'repos');
mkdirSync(join(root, 'team'), { recursive: true });
run('git', ['init', '-q', '--bare', join(root, 'team', 'app.git')]);
run('git', ['init', '-q', '--bare', join(root, 'plain')]);
run('git', ['init', '-q', '--bare', join(base, 'outside.git')]);
run('git', ['init', '-q', join(root, 'work')]);
mkdirSync(join(root, 'nothead.git', 'objects'), { recursive: true });
mkdirSync(join(root, 'nothead.git', 'refs'));
writeFileSync(join(root, 'nothead.git', 'HEAD'), 'garbage\n');
run('git', ['init', '-q', '--bare', join(root, 'notbare.git')]);
run('git', ['--git-dir', join(root, 'notbare.git'), 'config', 'core.bare', 'false']);
run('git', ['init', '-q', '--bare', join(root, 'noconfig.git')]);
run('rm', [join(root, 'noconfig.git', 'config')]);
run('git', ['init', '-q', '--bare', join(root, 'norefs.git')]);
run('rm', ['-r', join(root, 'norefs.git', 'refs')]);
symlinkSync(join(root, 'team', 'app.git'), join(root, 'abs-inside.git'));
symlinkSync('team/app.git', join(root, 'rel-inside.git'));
symlinkSync(join(base, 'outside.git'), join(root, 'abs-outside.git'));
symlinkSync('../outside.git', join(root, 'rel-outside.git'));
symlinkSync('team/../../outside.git', join(root, 'sneaky.git'));
symlinkSync('self.git', join(root, 'self.git'));
writeFileSync(join(root, 'file.git'), 'not a directory');

t.test('names', async (t) => {
  const ok = (input: string, name: string): void => {
    t.same(repoNameFromPath(input, root), { ok: true, name }, input);
  };
  ok('team/app', 'team/app');
  ok('team/app.git', 'team/app');
  ok('/team/app.git', 'team/app');
  ok('///team/app.git', 'team/app');
  ok('~/team/app.git', 'team/app');
  ok('team/app.git/', 'team/app');
  ok(`${root}/team/app.git`, 'team/app');
  ok('/etc/passwd', 'etc/passwd');
  for (const bad of ['', '..', '../x', 'a/../b', './a', 'a/./b', 'a//b', '.git', 'a/.ssh', 'a\\b', 'a\u0000b', 'a\nb', 'a\u007fb', 'a\ufffdb', '/', '~/', 'x'.repeat(256), 'a/'.repeat(600)]) {
    const result = repoNameFromPath(bad, root);
    t.equal(result.ok, false, JSON.stringify(bad.slice(0, 40)));
    if (!result.ok) t.equal(result.code, 'repo.invalid-path');
  }
});

t.test('resolution stays inside the root', async (t) => {
  const found = async (name: string, expected: string): Promise<void> => {
    const result = await resolveRepository(root, name);
    t.ok(result.ok, name);
    if (result.ok) t.equal(result.name, expected, name);
  };
  await found('team/app', 'team/app');
  await found('plain', 'plain');
  await found('abs-inside', 'team/app');
  await found('rel-inside', 'team/app');
  await found('noconfig', 'noconfig');
  const refused = async (name: string, code: string): Promise<void> => {
    const result = await resolveRepository(root, name);
    t.equal(result.ok, false, name);
    if (!result.ok) t.equal(result.code, code, `${name}: ${result.reason}`);
  };
  await refused('abs-outside', 'repo.symlink-escape');
  await refused('rel-outside', 'repo.symlink-escape');
  await refused('sneaky', 'repo.symlink-escape');
  await refused('self', 'repo.not-found');
  await refused('missing', 'repo.not-found');
  await refused('team', 'repo.not-bare');
  await refused('work', 'repo.not-bare');
  await refused('nothead', 'repo.not-bare');
  await refused('notbare', 'repo.not-bare');
  await refused('norefs', 'repo.not-bare');
  await refused('file', 'repo.not-bare');
  await refused('file/x', 'repo.not-found');
  const noRoot = await resolveRepository(join(base, 'no-such-root'), 'x');
  t.match(noRoot, { ok: false, code: 'repo.not-found' });
});

t.test('a symlink out is refused before the target is looked at', async (t) => {
  const locked = join(base, 'locked');
  mkdirSync(join(locked, 'inner.git'), { recursive: true });
  symlinkSync(join(locked, 'inner.git'), join(root, 'locked.git'));
  chmodSync(locked, 0o000);
  t.teardown(() => chmodSync(locked, 0o755));
  const result = await resolveRepository(root, 'locked');
  t.match(result, { ok: false, code: 'repo.symlink-escape' });
  t.notOk(await isBareRepository(join(base, 'nowhere')));
});
