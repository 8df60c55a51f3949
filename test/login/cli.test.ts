import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentState } from '../../src/issuance/index.js';
import { pushgateBin, runAsync, tempDir, type Ran } from '../helpers/tools.js';
import { pathWithThisPushgate } from '../helpers/user-shell.js';
import { TestIdp } from '../identity/idp.js';
import { startIssuance } from '../issuance/harness.js';
import { sleep } from './harness.js';

const idp = await TestIdp.start(t);
const stranger = await TestIdp.start(t);
const issuance = await startIssuance(t, [idp]);

/** pushgate installed on the PATH, as on an agent's machine (test/cli/login-hint covers the other PATHs). */
const PATH = pathWithThisPushgate(t);

function pushgate(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return runAsync(process.execPath, [pushgateBin, ...args], { env: { ...process.env, PATH, ...env } });
}

/** A stand-in for ssh that shows its arguments and ends as told by $FAKE_SSH_END. */
function fakeSsh(t: { teardown(fn: () => void): void }): string {
  const path = join(tempDir(t), 'fake-ssh');
  writeFileSync(path, [
    '#!/bin/sh',
    'printf "%s\\n" "$@" >&2',
    'case "$FAKE_SSH_END" in',
    '  code) exit 42 ;;',
    '  signal) kill -TERM $$ ;;',
    '  wait) trap "echo got-term >&2; exit 143" TERM; echo ready >&2; while :; do sleep 0.05; done ;;',
    'esac',
    'exit 0',
  ].join('\n'), { mode: 0o755 });
  return path;
}

t.test('login: what went wrong decides the exit code', async (t) => {
  const dir = join(tempDir(t), 'state');
  const nothing = await pushgate(['login', '--dir', dir]);
  t.equal(nothing.status, 2, nothing.stderr);
  t.match(nothing.stderr, 'choose how to log in');

  const wrong = join(tempDir(t), 'secret');
  writeFileSync(wrong, 'not-the-secret\n');
  const refused = await pushgate(['login', '--dir', dir, '--server', issuance.url, '--issuer', idp.issuer, '--client-id', idp.clients.agent.id, '--client-secret-file', wrong]);
  t.equal(refused.status, 1, `the IdP said no: ${refused.stderr}`);
  t.match(refused.stderr, /invalid_client/, refused.stderr);

  const foreign = join(tempDir(t), 'token');
  writeFileSync(foreign, await stranger.sign({ sub: 'x' }));
  const notAccepted = await pushgate(['login', '--dir', dir, '--server', issuance.url, '--token-file', foreign]);
  t.equal(notAccepted.status, 1, `the server said no: ${notAccepted.stderr}`);
  t.match(notAccepted.stderr, 'the server refused the certificate: the bearer token was not accepted');

  const nobody = await pushgate(['login', '--dir', dir, '--server', 'http://127.0.0.1:1', '--token-file', foreign]);
  t.equal(nobody.status, 2, `nobody to ask: ${nobody.stderr}`);
  t.match(nobody.stderr, 'cannot reach');

  const format = await pushgate(['login', '--dir', dir, '--format', 'yaml']);
  t.equal(format.status, 2);

  writeFileSync(join(dir, 'login.json'), '{');
  const corrupt = await pushgate(['login', '--dir', dir]);
  t.equal(corrupt.status, 2);
  t.match(corrupt.stderr, 'is not JSON; run pushgate login again');
});

t.test('login remembers the state directory in the git line', async (t) => {
  const home = tempDir(t);
  const token = join(home, 'token');
  writeFileSync(token, await idp.sign({ sub: 'lister', scope: 'git:push' }));
  const elsewhere = join(home, 'elsewhere');
  const login = await pushgate(['login', '--dir', elsewhere, '--server', issuance.url, '--token-file', token]);
  t.equal(login.status, 0, login.stderr);
  t.match(login.stdout, `git config core.sshCommand "pushgate ssh --dir ${elsewhere}"`);
  const viaEnv = await pushgate(['login', '--server', issuance.url, '--token-file', token], { PUSHGATE_HOME: join(home, 'env-home') });
  t.equal(viaEnv.status, 0, viaEnv.stderr);
  t.match(viaEnv.stdout, 'git config core.sshCommand "pushgate ssh"');
});

