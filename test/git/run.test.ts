import t from 'tap';
import { GitError, isGitError, isQuarantined, runGit, runGitOrThrow, withoutQuarantine } from '../../src/git/index.js';
import { commit, gitDirOf, newRepo } from './fixture.js';

t.test('runGit returns output and exit status without throwing', async (t) => {
  const version = await runGit(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^git version \d+\.\d+/);
  const failed = await runGit(['rev-parse', '--verify', 'no-such-thing'], { cwd: '/' });
  t.not(failed.code, 0);
  t.match(failed.stderr, /fatal/);
});

t.test('runGit points git at gitDir and feeds input', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const where = await runGitOrThrow(['rev-parse', '--absolute-git-dir'], { gitDir });
  t.equal(where.stdout.trim(), gitDir);
  const hashed = await runGitOrThrow(['hash-object', '-w', '--stdin'], { gitDir, input: 'hello\n' });
  t.equal(hashed.stdout.trim(), 'ce013625030ba8dba906f756967f9e9ca394464a');
  const raw = await runGitOrThrow(['cat-file', 'blob', 'ce013625030ba8dba906f756967f9e9ca394464a'], { gitDir, encoding: 'buffer' });
  t.ok(Buffer.isBuffer(raw.stdout));
  t.same(raw.stdout, Buffer.from('hello\n'));
});

t.test('runGitOrThrow throws a GitError with exit status, arguments and stderr', async (t) => {
  const repo = newRepo(t);
  const error = await runGitOrThrow(['rev-parse', '--verify', 'refs/heads/nope'], { gitDir: gitDirOf(repo) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(isGitError(error));
  const gitError = error as GitError;
  t.equal(gitError.code, 'git.failed');
  t.equal(gitError.exitCode, 128);
  t.same(gitError.args, ['rev-parse', '--verify', 'refs/heads/nope']);
  t.match(gitError.stderr, /fatal: Needed a single revision/);
  t.match(gitError.message, /git rev-parse --verify refs\/heads\/nope failed: fatal: Needed a single revision/);
});

t.test('output beyond maxBuffer is an error, not a truncated result', async (t) => {
  const repo = newRepo(t);
  commit(repo, { 'big.txt': 'x'.repeat(100_000) });
  await t.rejects(runGit(['cat-file', '-p', 'HEAD:big.txt'], { gitDir: gitDirOf(repo), maxBuffer: 1000 }), { code: 'git.output-too-large' });
});

t.test('a command that outlives timeoutMs is killed', async (t) => {
  const started = Date.now();
  await t.rejects(runGit(['-c', 'alias.wait=!sleep 30', 'wait'], { cwd: '/', timeoutMs: 200 }), { code: 'git.timeout' });
  t.ok(Date.now() - started < 20_000, 'did not wait for the command');
});

t.test('git that cannot start is a git.spawn error', async (t) => {
  await t.rejects(runGit(['--version'], { cwd: '/no/such/directory/anywhere' }), { code: 'git.spawn' });
});

t.test('withoutQuarantine strips only the object-directory variables', async (t) => {
  const hookEnv = {
    PATH: '/usr/bin',
    GIT_DIR: '.',
    GIT_QUARANTINE_PATH: '/repo/objects/tmp_objdir-incoming-1',
    GIT_OBJECT_DIRECTORY: '/repo/objects/tmp_objdir-incoming-1',
    GIT_ALTERNATE_OBJECT_DIRECTORIES: '/repo/objects',
    GIT_PUSH_OPTION_COUNT: '0',
  };
  t.ok(isQuarantined(hookEnv));
  const clean = withoutQuarantine(hookEnv);
  t.same(clean, { PATH: '/usr/bin', GIT_DIR: '.', GIT_PUSH_OPTION_COUNT: '0' });
  t.notOk(isQuarantined(clean));
  t.equal(hookEnv.GIT_QUARANTINE_PATH, '/repo/objects/tmp_objdir-incoming-1', 'the input is not modified');
});
