/**
 * The client on an agent's or a reviewer's machine: the package `npm pack`
 * makes, installed with `npm install -g` into an empty prefix, is a working
 * `pushgate` on the PATH. Against a real server (the installed package's own
 * `pushgate dev`): --version, login, the git line login prints run verbatim,
 * pushes through `pushgate ssh` checked by the installed hook, and the queue
 * over SSH and on the server.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pushgateResult } from '../helpers/git-server.js';
import { requireTool, runAsync, tempDir, type Ran } from '../helpers/tools.js';
import { asUser } from '../helpers/user-shell.js';

requireTool('npm', 'npm');
requireTool('git', 'git');
requireTool('ssh', 'openssh-client');
requireTool('ssh-keygen', 'openssh-client');

const checkout = new URL('../../../', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { version: string };
/** npm install -g fetches the dependencies (from npm's cache when it holds them). */
const INSTALL_TIMEOUT_MS = 300_000;

function user(command: string, args: string[], extra: NodeJS.ProcessEnv, cwd?: string, timeoutMs = 120_000): Promise<Ran> {
  const run = asUser(command, args, extra);
  return runAsync(run.command, run.args, { env: run.env, timeoutMs, ...(cwd !== undefined ? { cwd } : {}) });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('npm install -g of the npm pack output gives a working pushgate', { timeout: 540_000 }, async (t) => {
  const root = tempDir(t, 'pushgate-npm-pack-');
  const packed = join(root, 'packed');
  const prefix = join(root, 'prefix');
  const home = join(root, 'home');
  for (const dir of [packed, home]) await user('mkdir', ['-p', dir], {});

  // The build is the one `npm test` just made: `npm pack` would run the same build (prepare) first,
  // and rebuilding here would rewrite build/ under the other tests' feet.
  const pack = await user('npm', ['pack', '--ignore-scripts', '--pack-destination', packed], {}, checkout);
  t.equal(pack.status, 0, 'npm pack', { stderr: pack.stderr });
  const tarball = readdirSync(packed).find((name) => name.endsWith('.tgz'));
  t.equal(tarball, `pushgate-${version}.tgz`);

  // npm's own cache (the user's): packages it holds are not fetched again.
  const installed = await user('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', join(packed, tarball!)], {}, root, INSTALL_TIMEOUT_MS);
  t.equal(installed.status, 0, 'npm install -g', { output: `${installed.stdout}${installed.stderr}` });
  const bin = join(prefix, 'bin');
  t.ok(existsSync(join(bin, 'pushgate')), 'pushgate is in the prefix\'s bin directory');
  t.ok(realpathSync(join(bin, 'pushgate')).startsWith(realpathSync(prefix)), 'and it is the installed copy, not the checkout');

  // The agent's machine: HOME of its own, the installed pushgate first on the PATH, nothing of the checkout.
  const env: NodeJS.ProcessEnv = { HOME: home, PATH: `${bin}:${asUser('true', []).env.PATH}`, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  for (const name of Object.keys(process.env)) if (name.startsWith('PUSHGATE_') || (name.startsWith('GIT_') && name !== 'GIT_EXEC_PATH')) env[name] = undefined;
  const pushgate = (args: string[], extra: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Ran> => user('pushgate', args, { ...env, ...extra }, cwd ?? home);
  const sh = (command: string, extra: NodeJS.ProcessEnv = {}, cwd?: string): Promise<Ran> => user('sh', ['-c', command], { ...env, ...extra }, cwd ?? home);

  const which = await sh('command -v pushgate');
  t.equal(which.stdout.trim(), join(bin, 'pushgate'), 'the shell finds the installed pushgate');
  const shown = await pushgate(['--version']);
  t.equal(shown.status, 0, 'pushgate --version runs', { stderr: shown.stderr });
  t.equal(shown.stdout.trim(), version, 'pushgate --version');
  const help = await pushgate(['login', '--help']);
  t.equal(help.status, 0, 'pushgate login --help runs', { stderr: help.stderr });
  t.match(help.stdout, '--client-secret-file');

  // A real server from the installed package: identity provider, certificate service, gateway, hooks.
  const demo = join(root, 'demo');
  const dev = spawn('env', asUser('pushgate', ['dev', '--dir', demo], env).args, { env: asUser('pushgate', [], env).env, cwd: home, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let devOutput = '';
  dev.stdout.setEncoding('utf8').on('data', (s: string) => (devOutput += s));
  dev.stderr.setEncoding('utf8').on('data', (s: string) => (devOutput += s));
  const devExit = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    try {
      process.kill(-dev.pid!, 'SIGKILL');
    } catch {
      // stopped
    }
  });
  for (const until = Date.now() + 120_000; !existsSync(join(demo, 'dev.json'));) {
    if (dev.exitCode !== null || Date.now() > until) throw new Error(`the installed pushgate dev did not start:\n${devOutput}`);
    await sleep(200);
  }
  const info = JSON.parse(readFileSync(join(demo, 'dev.json'), 'utf8')) as {
    issuer: string; httpUrl: string; repoUrl: string; sshPort: number; knownHosts: string; configPath: string;
    clients: Record<'agent' | 'reviewer', { id: string; secretFile: string; scope: string }>;
  };
  const ssh = { PUSHGATE_SSH_OPTIONS: `-F /dev/null -o UserKnownHostsFile=${info.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes` };
  const login = (who: 'agent' | 'reviewer', extra: string[] = []): Promise<Ran> => pushgate([
    'login', '--server', info.httpUrl, '--issuer', info.issuer, '--client-id', info.clients[who].id,
    '--client-secret-file', info.clients[who].secretFile, '--scope', info.clients[who].scope, ...extra,
  ], ssh);

  const agentLogin = await login('agent');
  t.equal(agentLogin.status, 0, 'pushgate login', { stderr: agentLogin.stderr });
  const hint = /^ {2}(git config core\.sshCommand .*)$/m.exec(agentLogin.stdout)?.[1];
  t.equal(hint, 'git config core.sshCommand "pushgate ssh"', 'login names the pushgate on the PATH');

  // A repository configured with exactly the line login printed; no GIT_SSH_COMMAND anywhere.
  const work = join(home, 'app');
  const setup = await sh(`git init -q -b main app && cd app && ${hint!} && git remote add origin '${info.repoUrl}' && git fetch -q origin && git reset -q --hard origin/main`, ssh);
  t.equal(setup.status, 0, 'git fetches through the printed core.sshCommand', { stderr: setup.stderr });
  const gitEnv = { ...ssh, GIT_AUTHOR_NAME: 'agent', GIT_AUTHOR_EMAIL: 'agent@example.test', GIT_COMMITTER_NAME: 'agent', GIT_COMMITTER_EMAIL: 'agent@example.test' };
  const allowed = await sh('git switch -q -c feature/packaged && echo packaged > packaged.txt && git add . && git commit -qm packaged && git push origin feature/packaged', gitEnv, work);
  t.equal(allowed.status, 0, 'a feature branch is pushed', { stderr: allowed.stderr });
  t.equal(pushgateResult(allowed.stderr)?.decision, 'allow', 'the installed hook allowed it');
  const parked = await sh("git switch -q main && mkdir -p .github/workflows && printf 'on: push\\n' > .github/workflows/ci.yml && git add . && git commit -qm ci && git push origin main", gitEnv, work);
  const result = pushgateResult(parked.stderr);
  t.match(result, { decision: 'park', queueId: String }, 'a CI change parks', { stderr: parked.stderr });

  // The queue: a reviewer over SSH with a certificate of their own, and the operator on the server.
  const reviewerDir = join(home, 'reviewer');
  const reviewerLogin = await login('reviewer', ['--dir', reviewerDir]);
  t.equal(reviewerLogin.status, 0, 'the reviewer logs in', { stderr: reviewerLogin.stderr });
  const overSsh = await pushgate(['ssh', '--dir', reviewerDir, '-p', String(info.sshPort), 'git@127.0.0.1', 'queue', 'list'], ssh);
  t.equal(overSsh.status, 0, 'queue list over SSH', { stderr: overSsh.stderr });
  t.match(overSsh.stdout, String(result?.queueId), 'lists the parked push');
  const local = await pushgate(['queue', 'show', String(result?.queueId), '--config', info.configPath]);
  t.equal(local.status, 0, 'queue show on the server', { stderr: local.stderr });
  t.match(local.stdout, 'path.ci-workflow', 'shows why it parked');

  process.kill(dev.pid!, 'SIGINT');
  t.equal(await devExit, 0, 'the installed pushgate dev stops on SIGINT', { output: devOutput.slice(-2000) });
});
