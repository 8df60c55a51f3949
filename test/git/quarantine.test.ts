import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { BLOCKING_LIMIT, tempDir } from '../helpers/tools.js';
import { commit, git, gitTestEnv, newRepo } from './fixture.js';

const hookScript = new URL('./quarantine-hook.js', import.meta.url).pathname;

interface Report {
  quarantined: boolean;
  commits: string[];
  tipType: string | null;
  added: string[];
  visibleOutsideBefore: string | null;
  refInsideQuarantine: { ok: boolean; reason?: string };
  migrated: { objects: number; pack: string | null };
  visibleOutsideAfter: string | null;
  parked: { ok: boolean };
}

function push(work: string, refspec: string, pending: string): { status: number | null; stderr: string } {
  const result = spawnSync('git', ['push', 'origin', refspec], { cwd: work, env: { ...gitTestEnv, PUSHGATE_TEST_PENDING: pending }, encoding: 'utf8', ...BLOCKING_LIMIT });
  return { status: result.status, stderr: result.stderr };
}

t.test('a pre-receive hook parks a push: objects leave quarantine, the push is refused', async (t) => {
  const server = newRepo(t, { bare: true });
  const reportPath = join(tempDir(t), 'report.json');
  const work = newRepo(t);
  const base = commit(work, { 'README.md': 'hello\n' });
  git(work, ['remote', 'add', 'origin', server]);
  git(work, ['push', '-q', 'origin', 'main']);
  const hook = join(server, 'hooks', 'pre-receive');
  writeFileSync(hook, `#!/bin/sh\nexec '${process.execPath}' '${hookScript}' '${reportPath}'\n`);
  chmodSync(hook, 0o755);
  const first = commit(work, { 'app.py': 'print("hi")\n' });
  const tip = commit(work, { 'app.py': 'print("hi")\nTOKEN = "parked-secret"\n', 'data.bin': Buffer.from([0, 1, 2, 3]) });

  const pushed = push(work, 'main', 'test');
  t.not(pushed.status, 0, 'the push was refused');
  t.match(pushed.stderr, /remote: parked as test/);
  t.match(pushed.stderr, /pre-receive hook declined/);

  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  t.equal(report.quarantined, true, 'the hook ran inside quarantine');
  t.same(report.commits, [first, tip]);
  t.equal(report.tipType, 'commit', 'the quarantined tip was readable through cat-file');
  t.same([...report.added].sort(), ['app.py:1:print("hi")', 'app.py:2:TOKEN = "parked-secret"']);
  t.equal(report.visibleOutsideBefore, null, 'before migration the repository itself lacks the objects');
  t.match(report.refInsideQuarantine, { ok: false, reason: 'failed' }, 'ref updates are refused inside quarantine');
  t.ok(report.migrated.objects >= 6, `objects migrated: ${report.migrated.objects}`);
  t.match(report.migrated.pack, /^[0-9a-f]{40}$/);
  t.equal(report.visibleOutsideAfter, 'commit');
  t.same(report.parked, { ok: true });

  t.equal(git(server, ['rev-parse', 'refs/heads/main']), base, 'main did not move');
  t.equal(git(server, ['rev-parse', 'refs/pushgate/pending/test']), tip);
  t.match(git(server, ['cat-file', '-p', tip]), /^tree [0-9a-f]{40}/);
  t.equal(git(server, ['show', `${tip}:app.py`]), 'print("hi")\nTOKEN = "parked-secret"');
  t.equal(git(server, ['show', `${first}:app.py`]), 'print("hi")');
  git(server, ['fsck', '--no-dangling', '--connectivity-only']);
  t.equal(git(server, ['for-each-ref', 'refs/pushgate/pending/inside']), '', 'no ref was written from inside quarantine');

  // The same commit pushed again, to another branch: nothing new to copy.
  const again = push(work, 'main:refs/heads/other', 'again');
  t.not(again.status, 0);
  const second = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  t.same(second.commits, [first, tip], 'still new: being parked is not being accepted');
  t.same(second.migrated, { objects: 0, pack: null }, 'zero new objects: no empty pack written');
  t.equal(second.visibleOutsideBefore, 'commit');
  t.equal(git(server, ['rev-parse', 'refs/pushgate/pending/again']), tip);
  t.equal(git(server, ['for-each-ref', 'refs/heads/other']), '');
});