t.test('pushgate ssh', async (t) => {
  const ssh = fakeSsh(t);
  const dir = join(tempDir(t), 'state');
  const env = { PUSHGATE_SSH: ssh, PUSHGATE_SSH_OPTIONS: '-o BatchMode=yes' };

  const notLoggedIn = await pushgate(['ssh', '--dir', dir, '-p', '2222', 'git@h', 'git-upload-pack x'], env);
  t.equal(notLoggedIn.status, 255, `like ssh when it cannot log in: ${notLoggedIn.stderr}`);
  t.match(notLoggedIn.stderr, 'run pushgate login first');

  const probe = await pushgate(['ssh', '--dir', dir, '-G', 'h'], env);
  t.equal(probe.status, 0, `git's -G probe needs no certificate: ${probe.stderr}`);

  const token = join(tempDir(t), 'token');
  writeFileSync(token, await idp.sign({ sub: 'shell', scope: 'git:push' }));
  t.equal((await pushgate(['login', '--dir', dir, '--server', issuance.url, '--token-file', token])).status, 0);
  const state = new AgentState(dir);
  const passed = await pushgate(['ssh', '--dir', dir, '-o', 'SendEnv=GIT_PROTOCOL', '-p', '2222', 'git@h', "git-receive-pack '/a b.git'"], env);
  t.equal(passed.status, 0, passed.stderr);
  t.same(passed.stderr.trim().split('\n'), [
    '-o', 'IdentitiesOnly=yes', '-o', `IdentityFile=${state.keyPath}`, '-o', `CertificateFile=${state.certificatePath}`,
    '-o', 'BatchMode=yes', '-o', 'SendEnv=GIT_PROTOCOL', '-p', '2222', 'git@h', "git-receive-pack '/a b.git'",
  ], 'every argument passes through unchanged, after the identity');

  const code = await pushgate(['ssh', '--dir', dir, 'h'], { ...env, FAKE_SSH_END: 'code' });
  t.equal(code.status, 42, `ssh's exit code: ${code.stderr}`);

  const killed = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const child = spawn(process.execPath, [pushgateBin, 'ssh', '--dir', dir, 'h'], { env: { ...process.env, ...env, FAKE_SSH_END: 'signal' }, stdio: 'ignore' });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // Under tap's coverage hooks a re-raised signal shows as the shell's 128+n.
  t.ok(killed.signal === 'SIGTERM' || killed.code === 143, `ssh killed by a signal: pushgate ends by the same signal (${JSON.stringify(killed)})`);

  const forwarded = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [pushgateBin, 'ssh', '--dir', dir, 'h'], { env: { ...process.env, ...env, FAKE_SSH_END: 'wait' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (s.includes('ready')) child.kill('SIGTERM');
    });
    child.once('close', (code) => resolve({ code, stderr }));
  });
  t.match(forwarded.stderr, 'got-term', 'a signal to pushgate reaches ssh');
  t.equal(forwarded.code, 143);

  const missing = await pushgate(['ssh', '--dir', dir, 'h'], { PUSHGATE_SSH: join(dir, 'no-such-ssh') });
  t.equal(missing.status, 255);
  t.match(missing.stderr, 'cannot run ssh');

  writeFileSync(state.certificatePath, '');
  writeFileSync(token, 'garbage');
  const broken = await pushgate(['ssh', '--dir', dir, 'h'], env);
  t.equal(broken.status, 255);
  t.match(broken.stderr, /could not renew the certificate in .*: the server refused|could not renew/);
  await sleep(0);
});
