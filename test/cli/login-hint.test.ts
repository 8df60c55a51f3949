/**
 * The `git config core.sshCommand …` line `pushgate login` prints, run
 * verbatim with sh in a fresh repository, makes the next `git push` go through
 * pushgate ssh — whatever the PATH of the shell it was printed in holds: no
 * pushgate, this pushgate, another program called pushgate, npm's script
 * directories — and whatever the state directory is called.
 */
import t from 'tap';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushgateResult } from '../helpers/git-server.js';
import { pushgateBin, run, runAsync, tempDir, type Ran } from '../helpers/tools.js';
import { pathWithoutPushgate } from '../helpers/user-shell.js';
import { TestIdp } from '../identity/idp.js';
import { startServe } from '../login/harness.js';

const idp = await TestIdp.start(t);
const serve = await startServe(t, idp, { repos: ['team/app'] });

/** The environment of a shell with `path` as its PATH: nothing pushgate or git would pick up from the test's own. */
function shellEnv(home: string, path: string, knownHosts: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('PUSHGATE_') || (name.startsWith('GIT_') && name !== 'GIT_EXEC_PATH')) delete env[name];
  return {
    ...env,
    HOME: home,
    PATH: path,
    PUSHGATE_SSH_OPTIONS: `-F /dev/null -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes -o LogLevel=ERROR`,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'hint', GIT_AUTHOR_EMAIL: 'hint@example.test', GIT_COMMITTER_NAME: 'hint', GIT_COMMITTER_EMAIL: 'hint@example.test',
  };
}

/** A directory holding an executable `pushgate`: a link to this program, or a script that is not it. */
function binDir(t: { teardown(fn: () => void): void }, kind: 'this' | 'another', under = ''): string {
  const dir = join(tempDir(t, 'pushgate-hint-bin-'), under);
  mkdirSync(dir, { recursive: true });
  if (kind === 'this') symlinkSync(pushgateBin, join(dir, 'pushgate'));
  else {
    writeFileSync(join(dir, 'pushgate'), '#!/bin/sh\necho "an older, unrelated pushgate" >&2\nexit 3\n');
    chmodSync(join(dir, 'pushgate'), 0o755);
  }
  return dir;
}

interface Case {
  name: string;
  path: (t: { teardown(fn: () => void): void }) => string;
  /** Expected start of the command git runs. */
  command: 'pushgate' | 'node';
  stateDir?: string;
}

const base = pathWithoutPushgate();
// The odd state directory holds what sh would split or expand. `"` and `%` are left out: ssh itself
// reads them specially in the IdentityFile / CertificateFile values pushgate ssh passes it.
const cases: Case[] = [
  { name: 'no pushgate on the PATH (a clone, run as node bin/pushgate.js)', path: () => base, command: 'node' },
  { name: 'this pushgate on the PATH (npm install -g, npm link)', path: (t) => `${binDir(t, 'this')}:${base}`, command: 'pushgate' },
  { name: 'another program called pushgate first on the PATH', path: (t) => `${binDir(t, 'another')}:${binDir(t, 'this')}:${base}`, command: 'node' },
  { name: 'pushgate only in an npm script directory (npm run, npx)', path: (t) => `${binDir(t, 'this', 'node_modules/.bin')}:${base}`, command: 'node' },
  { name: 'a state directory whose name the shell would expand', path: (t) => `${binDir(t, 'this')}:${base}`, command: 'pushgate', stateDir: `state dir 'q' $HOME \`x\` !` },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const home = tempDir(t, 'pushgate-hint-');
    const knownHosts = join(home, 'known_hosts');
    writeFileSync(knownHosts, serve.knownHostsLine());
    const env = shellEnv(home, c.path(t), knownHosts);
    const token = join(home, 'token');
    writeFileSync(token, await idp.sign({ sub: `hint-${cases.indexOf(c)}`, scope: 'git:push' }));
    const dirArgs = c.stateDir === undefined ? [] : ['--dir', join(home, c.stateDir)];

    const login: Ran = await runAsync(process.execPath, [pushgateBin, 'login', '--server', serve.httpUrl, '--token-file', token, ...dirArgs], { env, cwd: home });
    t.equal(login.status, 0, 'logged in', { stderr: login.stderr });
    const line = /^ {2}(git config core\.sshCommand .*)$/m.exec(login.stdout)?.[1];
    t.ok(line, 'login prints the git line', { stdout: login.stdout });

    const json: Ran = await runAsync(process.execPath, [pushgateBin, 'login', '--server', serve.httpUrl, '--token-file', token, '--format', 'json', ...dirArgs], { env, cwd: home });
    const { sshCommand } = JSON.parse(json.stdout) as { sshCommand: string };
    t.equal(sshCommand.split(' ')[0] === 'pushgate' ? 'pushgate' : 'node', c.command, `git runs ${c.command === 'pushgate' ? 'pushgate by name' : 'node and the entry point by path'}: ${sshCommand}`);

    const work = join(home, 'work');
    run('git', ['init', '-q', '-b', 'main', work], { env });
    run('git', ['remote', 'add', 'origin', serve.repoUrl('team/app')], { cwd: work, env });
    const configured = await runAsync('sh', ['-c', line!], { env, cwd: work });
    t.equal(configured.status, 0, 'the line runs as printed', { stderr: configured.stderr });
    t.equal(run('git', ['config', 'core.sshCommand'], { cwd: work, env }).trim(), sshCommand, 'git holds the command the JSON names');

    writeFileSync(join(work, 'hint.txt'), `${c.name}\n`);
    run('git', ['add', 'hint.txt'], { cwd: work, env });
    run('git', ['commit', '-q', '-m', 'hint'], { cwd: work, env });
    const branch = `hint-${cases.indexOf(c)}`;
    const push = await runAsync('git', ['push', 'origin', `HEAD:refs/heads/${branch}`], { env, cwd: work });
    t.equal(push.status, 0, 'git pushes through the configured command', { stderr: push.stderr });
    t.equal(pushgateResult(push.stderr)?.decision, 'allow', 'the gateway and the hook saw the push');
  });
}

t.test('what pushgate ssh tells a user to run, runs: not logged in, outside any PATH', async (t) => {
  const home = tempDir(t, 'pushgate-hint-');
  const env = shellEnv(home, base, join(home, 'known_hosts'));
  const ssh = await runAsync(process.execPath, [pushgateBin, 'ssh', '--dir', join(home, 'empty'), '-p', String(serve.sshPort), 'git@127.0.0.1', 'queue list'], { env, cwd: home });
  t.not(ssh.status, 0);
  const told = /run (.+) login first/.exec(ssh.stderr)?.[1];
  t.ok(told, 'it says what to run', { stderr: ssh.stderr });
  const version = await runAsync('sh', ['-c', `${told!} --version`], { env, cwd: home });
  t.equal(version.status, 0, 'that command is pushgate, runnable from this shell', { stderr: version.stderr });
  t.match(version.stdout, /^\d+\.\d+\.\d+/);
});
