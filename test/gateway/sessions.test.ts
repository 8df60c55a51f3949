import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { freePort, requireTool, tempDir } from '../helpers/tools.js';
import { sleep, SshUser, startGateway } from './harness.js';

const gateway = await startGateway(t, { repos: ['team/app', 'team/other'] });
const probe = gateway.createProbeRepo('team/probe');
const user = new SshUser(gateway, 'alice').sign();

// Something for the refused requests to reach if they were not refused.
const target: Server & { hits?: number } = createServer((socket) => {
  target.hits = (target.hits ?? 0) + 1;
  socket.end('reached\n');
});
await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
const targetPort = (target.address() as AddressInfo).port;
t.teardown(() => new Promise<void>((resolve) => target.close(() => resolve())));

// A first commit so there is something to list.
gateway.seed('team/app');

async function refusedRecord(code: string, principal = 'alice'): Promise<void> {
  const record = await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.result === 'refused' && l.code === code && l.identity?.principal === principal);
  if (!/^[0-9a-f]{12}(-\d+)?$/.test(record.session ?? '')) throw new Error(`refusal ${code} has no session id: ${JSON.stringify(record)}`);
}

t.test('a shell is refused with a short help: who you are, your roles, what you may run', async (t) => {
  const result = user.ssh([], { extra: ['-T'] });
  t.equal(result.status, 1, 'exit 1, as a refused command');
  t.notMatch(result.stderr, /shell request failed/);
  t.match(result.stderr, /^pushgate: hello alice; roles: /m);
  t.match(result.stderr, /git clone \/ fetch \/ pull \/ push/);
  t.match(result.stderr, /queue list \| show ID \| status ID \| wait ID/);
  await refusedRecord('session.shell');
});

t.test('the help names the roles, and the reviewer commands only to a reviewer', async (t) => {
  const rita = new SshUser(gateway, 'rita').sign({ roles: ['reviewer', 'agent'] });
  const asReviewer = rita.ssh([], { extra: ['-T'] });
  t.equal(asReviewer.status, 1);
  t.match(asReviewer.stderr, /hello rita; roles: reviewer, agent\./);
  t.match(asReviewer.stderr, /queue approve ID .*\| reject ID --reason TEXT/);
  const bot = new SshUser(gateway, 'bot-1').sign({ roles: ['agent'] });
  const asAgent = bot.ssh([], { extra: ['-T'] });
  t.equal(asAgent.status, 1);
  t.match(asAgent.stderr, /hello bot-1; roles: agent\./);
  t.notMatch(asAgent.stderr, /approve/, 'an agent is not offered approve');
});

t.test('from a terminal without -T (a pty request, then a shell) the help still comes', async (t) => {
  // `script` (util-linux) gives ssh a terminal, as a person typing `ssh git@host` has: ssh then asks for a pty on its own.
  requireTool('script', 'bsdutils');
  const command = user.sshCommand().concat(' alice@127.0.0.1');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', input: '', timeout: 30_000 });
  t.equal(result.status, 1, `exit 1: ${result.stdout}`);
  t.match(result.stdout, /PTY allocation request failed/, 'the pty is refused');
  t.match(result.stdout, /pushgate: hello alice; roles: /);
  await refusedRecord('session.pty');
});

t.test('a pty is refused', async (t) => {
  const result = user.ssh(["git-upload-pack 'team/app'"], { extra: ['-tt'] });
  t.match(result.stderr, /PTY allocation request failed/);
  await refusedRecord('session.pty');
});

t.test('the sftp subsystem is refused', async (t) => {
  const result = spawnSync('sftp', ['-b', '-', ...user.sshOptions().filter((o) => o !== '-p' && o !== String(gateway.port)), '-P', String(gateway.port), 'git@127.0.0.1'], { encoding: 'utf8', input: 'ls\n', timeout: 20_000 });
  t.not(result.status, 0);
  t.match(result.stderr, /subsystem request failed|Connection closed/);
  await refusedRecord('session.subsystem');
});

