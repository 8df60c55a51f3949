/**
 * The gateway in this process, driven by ssh2's client with a break-glass
 * key (ssh2's client cannot present certificates): the paths that are hard
 * to reach from OpenSSH, and the module API that `pushgate serve` wraps.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type { AuditEventInput, AuditSink } from '../../src/audit/index.js';
import { ConfigSource, loadConfig, type PushgateConfig } from '../../src/config/index.js';
import { Gateway, GatewayError, silentLog, type OperatorLog, type QueueCommandHandler } from '../../src/gateway/index.js';
import { createOperatorLog } from '../../src/gateway/log.js';
import { formatPrivateKey, formatPublicKeyLine, generatePrivateKey } from '../../src/sshcert/index.js';
import { testServer } from '../helpers/git-server.js';
import { run } from '../helpers/tools.js';
import { sleep } from './harness.js';

const { Client } = ssh2;

const server = testServer(t);
const key = generatePrivateKey('ed25519');
writeFileSync(join(server.dir, 'glass'), `${formatPublicKeyLine(key.publicKey)}\n`);
server.setConfig(['ssh', 'listen'], '127.0.0.1:0');
server.setConfig(['ssh', 'breakGlassKeys'], 'glass');
server.setConfig(['identity', 'roles'], [{ principals: ['break-glass:*'], roles: ['agent'] }]);
server.setConfig(['ssh', 'limits', 'drainTimeout'], '300ms');
server.createRepo('team/app');
run('git', ['--git-dir', join(server.reposRoot, 'team', 'app.git'), 'commit-tree', '-m', 'x', run('git', ['--git-dir', join(server.reposRoot, 'team', 'app.git'), 'mktree'], { input: '' }).trim()], {
  env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' },
});

class MemoryAudit implements AuditSink {
  events: AuditEventInput[] = [];
  async record(event: AuditEventInput): Promise<void> {
    this.events.push(event);
  }
}

interface Logged {
  level: string;
  message: string;
}

function memoryLog(): OperatorLog & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (message: string): void => {
    lines.push({ level, message });
  };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

async function start(options: { queueHandler?: QueueCommandHandler; config?: PushgateConfig } = {}): Promise<{ gateway: Gateway; audit: MemoryAudit; log: ReturnType<typeof memoryLog>; port: number }> {
  const audit = new MemoryAudit();
  const log = memoryLog();
  const gateway = new Gateway({ configSource: new ConfigSource(server.configPath), audit, log, ...options });
  const address = await gateway.listen();
  t.teardown(() => gateway.shutdown());
  return { gateway, audit, log, port: address.port };
}

function connect(port: number): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('ready', () => resolve(client)).on('error', reject);
    client.connect({ host: '127.0.0.1', port, username: 'git', privateKey: formatPrivateKey(key), hostVerifier: () => true });
  });
}

interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

function exec(client: ssh2.Client, command: string, input?: string, options: ssh2.ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    client.exec(command, options, (error, channel) => {
      if (error) return reject(error);
      let stdout = '';
      let stderr = '';
      channel.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      channel.on('close', (code: number | null, signal?: string) => resolve({ code, ...(signal ? { signal } : {}), stdout, stderr }));
      if (input !== undefined) channel.end(input);
    });
  });
}

t.test('constructor and listen failures are GatewayErrors', async (t) => {
  const config = loadConfig(server.configPath);
  t.throws(() => new Gateway({}), GatewayError);
  t.throws(() => new Gateway({ config: { ...config, ssh: { ...config.ssh, hostKeys: [join(server.dir, 'missing')] } } }), /host key .*missing/);
  writeFileSync(join(server.dir, 'junk-host-key'), 'not a key');
  t.throws(() => new Gateway({ config: { ...config, ssh: { ...config.ssh, hostKeys: [join(server.dir, 'junk-host-key')] } } }), /SSH server: /);
  t.throws(() => new Gateway({ config: { ...config, ca: { ...config.ca, trusted: [{ kind: 'inline', line: 'garbage' }] } } }), GatewayError);
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  const gateway = new Gateway({ config: { ...config, ssh: { ...config.ssh, listen: { host: '127.0.0.1', port } } } });
  await t.rejects(gateway.listen(), /cannot listen on 127\.0\.0\.1:\d+/);
  busy.close();
  t.match(gateway.reload(), { ok: false, error: /no config file/ });
  t.equal(gateway.address(), null);
  await gateway.shutdown();
});

t.test('a break-glass key, queue commands and git over one connection', async (t) => {
  const seen: Array<{ argv: string[]; principal: string; session: string }> = [];
  const { gateway, audit, port } = await start({
    queueHandler: async (argv, identity, io, session) => {
      seen.push({ argv, principal: identity.principal, session });
      io.stdout.write(`queue ${argv.join('|')}\n`);
      if (argv[0] === 'explode') throw new Error('boom');
      return argv[0] === 'list' ? 0 : 3;
    },
  });
  t.equal(gateway.address()?.port, port);
  t.equal(gateway.config.serviceUser, 'git');
  const client = await connect(port);
  t.teardown(() => client.end());
  t.equal(gateway.connectionCount, 1);

  const listed = await exec(client, 'queue list --format json');
  t.same(listed, { code: 0, stdout: 'queue list|--format|json\n', stderr: '' });
  t.match(seen[0], { argv: ['list', '--format', 'json'], principal: /^break-glass:SHA256:/, session: /^[0-9a-f]{12}-1$/ });
  t.equal((await exec(client, "queue approve 'ab 12'")).code, 3);
  const exploded = await exec(client, 'queue explode');
  t.equal(exploded.code, 2);
  t.match(exploded.stderr, /internal error/);

  // A second exec on a session that already runs one is ignored, not a crash.
  await new Promise<void>((resolve, reject) => {
    client.exec("git-upload-pack 'team/app'", (error, channel) => {
      if (error) return reject(error);
      const internals = client as unknown as { _protocol: { exec(id: number, command: string, wantReply: boolean): void } };
      internals._protocol.exec((channel as unknown as { outgoing: { id: number } }).outgoing.id, 'queue list', true);
      channel.on('close', () => resolve());
      channel.resume();
      channel.end('0000');
    });
  });
  t.same(seen.filter((s) => s.argv[0] === 'list').length, 1, 'the second exec did not run');

  const upload = await exec(client, "git-upload-pack 'team/app'", '0000', { env: { GIT_PROTOCOL: 'version=2', OTHER: 'x' } });
  t.equal(upload.code, 0, upload.stderr);
  t.match(upload.stdout, /version 2/, 'env sent without a reply request still applies');
  const end = audit.events.find((e) => e.type === 'ssh.session-end' && e.repository === 'team/app');
  t.match(end, { result: '0', identity: { principal: /^break-glass:/ } });
  t.ok(end!.bytesOut! > 0);
});

t.test('a client that leaves mid-command, a signal request, a git that cannot start', async (t) => {
  const { audit, port } = await start();
  const client = await connect(port);
  await new Promise<void>((resolve, reject) => {
    client.exec("git-upload-pack 'team/app'", (error, channel) => {
      if (error) return reject(error);
      channel.once('data', () => {
        channel.signal('TERM');
        client.end();
        resolve();
      });
    });
  });
  await waitFor(() => audit.events.some((e) => e.type === 'ssh.session-end' && e.repository === 'team/app'));
  t.pass('git ended once the client was gone');

  const again = await connect(port);
  t.teardown(() => again.end());
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  let result: ExecResult;
  try {
    result = await exec(again, "git-upload-pack 'team/app'", '0000');
  } finally {
    process.env.PATH = path;
  }
  t.equal(result.code, 2);
  t.match(result.stderr, /could not be started/);
});

t.test('shutdown: idle connections close at once, commands get the drain timeout', async (t) => {
  const { gateway, audit, port } = await start();
  const idle = await connect(port);
  const busy = await connect(port);
  const idleClosed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
  const running = new Promise<ExecResult>((resolve, reject) => {
    busy.exec("git-upload-pack 'team/app'", (error, channel) => {
      if (error) return reject(error);
      let stdout = '';
      channel.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      channel.on('close', (code: number | null, signal?: string) => resolve({ code, ...(signal ? { signal } : {}), stdout, stderr: '' }));
    });
  });
  await waitFor(() => audit.events.some((e) => e.type === 'ssh.command' && e.result === 'started'));
  const started = Date.now();
  await gateway.shutdown();
  await idleClosed;
  t.ok(Date.now() - started >= 250, 'waited for the drain timeout');
  const result = await running;
  t.equal(result.signal, 'SIGTERM', `${JSON.stringify(result)}: the command still running at the deadline was ended, and the client told by which signal`);
  t.ok(audit.events.some((e) => e.type === 'server.stop'));
  await gateway.shutdown();
});

t.test('the operator log writes JSON lines to stderr or a file', async (t) => {
  const file = join(server.dir, 'operator.log');
  const log = createOperatorLog({ level: 'info', file });
  log.info('hello', { a: 1 });
  log.debug('not at info');
  await log.close!();
  const lines = (await import('node:fs')).readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(lines, [{ level: 'info', message: 'hello', a: 1 }]);
  t.equal(lines.length, 1);
  const quiet = createOperatorLog({ level: 'error', file: null });
  quiet.warn('dropped');
  await quiet.close!();
  silentLog.info('nothing');
});

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
