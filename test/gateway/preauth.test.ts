/**
 * Peers that never authenticate cannot starve the gateway or grow its audit
 * log: idle sockets, a slow-loris and a connect/close flood at once, while a
 * valid certificate still logs in; failed attempts are written in full only
 * within a bounded sample, the rest as one summary per address, counts only.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { startupDropChance, STALL_GRACE_MS } from '../../src/gateway/index.js';
import { run } from '../helpers/tools.js';
import { sleep, SshUser, startGateway, type AuditLine, type Gateway } from './harness.js';

/** Every `name=count` in the reasons of preauth summaries, summed. */
function summed(lines: AuditLine[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of lines) {
    for (const [, name, count] of (line.reason ?? '').matchAll(/([\w.-]+)=(\d+)/g)) totals[name!] = (totals[name!] ?? 0) + Number(count);
  }
  return totals;
}

function summaries(gateway: Gateway, address: string): AuditLine[] {
  return gateway.audit().filter((l) => l.type === 'ssh.connect' && l.code === 'preauth.summary' && l.identity?.clientAddress === address);
}

interface Held {
  socket: Socket;
  closed: Promise<void>;
}

function connect(port: number, localAddress: string): Promise<Held> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1', localAddress });
    socket.on('error', () => {});
    // Read (and drop) what the server sends, so that its close is seen.
    socket.resume();
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('close', () => resolve({ socket, closed }));
  });
}

/** Opens and closes `count` connections, `parallel` at a time; resolves to how many connected. */
async function connectCloseFlood(port: number, localAddress: string, count: number, parallel = 16): Promise<number> {
  let next = 0;
  let connected = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      const { socket } = await connect(port, localAddress);
      if (socket.remotePort !== undefined) connected += 1;
      socket.destroy();
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return connected;
}

