import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { sleep, SshUser, startGateway } from './harness.js';

const gateway = await startGateway(t, { repos: ['team/app'] });
const root = gateway.server.reposRoot;
const user = new SshUser(gateway, 'prober').sign();

// A canary outside reposRoot: a real bare repository under a name found nowhere else.
const outside = join(tempDir(t), 'outside-canary');
run('git', ['init', '-q', '--bare', join(outside, 'secret.git')]);
writeFileSync(join(outside, 'passwd'), 'root:x:0:0\n');
symlinkSync(join(outside, 'secret.git'), join(root, 'abs-link.git'));
symlinkSync('../../outside-canary-rel', join(root, 'team', 'rel-link.git'));
symlinkSync(outside, join(root, 'dir-link'));
symlinkSync('team/app.git', join(root, 'alias.git'));
symlinkSync('loop-b.git', join(root, 'loop-a.git'));
symlinkSync('loop-a.git', join(root, 'loop-b.git'));
mkdirSync(join(root, 'worktree'));
run('git', ['init', '-q', join(root, 'worktree')]);
mkdirSync(join(root, 'plain-dir.git'));

/** Sends an exact exec command line (no client-side quoting): what the server gets is what we wrote. */
function exec(command: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('ssh', [...user.sshOptions(), 'git@127.0.0.1', command], { encoding: 'utf8', input: '0000', timeout: 20_000 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Byte-exact command lines (non-UTF-8) go through bash's $'…' quoting. */
function execBytes(ansiC: string): { status: number; stdout: string; stderr: string } {
  const command = ['ssh', ...user.sshOptions()].map((w) => `'${w}'`).join(' ');
  const result = spawnSync('bash', ['-c', `${command} git@127.0.0.1 $'${ansiC}' </dev/null`], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const REFUSAL = /^pushgate: repository ".*" does not exist, or you may not read it$/m;

t.test('the same repository, written every accepted way', async (t) => {
  for (const path of ['team/app', 'team/app.git', '/team/app.git', '/team/app', '~/team/app.git', `${root}/team/app.git`, 'team/app.git/', 'alias', '/alias.git']) {
    const result = exec(`git-upload-pack '${path}'`);
    t.equal(result.status, 0, `${path}: ${result.stderr}`);
    t.match(result.stdout, /^[0-9a-f]{4}/, `${path}: an advertisement came back`);
  }
  t.equal(exec("git upload-pack 'team/app'").status, 0, '"git upload-pack" is accepted too, as git-shell does');
  t.equal(exec("git-upload-pack 'team/'\\''app'").status, 1, 'an escaped quote is part of the name');
});

const hostile: Array<[string, string]> = [
  ['parent traversal', "git-upload-pack '../outside-canary/secret.git'"],
  ['nested traversal', "git-upload-pack 'team/../../outside-canary/secret.git'"],
  ['dot-dot only', "git-upload-pack '..'"],
  ['hidden component', "git-upload-pack 'team/.git'"],
  ['dot component', "git-upload-pack './team/app.git'"],
  ['double slash', "git-upload-pack 'team//app.git'"],
  ['absolute outside the root', `git-upload-pack '${outside}/secret.git'`],
  ['/etc/passwd', "git-upload-pack '/etc/passwd'"],
  ['tilde user', "git-upload-pack '~root/.ssh'"],
  ['absolute symlink escape', "git-upload-pack 'abs-link.git'"],
  ['relative symlink escape', "git-upload-pack 'team/rel-link.git'"],
  ['directory symlink escape', "git-upload-pack 'dir-link/secret.git'"],
  ['symlink loop', "git-upload-pack 'loop-a.git'"],
  ['non-bare worktree', "git-upload-pack 'worktree'"],
  ['plain directory', "git-upload-pack 'plain-dir.git'"],
  ['missing', "git-upload-pack 'team/missing.git'"],
  ['backslash', "git-upload-pack 'team\\\\app.git'"],
  ['very long path', `git-upload-pack '${'a/'.repeat(600)}x.git'`],
  ['very long component', `git-upload-pack '${'a'.repeat(300)}.git'`],
];

for (const [name, command] of hostile) {
  t.test(`refused: ${name}`, async (t) => {
    const result = exec(command);
    t.equal(result.status, 1);
    t.match(result.stderr, REFUSAL, 'one message for every refused path');
    t.equal(result.stdout, '');
  });
}

const malformed: Array<[string, string]> = [
  ['command chaining', "git-upload-pack 'team/app.git'; id"],
  ['and-chaining', "git-upload-pack 'team/app.git' && id"],
  ['command substitution', "git-upload-pack '$(id)'"],
  ['backticks', "git-upload-pack '`id`'"],
  ['double quotes', 'git-upload-pack "team/app.git"'],
  ['unquoted', 'git-upload-pack team/app.git'],
  ['unbalanced quote', "git-upload-pack 'team/app.git"],
  ['two arguments', "git-upload-pack 'team/app.git' 'team/app.git'"],
  ['option injection', "git-upload-pack '--upload-pack=id'"],
  ['command too long', `git-upload-pack '${'a'.repeat(5000)}'`],
];

for (const [name, command] of malformed) {
  t.test(`refused: ${name}`, async (t) => {
    const result = exec(command);
    t.equal(result.status, 1);
    t.match(result.stderr, /^pushgate: /m);
    t.notMatch(result.stdout, /uid=/);
    t.equal(result.stdout, '');
  });
}

t.test('refused: non-UTF-8 and control characters', async (t) => {
  for (const bytes of ["git-upload-pack \\'team/\\xff\\xfeapp.git\\'", "git-upload-pack \\'team/app.git\\n id\\'", "git-upload-pack \\'team/app\\x01.git\\'", "git-upload-pack \\'\\xc3\\x28\\'"]) {
    const result = execBytes(bytes);
    t.equal(result.status, 1, bytes);
    t.match(result.stderr, /^pushgate: /m);
  }
});


/** The path arguments of a traced call: a readlink's result (the link's text) is data, not a path that was looked at. */
function pathsNamed(line: string): string {
  if (line.includes('readlink resumed>')) return '';
  return line.replace(/readlink\("([^"]*)", "[^"]*"/, 'readlink("$1"');
}

t.test('nothing outside reposRoot is touched (strace of the server)', async (t) => {
  requireTool('strace', 'strace');
  const traceFile = join(tempDir(t), 'trace');
  const tracer = spawn('strace', ['-f', '-qq', '-e', 'trace=%file,%process', '-o', traceFile, '-p', String(gateway.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let attached = '';
  tracer.stderr.on('data', (chunk) => (attached += String(chunk)));
  // strace prints nothing with -qq; wait until it shows up as the tracer.
  for (let i = 0; i < 100; i++) {
    const status = readFileSync(`/proc/${gateway.pid}/status`, 'utf8');
    if (/TracerPid:\s+[1-9]/.test(status)) break;
    await sleep(20);
  }
  for (const [, command] of hostile) exec(command);
  exec("git-upload-pack 'team/app.git'");
  tracer.kill('SIGINT');
  await new Promise((resolve) => tracer.once('close', resolve));
  const trace = readFileSync(traceFile, 'utf8');
  t.match(trace, /team\/app\.git/, `the trace saw the server's file access (${attached})`);
  const touching = trace.split('\n').map(pathsNamed).filter((line) => line.includes('outside-canary') || line.includes('/etc/passwd') || line.includes('/.ssh'));
  t.same(touching, [], 'no file system call named anything outside reposRoot');
});
