import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { run, tempDir } from '../helpers/tools.js';
import { sleep, SshUser, startGateway, type AuditLine, type Gateway } from './harness.js';

interface Raw {
  socket: Socket;
  received(): string;
  closed: Promise<{ data: string; ms: number }>;
}

/** Every `name=count` in preauth summaries, summed. */
function summedCounts(lines: AuditLine[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of lines) {
    for (const [, name, count] of (line.reason ?? '').matchAll(/([\w.-]+)=(\d+)/g)) totals[name!] = (totals[name!] ?? 0) + Number(count);
  }
  return totals;
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
      server.setConfig(['ssh', 'limits', 'preAuthSummaryInterval'], '1s');
    },
  });
  gateway.seed('team/app');
  const summaries = (): AuditLine[] => gateway.audit().filter((l) => l.type === 'ssh.connect' && l.code === 'preauth.summary');

  await t.test('per address, then in total (authenticated connections are never closed to make room)', async (t) => {
    const user = new SshUser(gateway, 'holder').sign();
    const held = [holdSession(user), holdSession(user), holdSession(user)];
    await gateway.waitForCount((l) => l.type === 'ssh.command' && l.result === 'started', 3);
    const fourth = rawConnect(gateway.port);
    const refused = await fourth.closed;
    t.equal(refused.data, '', 'the fourth connection from one address is closed before the handshake');

    const other = holdSession(user, ['-b', '127.0.0.2']);
    await gateway.waitForCount((l) => l.type === 'ssh.command' && l.result === 'started', 4);
    const fifth = rawConnect(gateway.port, '127.0.0.2');
    t.equal((await fifth.closed).data, '', 'the total limit applies across addresses');
    for (const session of [...held, other]) session.child.stdin!.end('0000');
    for (const session of [...held, other]) t.equal((await session.output).code, 0, 'the sessions held were not disturbed');

    const summary = await gateway.waitForAudit((l) => l.type === 'ssh.connect' && l.code === 'preauth.summary' && /limit\.connections-per-address=1/.test(l.reason ?? ''));
    t.equal(summary.identity?.clientAddress, '127.0.0.1');
    const total = await gateway.waitForAudit((l) => l.type === 'ssh.connect' && l.code === 'preauth.summary' && /limit\.connections=1/.test(l.reason ?? ''));
    t.equal(total.identity?.clientAddress, '127.0.0.2');
  });

  await t.test('connections that never authenticate are closed, and summed up in the audit log', async (t) => {
    const after = gateway.audit().length;
    const idle = [rawConnect(gateway.port), rawConnect(gateway.port)];
    const silentAfterVersion = rawConnect(gateway.port);
    silentAfterVersion.socket.write('SSH-2.0-OpenSSH_9.2\r\n');
    for (const c of [...idle, silentAfterVersion]) t.match(await bannerOf(c), /^SSH-2\.0-pushgate/, 'accepted connections get the SSH banner');
    await Promise.all([...idle, silentAfterVersion].map((c) => c.closed));
    t.pass('all were closed by the server');
    const counted = async (): Promise<Record<string, number>> => {
      for (let i = 0; i < 100; i++) {
        const totals = summedCounts(gateway.audit().slice(after).filter((l) => l.code === 'preauth.summary' && l.identity?.clientAddress === '127.0.0.1'));
        if ((totals['closed-before-auth'] ?? 0) + (totals.evicted ?? 0) >= 3) return totals;
        await sleep(100);
      }
      return {};
    };
    const totals = await counted();
    t.equal(totals.connections, 3);
    t.equal(totals['auth.identification-timeout'], 2, 'two never sent a version line');
    t.equal(totals['auth.timeout'], 1, `one never authenticated: ${JSON.stringify(totals)}`);
    t.notOk(gateway.audit().slice(after).some((l) => l.type === 'ssh.auth' || l.type === 'ssh.disconnect'), 'no record per connection');
  });

  await t.test('too many failed attempts end the connection', async (t) => {
    const user = new SshUser(gateway, 'attempts');
    const otherCa = join(tempDir(t), 'other-ca');
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherCa]);
    user.sign({ ca: otherCa, keyId: 'attempts' });
    const result = user.ssh(["git-upload-pack 'team/app'"]);
    t.equal(result.status, 255);
    const record = await gateway.waitForAudit((l) => l.type === 'ssh.connect' && l.code === 'preauth.summary' && /auth\.too-many-attempts=1/.test(l.reason ?? ''));
    t.match(record.reason, /auth\.plain-key=1/, 'the client fell back to its plain key: two failed attempts');
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
