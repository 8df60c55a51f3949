import { join } from 'node:path';
import t from 'tap';
import { migrateObjects, objectType, withoutQuarantine } from '../../src/git/index.js';
import { commit, git, gitDirOf, newRepo } from './fixture.js';

// A quarantine is an object directory git reads through the environment;
// another repository's objects reached through GIT_ALTERNATE_OBJECT_DIRECTORIES stand in for one.
t.test('objects visible only through the environment are copied into the repository', async (t) => {
  const target = newRepo(t, { bare: true });
  const source = newRepo(t);
  const base = commit(source, { 'a.txt': 'a\n' });
  git(source, ['push', '-q', target, 'main']);
  const tip = commit(source, { 'b.txt': 'b\n', 'dir/c.txt': 'c\n' });
  const env = { ...process.env, GIT_ALTERNATE_OBJECT_DIRECTORIES: join(gitDirOf(source), 'objects') };
  t.equal(await objectType(target, tip, env), 'commit', 'visible with the environment');
  t.equal(await objectType(target, tip, withoutQuarantine(env)), null, 'not stored in the repository');

  const only = await migrateObjects(target, [tip], true, env);
  t.equal(only.objects, 5, 'commit, root tree, dir tree and two blobs: nothing the repository had');
  t.equal(await objectType(target, tip), 'commit');
  t.equal(git(target, ['show', `${tip}:dir/c.txt`]), 'c');

  const everything = await migrateObjects(target, [tip], false, env);
  t.equal(everything.objects, 8, 'without excludeAll, all of history');
  t.equal(await objectType(target, base), 'commit');

  t.same(await migrateObjects(target, ['0'.repeat(40)], true, env), { objects: 0, pack: null }, 'deletions bring nothing');
  t.same(await migrateObjects(target, [base], true, env), { objects: 0, pack: null }, 'an existing commit brings nothing');
  await t.rejects(migrateObjects(target, ['0123456789012345678901234567890123456789'], true, env), { code: 'git.failed' });
});