t.test('agent forwarding is refused', async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  t.teardown(() => {
    agent.kill();
  });
  for (let i = 0; i < 100 && spawnSync('test', ['-S', sock]).status !== 0; i++) await sleep(20);
  const result = spawnSync('ssh', [...user.sshOptions(['-A']), 'git@127.0.0.1', "git-upload-pack 'team/app'"], {
    encoding: 'utf8', input: '', env: { ...process.env, SSH_AUTH_SOCK: sock }, timeout: 20_000,
  });
  t.match(result.stdout, /refs\/heads\/main/, 'the command itself still runs, without the agent');
  await refusedRecord('session.agent-forwarding');
});

t.test('X11 forwarding is refused', async (t) => {
  const result = spawnSync('ssh', [...user.sshOptions(['-X', '-o', 'XAuthLocation=/nonexistent']), 'git@127.0.0.1', "git-upload-pack 'team/app'"], {
    encoding: 'utf8', input: '', env: { ...process.env, DISPLAY: '127.0.0.1:99' }, timeout: 20_000,
  });
  t.match(result.stderr, /X11 forwarding request failed/);
  await refusedRecord('session.x11');
});

t.test('ssh -W (direct-tcpip) is refused and reaches nothing', async (t) => {
  const result = user.ssh([], { extra: ['-W', `127.0.0.1:${targetPort}`] });
  t.equal(result.status, 255);
  t.match(result.stderr, /stdio forwarding failed|open failed|administratively prohibited/);
  t.equal(target.hits ?? 0, 0);
  await refusedRecord('forward.tcpip');
});

t.test('ssh -L is refused and reaches nothing', async (t) => {
  const local = await freePort();
  const ssh = spawn('ssh', [...user.sshOptions(['-N', '-L', `${local}:127.0.0.1:${targetPort}`]), 'git@127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.teardown(() => {
    ssh.kill();
  });
  let received = '';
  for (let i = 0; i < 100; i++) {
    const outcome = await new Promise<string>((resolve) => {
      const socket = createConnection(local, '127.0.0.1');
      let data = '';
      socket.on('data', (chunk) => (data += String(chunk)));
      socket.on('error', () => resolve('no listener'));
      socket.on('close', () => resolve(`closed:${data}`));
    });
    if (outcome.startsWith('closed:')) {
      received = outcome.slice('closed:'.length);
      break;
    }
    await sleep(50);
  }
  t.equal(received, '', 'the forwarded connection was closed without data');
  t.equal(target.hits ?? 0, 0, 'the target was never reached');
  await refusedRecord('forward.tcpip');
});

t.test('ssh -R is refused', async (t) => {
  const result = user.ssh([], { extra: ['-N', '-o', 'ExitOnForwardFailure=yes', '-R', `0:127.0.0.1:${targetPort}`] });
  t.equal(result.status, 255);
  t.match(result.stderr, /forwarding failed/);
  await refusedRecord('forward.request');
});

t.test('commands other than git are refused, without a shell', async (t) => {
  for (const command of ['id', 'sh -c id', 'git-upload-pack', "git-shell -c 'id'", "git-upload-pack 'team/app' 'extra'", "git-upload-pack '--help'"]) {
    const result = user.ssh([command]);
    t.equal(result.status, 1, command);
    t.match(result.stderr, /^pushgate: /m, command);
    t.notMatch(result.stdout, /uid=/);
  }
});

t.test('queue commands run the reviewer CLI with the caller\'s identity and the server\'s config', async (t) => {
  const listed = user.ssh(['queue', 'list', '--format', 'json']);
  t.equal(listed.status, 0, listed.stderr);
  t.doesNotThrow(() => JSON.parse(listed.stdout), 'JSON from the queue CLI reached stdout');
  const other = user.ssh(['queue list --config /tmp/evil.yaml']);
  t.equal(other.status, 1);
  t.match(other.stderr, /--config cannot be given over SSH/);
  const record = await gateway.waitForAudit((l) => l.type === 'ssh.session-end' && l.command?.startsWith('queue list --format') === true);
  t.equal(record.result, '0');
});