/** What the OpenSSH client sends first: its version line and its KEXINIT packet (captured from a listener of our own). */
async function openSshHello(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const server = createServer((socket) => {
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.write('SSH-2.0-OpenSSH_9.2\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const ssh = spawn('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-p', String(port), 'x@127.0.0.1', 'true'], { stdio: 'ignore' });
  for (let i = 0; i < 200 && Buffer.concat(chunks).length < 600; i++) await sleep(25);
  ssh.kill();
  server.close();
  const hello = Buffer.concat(chunks);
  if (hello.length < 600) throw new Error('the OpenSSH client sent no key exchange packet');
  return hello;
}

t.test('the MaxStartups drop chance: 0 below start, rate at start, rising to 100 at full', async (t) => {
  const limit = { start: 10, rate: 30, full: 100 };
  t.equal(startupDropChance(9, limit), 0);
  t.equal(startupDropChance(10, limit), 30);
  t.equal(startupDropChance(55, limit), 65);
  t.equal(startupDropChance(99, limit), 99);
  t.equal(startupDropChance(100, limit), 100);
  t.equal(startupDropChance(5, { start: 5, rate: 100, full: 5 }), 100, 'N alone: a hard cap');
});

t.test('idle sockets, a slow-loris and a connect/close flood do not keep a valid certificate out', async (t) => {
  const gateway = await startGateway(t, {
    repos: ['team/app'],
    configure(server) {
      // The defaults, except a shorter identification timeout so the test is short.
      server.setConfig(['ssh', 'limits', 'identificationTimeout'], '4s');
    },
  });
  gateway.seed('team/app');
  const user = new SshUser(gateway, 'valid').sign();
  const recordsBefore = gateway.audit().length;

  // A slow-loris: the version line one byte at a time, never finished. It connects first, while no
  // other connection is unauthenticated, so the random early drop (above maxStartups' start) cannot
  // refuse it at the door: the server must end it later, by the timeout or to make room.
  const loris = await connect(gateway.port, '127.0.0.4');
  // 300 idle sockets from the valid user's own address: more than maxConnectionsPerAddress (256).
  const idle = await Promise.all(Array.from({ length: 300 }, () => connect(gateway.port, '127.0.0.1')));
  let lorisOpen = true;
  void loris.closed.then(() => (lorisOpen = false));
  const trickle = (async () => {
    for (const byte of 'SSH-2.0-OpenSSH_9.2 slowly slowly slowly slowly slowly slowly slowly') {
      if (!lorisOpen) return;
      loris.socket.write(byte);
      await sleep(100);
    }
  })();
  // The idle sockets have stalled by now: the server may close them to make room.
  await sleep(STALL_GRACE_MS + 500);
  const FLOOD = 1500;
  const flood = connectCloseFlood(gateway.port, '127.0.0.3', FLOOD);
  const listed = user.git(['ls-remote', gateway.url('team/app')]);
  t.equal(listed.status, 0, `the valid certificate logs in meanwhile: ${listed.stderr}`);
  t.match(listed.stdout, /refs\/heads\/main/);
  const connected = await flood;

  await loris.closed;
  t.pass('the slow-loris is closed by the server');
  await trickle;
  let open = idle.length;
  for (const c of idle) void c.closed.then(() => (open -= 1));
  for (let i = 0; i < 200 && open > 0; i++) await sleep(100);
  t.equal(open, 0, 'every idle socket is closed by the server');

  const during = gateway.audit().slice(recordsBefore);
  t.ok(during.length <= 10, `while it lasted, the audit log grew by the valid session's records only (${during.length}: ${[...new Set(during.map((l) => l.type))].join(', ')})`);
  t.ok(during.some((l) => l.type === 'ssh.auth' && l.result === 'ok' && l.identity?.principal === 'valid'));

  await gateway.stop();
  const idleSummary = summed(summaries(gateway, '127.0.0.1'));
  t.equal((idleSummary.connections ?? 0) + (idleSummary.refused ?? 0) + (idleSummary.dropped ?? 0), 300 + 1, `all 300 idle sockets (and the valid login) are counted: ${JSON.stringify(idleSummary)}`);
  t.ok((idleSummary.evicted ?? 0) > 0, 'stalled idle sockets were closed to make room');
  const floodSummaries = summaries(gateway, '127.0.0.3');
  t.equal(floodSummaries.length, 1, `the flood of ${connected} connections is one summary record`);
  const floodCounts = summed(floodSummaries);
  // A socket the client saw connect may still be dropped from a full accept queue under load: at most `connected`.
  const floodTotal = (floodCounts.connections ?? 0) + (floodCounts.refused ?? 0) + (floodCounts.dropped ?? 0);
  t.ok(floodTotal > 0 && floodTotal <= connected, `the summary counts the flood: ${JSON.stringify(floodCounts)} of ${connected}`);
  const lorisCounts = summed(summaries(gateway, '127.0.0.4'));
  t.equal((lorisCounts['auth.identification-timeout'] ?? 0) + (lorisCounts.evicted ?? 0), 1, `the slow-loris was closed before sending a whole version line (timed out, or closed to make room): ${JSON.stringify(lorisCounts)}`);
  const all = gateway.audit().slice(recordsBefore);
  t.ok(all.length <= 20, `the whole episode is ${all.length} records, not thousands`);
});

t.test('failed attempts: a sample in full, the rest counted; a CA-signed certificate once per interval', async (t) => {
  const gateway = await startGateway(t, {
    repos: ['team/app'],
    configure(server) {
      server.setConfig(['ssh', 'limits', 'preAuthDetailedRecords'], 3);
    },
  });
  const url = gateway.url('team/app');
  const otherCa = join(gateway.dir, 'other-ca');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherCa]);
  const made = new SshUser(gateway, 'madeup').sign({ ca: otherCa, keyId: 'made-up' });
  const expired = new SshUser(gateway, 'expired').sign({ validity: '-30m:-10m', keyId: 'expired-real' });
  const ATTEMPTS = 6;
  for (let i = 0; i < ATTEMPTS; i++) {
    t.not(made.git(['ls-remote', url]).status, 0);
    t.not(expired.git(['ls-remote', url]).status, 0);
  }
  const shown = gateway.audit().filter((l) => l.type === 'ssh.auth' && l.result === 'refused');
  t.equal(shown.filter((l) => l.identity?.keyId === 'expired-real' && l.code === 'cert.expired').length, 1, 'the expired CA-signed certificate is recorded once');
  t.ok(shown.filter((l) => l.code === 'cert.untrusted-ca').length <= 3, 'certificates anyone can make are recorded within the sample only');
  t.ok(shown.length <= 1 + 3, `${shown.length} refusals in full for ${ATTEMPTS * 2} connections and their fallbacks`);
  await gateway.stop();
  const counts = summed(summaries(gateway, '127.0.0.1'));
  t.equal(counts['cert.untrusted-ca'], ATTEMPTS, `every attempt is counted: ${JSON.stringify(counts)}`);
  t.equal(counts['cert.expired'], ATTEMPTS);
  t.ok((counts['not-recorded-individually'] ?? 0) > 0);
});

t.test('maxStartups: connections that handshake slowly but steadily fill the cap; new ones are dropped until they time out', async (t) => {
  const gateway = await startGateway(t, {
    repos: ['team/app'],
    configure(server) {
      server.setConfig(['ssh', 'limits', 'maxStartups'], '3');
      server.setConfig(['ssh', 'limits', 'authTimeout'], '10s');
    },
  });
  gateway.seed('team/app');
  const user = new SshUser(gateway, 'capped').sign();
  // Each sends a real OpenSSH client's version line, then its key exchange packet one byte at a time: never stalled, never done.
  const hello = await openSshHello();
  const slow = await Promise.all([1, 2, 3].map(() => connect(gateway.port, '127.0.0.5')));
  const trickles = slow.map(async ({ socket, closed }) => {
    let open = true;
    void closed.then(() => (open = false));
    const eol = hello.indexOf('\n') + 1;
    socket.write(hello.subarray(0, eol));
    for (let i = eol; open && i < hello.length; i++) {
      socket.write(hello.subarray(i, i + 1));
      await sleep(100);
    }
  });
  await sleep(STALL_GRACE_MS + 500);
  const refused = user.git(['ls-remote', gateway.url('team/app')]);
  t.not(refused.status, 0, 'at the cap a new connection is dropped: none of the three stalls');
  await Promise.all(slow.map((c) => c.closed));
  await Promise.all(trickles);
  t.pass('the slow handshakes end at the authentication timeout');
  const listed = user.git(['ls-remote', gateway.url('team/app')]);
  t.equal(listed.status, 0, listed.stderr);
  await gateway.stop();
  const counts = summed(summaries(gateway, '127.0.0.1'));
  t.ok((counts['limit.startups'] ?? 0) >= 1, `the drop is counted: ${JSON.stringify(counts)}`);
  const slowCounts = summed(summaries(gateway, '127.0.0.5'));
  t.equal(slowCounts['auth.timeout'], 3, JSON.stringify(slowCounts));
});
