import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { run, tempDir } from '../helpers/tools.js';
import { sleep, SshUser, startGateway, type Gateway } from './harness.js';

interface Raw {
  socket: Socket;
  received(): string;
  closed: Promise<{ data: string; ms: number }>;
}

/** A raw TCP connection; `closed` resolves with what the server sent before closing. */
function rawConnect(port: number, localAddress = '127.0.0.1'): Raw {
  const started = Date.now();
  const socket = createConnection({ port, host: '127.0.0.1', localAddress });
  let data = '';
  socket.on('data', (chunk) => (data += String(chunk)));
  socket.on('error', () => {});
  const closed = new Promise<{ data: string; ms: number }>((resolve) => socket.on('close', () => resolve({ data, ms: Date.now() - started })));
  return { socket, received: () => data, closed };
}

/** The server's version line, once it arrives ('' if the connection closes first). */
async function bannerOf(connection: Raw): Promise<string> {
  let open = true;
  void connection.closed.then(() => (open = false));
  for (let i = 0; i < 250 && open && !connection.received().includes('\n'); i++) await sleep(10);
  return connection.received();
}

/** A session kept open: upload-pack waits for the client's wants until stdin closes. */
function holdSession(user: SshUser, extra: string[] = []): { child: ChildProcess; output: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn('ssh', [...user.sshOptions(extra), 'git@127.0.0.1', "git-upload-pack 'team/app'"], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const output = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, output };
}

t.test('connection limits: per address, in total, authentication time and attempts', async (t) => {
  const gateway = await startGateway(t, {
    repos: ['team/app'],
    configure(server) {
      server.setConfig(['ssh', 'limits', 'maxConnections'], 4);
      server.setConfig(['ssh', 'limits', 'maxConnectionsPerAddress'], 3);
      server.setConfig(['ssh', 'limits', 'authTimeout'], '1500ms');
      server.setConfig(['ssh', 'limits', 'maxAuthAttempts'], 2);
    },
  });

  await t.test('per address, then in total', async (t) => {
    const held = [rawConnect(gateway.port), rawConnect(gateway.port), rawConnect(gateway.port)];
    for (const c of held) t.match(await bannerOf(c), /^SSH-2\.0-pushgate/, 'accepted connections get the SSH banner');
    const fourth = rawConnect(gateway.port);
    const refused = await fourth.closed;
    t.equal(refused.data, '', 'the fourth connection from one address is closed before the handshake');
    await gateway.waitForAudit((l) => l.type === 'ssh.connect' && l.code === 'limit.connections-per-address');

    const other = rawConnect(gateway.port, '127.0.0.2');
    t.match(await bannerOf(other), /^SSH-2\.0-pushgate/, 'another address may still connect');
    const fifth = rawConnect(gateway.port, '127.0.0.2');
    t.equal((await fifth.closed).data, '', 'the total limit applies across addresses');
    await gateway.waitForAudit((l) => l.type === 'ssh.connect' && l.code === 'limit.connections');

    const timings = await Promise.all([...held, other].map((c) => c.closed));
    for (const { ms } of timings) t.ok(ms >= 1000 && ms < 5000, `a connection that never authenticates is closed after the auth timeout (${ms} ms)`);
    await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.code === 'auth.timeout');
  });

  await t.test('too many failed attempts end the connection', async (t) => {
    const user = new SshUser(gateway, 'attempts');
    const otherCa = join(tempDir(t), 'other-ca');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherCa]);
    user.sign({ ca: otherCa, keyId: 'attempts' });
    const result = user.ssh(["git-upload-pack 'team/app'"]);
    t.equal(result.status, 255);
    const record = await gateway.waitForAudit((l) => l.type === 'ssh.disconnect' && l.code === 'auth.too-many-attempts');
    t.match(record.reason, /2 failed attempts/);
  });

  await t.test('a password is never accepted', async (t) => {
    const user = new SshUser(gateway, 'password');
    const result = user.ssh(['true'], { extra: ['-o', 'PreferredAuthentications=password,keyboard-interactive'] });
    t.equal(result.status, 255);
    t.match(result.stderr, /Permission denied \(publickey\)/);
  });
});

t.test('session limits: channels per connection, sessions per identity, idle timeout', async (t) => {
  const gateway: Gateway = await startGateway(t, {
    repos: ['team/app'],
    configure(server) {
      server.setConfig(['ssh', 'limits', 'maxChannelsPerConnection'], 2);
      server.setConfig(['ssh', 'limits', 'maxSessionsPerIdentity'], 2);
      server.setConfig(['ssh', 'limits', 'idleTimeout'], '1500ms');
    },
  });
  gateway.seed('team/app');
  const user = new SshUser(gateway, 'limited').sign();

  await t.test('sessions per identity', async (t) => {
    const first = holdSession(user);
    const second = holdSession(user);
    await gateway.waitForCount((l) => l.type === 'ssh.command' && l.result === 'started', 2);
    const third = user.ssh(["git-upload-pack 'team/app'"], { input: '0000' });
    t.equal(third.status, 1);
    t.match(third.stderr, /too many sessions of limited at once \(at most 2\)/);
    first.child.stdin!.end('0000');
    second.child.stdin!.end('0000');
    t.equal((await first.output).code, 0);
    t.equal((await second.output).code, 0);
    t.equal(user.ssh(["git-upload-pack 'team/app'"], { input: '0000' }).status, 0, 'a finished session frees its slot');
  });

  await t.test('channels per connection', async (t) => {
    const control = join(tempDir(t), 'cm');
    const master = spawn('ssh', [...user.sshOptions(['-M', '-N', '-S', control]), 'git@127.0.0.1'], { stdio: 'ignore' });
    t.teardown(() => {
      master.kill();
    });
    for (let i = 0; i < 250 && !existsSync(control); i++) await sleep(20);
    const before = gateway.audit().filter((l) => l.type === 'ssh.command' && l.result === 'started').length;
    const a = holdSession(user, ['-S', control]);
    const b = holdSession(user, ['-S', control]);
    await gateway.waitForCount((l) => l.type === 'ssh.command' && l.result === 'started', before + 2);
    const c = user.ssh(["git-upload-pack 'team/app'"], { extra: ['-S', control], input: '0000' });
    t.not(c.status, 0, 'a third channel on the connection is refused');
    await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.code === 'limit.channels');
    a.child.stdin!.end('0000');
    b.child.stdin!.end('0000');
    await a.output;
    await b.output;
  });

  await t.test('an idle connection is closed', async (t) => {
    const started = Date.now();
    const idle = user.ssh([], { extra: ['-N'], timeout: 10_000 });
    const elapsed = Date.now() - started;
    t.equal(idle.status, 255, 'the server closed the connection');
    t.ok(elapsed >= 1400 && elapsed < 8000, `after the idle timeout (${elapsed} ms)`);
    await gateway.waitForAudit((l) => l.type === 'ssh.disconnect' && l.code === 'limit.idle-timeout');
  });
});
