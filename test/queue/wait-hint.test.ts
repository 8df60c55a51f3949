/**
 * The command a parked push prints to wait with works verbatim where the
 * pusher is: from the agent's clone on another machine (over OpenSSH,
 * through the gateway, with the SSH command git uses), whether or not the
 * agent's environment names a pushgate config; and on the server itself for
 * a push to a local path.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { SshUser, startGateway } from '../gateway/harness.js';
import { pushgateBin, runAsync, tempDir } from '../helpers/tools.js';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';

/** A PATH where `pushgate` is this build, as an installed client would be. */
function clientPath(t: { teardown(fn: () => void): void }): string {
  const bin = join(tempDir(t, 'pushgate-client-'), 'bin');
  mkdirSync(bin);
  symlinkSync(pushgateBin, join(bin, 'pushgate'));
  return [bin, dirname(process.execPath), process.env.PATH ?? '/usr/bin:/bin'].join(':');
}

function hintsOf(stderr: string): { line: string; json: string } {
  const line = /wait for the decision: (.*)$/m.exec(stderr)?.[1]?.trim() ?? '';
  const json = /"wait":"([^"]*)"/.exec(stderr)?.[1] ?? '';
  return { line, json };
}

function parkWorkflow(agent: SshUser, work: string): { status: number; stderr: string } {
  mkdirSync(join(work, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(work, '.github', 'workflows', `ci-${Math.random().toString(36).slice(2)}.yml`), 'on: push\n');
  agent.git(['add', '-A'], { cwd: work });
  agent.git(['commit', '-q', '-m', 'ci'], { cwd: work });
  return agent.git(['push', 'origin', 'main'], { cwd: work });
}

t.test('over SSH: the printed hint, run as printed in the agent\'s clone, waits for the decision on the server', async (t) => {
  const gateway = await startGateway(t, { repos: ['team/app'] });
  const agent = new SshUser(gateway, 'agent-7').sign({ roles: ['agent'] });
  const reviewer = new SshUser(gateway, 'rita').sign({ roles: ['reviewer'] });
  const url = `ssh://git@127.0.0.1:${gateway.port}/team/app.git`;
  const work = join(gateway.dir, 'agent-work');
  t.equal(agent.git(['clone', '-q', url, work]).status, 0);
  agent.git(['checkout', '-q', '-b', 'main'], { cwd: work });
  agent.git(['commit', '-q', '--allow-empty', '-m', 'base'], { cwd: work });
  t.equal(agent.git(['push', '-q', 'origin', 'main'], { cwd: work }).status, 0, 'base push allowed');
  const PATH = clientPath(t);

  // 1: git's SSH command from GIT_SSH_COMMAND; a PUSHGATE_CONFIG that names nothing on this machine.
  const parked = parkWorkflow(agent, work);
  t.not(parked.status, 0, 'parked');
  const hint = hintsOf(parked.stderr);
  t.match(hint.line, /^pushgate queue wait [a-z0-9]{8} --remote origin$/, `the hint: ${parked.stderr.slice(0, 600)}`);
  t.equal(hint.json, hint.line, 'the JSON wait field holds the same command');
  const id = /wait ([a-z0-9]{8})/.exec(hint.line)![1]!;

  const undecided = spawnSync('sh', ['-c', `${hint.line} --timeout 1s`], { cwd: work, env: agent.gitEnv({ PATH, PUSHGATE_CONFIG: '/nonexistent/pushgate.yaml' }), encoding: 'utf8', timeout: 60_000 });
  t.equal(undecided.status, 2, `undecided: the server's exit status 2 (timed out): ${undecided.stderr}`);
  t.match(undecided.stdout, new RegExp(`${id} team/app: pending`), 'the server\'s status line');

  const waiting = runAsync('sh', ['-c', hint.line], { cwd: work, env: agent.gitEnv({ PATH, PUSHGATE_CONFIG: '/nonexistent/pushgate.yaml' }) });
  const approved = reviewer.ssh(['queue', 'approve', id, '--comment', 'reviewed']);
  t.equal(approved.status, 0, approved.stderr);
  const waited = await waiting;
  t.equal(waited.status, 0, `approved and applied: exit 0: ${waited.stdout}${waited.stderr}`);
  t.match(waited.stdout, /applied/);

  // 2: git's SSH command from core.sshCommand, no PUSHGATE_CONFIG at all; a rejection exits 1.
  agent.git(['pull', '-q', 'origin', 'main'], { cwd: work });
  const second = parkWorkflow(agent, work);
  const hint2 = hintsOf(second.stderr);
  const id2 = /wait ([a-z0-9]{8})/.exec(hint2.line)?.[1];
  t.ok(id2, 'parked again');
  t.equal(reviewer.ssh(['queue', 'reject', id2!, '--reason', 'no']).status, 0);
  agent.git(['config', 'core.sshCommand', agent.sshCommand()], { cwd: work });
  const env = { ...agent.gitEnv({ PATH }) };
  delete env.GIT_SSH_COMMAND;
  delete env.PUSHGATE_CONFIG;
  const rejected = spawnSync('sh', ['-c', hint2.line], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  t.equal(rejected.status, 1, `rejected: exit 1: ${rejected.stderr}`);
  t.match(rejected.stdout, /rejected/);

  // The same option on the other commands an agent runs; a URL in place of the name.
  const status = spawnSync('sh', ['-c', `pushgate queue status ${id2} --remote origin --format json`], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  t.equal(status.status, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { id: id2, state: 'rejected' });
  const shown = spawnSync('pushgate', ['queue', 'show', id2!, '--remote', url], { cwd: gateway.dir, env: agent.gitEnv({ PATH }), encoding: 'utf8', timeout: 60_000 });
  t.equal(shown.status, 0, `show by URL, outside any clone: ${shown.stderr}`);
  const listed = spawnSync('pushgate', ['queue', 'list', '--state', 'all', '--remote', url], { cwd: gateway.dir, env: agent.gitEnv({ PATH }), encoding: 'utf8', timeout: 60_000 });
  t.equal(listed.status, 0, listed.stderr);
  t.match(listed.stdout, id2!);
  const own = spawnSync('pushgate', ['queue', 'approve', id!, '--remote', 'origin'], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  t.equal(own.status, 1, 'the server refuses an agent\'s approval: its exit status');

  const noRemote = spawnSync('pushgate', ['queue', 'wait', id!, '--remote', 'upstream'], { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  t.equal(noRemote.status, 1);
  t.match(noRemote.stderr, /--remote "upstream": not a remote/);
  const unreachable = spawnSync('pushgate', ['queue', 'wait', id!, '--remote', 'ssh://git@127.0.0.1:1/team/app.git'], { cwd: gateway.dir, env: { ...process.env, PATH, GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o ConnectTimeout=10' }, encoding: 'utf8', timeout: 60_000 });
  t.equal(unreachable.status, 2, `ssh could not connect: exit 2, never success: ${unreachable.stderr}`);
  t.match(unreachable.stderr, /could not be reached/);
});

t.test('--remote is refused over SSH: the command already runs on the server', async (t) => {
  const gateway = await startGateway(t, { repos: ['team/app'] });
  const agent = new SshUser(gateway, 'agent-8').sign({ roles: ['agent'] });
  const refused = agent.ssh(['queue', 'status', 'abcd2345', '--remote', 'origin']);
  t.equal(refused.status, 1);
  t.match(refused.stderr, /--remote cannot be given over SSH/);
});

t.test('on the server: a push to a local path prints a hint that works there as printed', async (t) => {
  const server = testServer(t);
  const bare = server.createRepo('team/app');
  const work = WorkTree.clone(t, bare);
  work.commit('base', { 'base.txt': 'base\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  work.commit('ci', { '.github/workflows/ci.yml': 'on: push\n' });
  const pushed = work.push(['origin', 'main']);
  t.not(pushed.code, 0);
  const parked = { stderr: pushed.output };
  const hint = hintsOf(parked.stderr);
  t.match(hint.line, /^pushgate queue wait [a-z0-9]{8} --config \S+pushgate\.yaml$/, parked.stderr.slice(0, 600));
  const id = /wait ([a-z0-9]{8})/.exec(hint.line)![1]!;
  const PATH = clientPath(t);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH };
  delete env.PUSHGATE_CONFIG;
  const waited = spawnSync('sh', ['-c', `${hint.line} --timeout 1s`], { cwd: work.path, env, encoding: 'utf8', timeout: 60_000 });
  t.equal(waited.status, 2, `timed out, having found the entry: ${waited.stderr}`);
  t.match(waited.stdout, `${id} team/app: pending`);
  // --remote origin names a local path here: the command runs on this machine, with the config found as usual.
  const local = spawnSync('sh', ['-c', `pushgate queue status ${id} --remote origin`], { cwd: work.path, env: { ...env, PUSHGATE_CONFIG: server.configPath }, encoding: 'utf8', timeout: 60_000 });
  t.equal(local.status, 0, local.stderr);
  t.equal(pushgateCli(['queue', 'status', id, '--config', server.configPath]).status, 0);
});