t.test('SetEnv: only a valid GIT_PROTOCOL passes', async (t) => {
  const setEnv = 'SetEnv=PUSHGATE_PRINCIPAL=mallory PUSHGATE_ROLES=admin LD_PRELOAD=/tmp/evil.so GIT_DIR=/etc GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=uploadpack.hiderefs GIT_CONFIG_VALUE_0=refs/heads';
  const env = { GIT_SSH_COMMAND: user.sshCommand(['-o', setEnv]) };
  const listed = user.git(['ls-remote', gateway.url('team/app')], { env });
  t.equal(listed.status, 0, listed.stderr);
  t.match(listed.stdout, /refs\/heads\/main/, 'GIT_CONFIG_* did not reach git (main is not hidden)');

  const work = join(tempDir(t), 'work');
  t.equal(user.git(['clone', '-q', gateway.url('team/probe'), work]).status, 0);
  user.git(['commit', '-q', '--allow-empty', '-m', 'x'], { cwd: work });
  const pushed = user.git(['push', '-q', 'origin', 'HEAD:main'], { cwd: work, env });
  t.equal(pushed.status, 0, pushed.stderr);
  const seen = probe.env();
  t.equal(seen.PUSHGATE_PRINCIPAL, 'alice');
  t.equal(seen.PUSHGATE_ROLES, 'agent');
  for (const name of ['LD_PRELOAD', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0']) t.notOk(name in seen, `${name} not passed`);
  t.not(seen.GIT_DIR, '/etc', 'GIT_DIR is git\'s own, not the client\'s');
  const record = await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.session === seen.PUSHGATE_SESSION);
  t.match(record.reason, /environment not passed: .*PUSHGATE_PRINCIPAL.*LD_PRELOAD/);

  const good = user.ssh(["git-upload-pack 'team/app'"], { extra: ['-o', 'SetEnv=GIT_PROTOCOL=version=2'] });
  t.match(good.stdout, /version 2/, 'GIT_PROTOCOL=version=2 passes');
  const bad = user.ssh(["git-upload-pack 'team/app'"], { extra: ['-o', 'SetEnv=GIT_PROTOCOL=version=2:x=$(id)'] });
  t.notMatch(bad.stdout, /version 2/, 'an invalid GIT_PROTOCOL is dropped: the server speaks v0');
  t.match(bad.stdout, /refs\/heads\/main/);
});

t.test('a certificate\'s force-command replaces the requested command', async (t) => {
  const forced = new SshUser(gateway, 'forced').sign({ options: ["force-command=git-upload-pack 'team/app'"] });
  const app = user.git(['ls-remote', gateway.url('team/app')]).stdout;
  t.match(app, /refs\/heads\/main/);
  const listed = forced.git(['ls-remote', gateway.url('team/other')]);
  t.equal(listed.status, 0, listed.stderr);
  t.equal(listed.stdout, app, 'asked for team/other, got the forced team/app');
  const shell = forced.ssh(['id']);
  t.notMatch(shell.stdout, /uid=/);
  t.match(shell.stdout, /refs\/heads\/main/, 'any command runs the forced one');
  const record = await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.identity?.principal === 'forced' && l.result === 'started');
  t.match(record.command, /\(forced; requested: /);

  const evil = new SshUser(gateway, 'forced-shell').sign({ options: ['force-command=/bin/sh -c id'] });
  const refused = evil.ssh(["git-upload-pack 'team/app'"]);
  t.equal(refused.status, 1, 'a forced command that is not a git command is refused, not run');
  t.notMatch(refused.stdout, /uid=/);
});

t.test('several commands on one connection each run once (multiplexed sessions)', async (t) => {
  const dir = tempDir(t);
  const control = join(dir, 'cm');
  const master = spawn('ssh', [...user.sshOptions(['-M', '-N', '-S', control]), 'git@127.0.0.1'], { stdio: 'ignore' });
  t.teardown(() => {
    master.kill();
  });
  for (let i = 0; i < 100 && spawnSync('test', ['-S', control]).status !== 0; i++) await sleep(20);
  const results = await Promise.all([1, 2, 3].map(() => new Promise<string>((resolve) => {
    const child = spawn('ssh', [...user.sshOptions(['-S', control]), 'git@127.0.0.1', "git-upload-pack 'team/app'"], { stdio: ['pipe', 'pipe', 'pipe'] });
    // A flush packet: "no wants", so upload-pack ends cleanly after its advertisement.
    child.stdin.end('0000');
    let out = '';
    child.stdout.on('data', (chunk) => (out += String(chunk)));
    child.on('close', (code) => resolve(`${code} ${/refs\/heads\/main/.test(out)}`));
  })));
  t.same(results, ['0 true', '0 true', '0 true']);
});
