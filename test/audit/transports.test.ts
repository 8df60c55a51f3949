import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { openAudit } from '../../src/audit/index.js';
import { freePort, tempDir } from '../helpers/tools.js';
import { auditConfig, fileLines, node, writerScript } from './fixtures/helpers.js';

t.test('a stderr transport gets the same JSON lines as the file', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  const audit = auditConfig(file, { transports: [{ type: 'stderr' }] });
  const ran = await node([writerScript, JSON.stringify({ audit, count: 3 })]);
  t.equal(ran.code, 0);
  t.same(ran.stderr.split('\n').filter(Boolean), fileLines(file));

  const quiet = await node([writerScript, JSON.stringify({ audit, count: 2, stderr: false })]);
  t.equal(quiet.stderr, '', 'a hook turns the stderr transport off: its stderr goes to the pusher');
  t.equal(fileLines(file).length, 5);
});

t.test('an http transport posts every record to the collector', async (t) => {
  const bodies: string[] = [];
  const collector = createHttpServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      t.equal(req.headers['content-type'], 'application/json');
      bodies.push(body);
      res.end();
    });
  }).listen(0, '127.0.0.1');
  await once(collector, 'listening');
  t.teardown(() => collector.close());
  const { port } = collector.address() as { port: number };
  const file = join(tempDir(t), 'audit.log');
  const log = openAudit(auditConfig(file, { transports: [{ type: 'http', url: `http://127.0.0.1:${port}/audit`, timeout: 2000 }] }));
  for (let i = 0; i < 5; i++) await log.record({ type: 'ssh.connect', session: `s${i}` });
  await log.close(5000);
  // One POST per record, several at once: they may arrive in any order, and each carries its seq.
  const bySeq = (lines: string[]): string[] => [...lines].sort((a, b) => (JSON.parse(a) as { seq: number }).seq - (JSON.parse(b) as { seq: number }).seq);
  t.same(bySeq(bodies), fileLines(file));
  t.same(log.shipping(), { shipped: 5, dropped: 0, failed: 0 });
});

t.test('a collector that is down never blocks or fails record()', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  const refused = openAudit(auditConfig(file, { transports: [{ type: 'http', url: `http://127.0.0.1:${await freePort()}/`, timeout: 5000 }] }));
  const started = Date.now();
  for (let i = 0; i < 50; i++) await refused.record({ type: 'ssh.connect', session: `r${i}` });
  t.ok(Date.now() - started < 15_000, `50 records in ${Date.now() - started} ms to a refused port`);
  await refused.close(2000);
  t.same(refused.shipping(), { shipped: 0, dropped: 0, failed: 50 });

  // A collector that accepts connections and never answers: requests time out, the queue stays bounded.
  const sockets: Socket[] = [];
  const silent = createTcpServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const { port } = silent.address() as { port: number };
  const hung = openAudit(auditConfig(file, { transports: [{ type: 'http', url: `http://127.0.0.1:${port}/`, timeout: 30_000 }] }), { shipQueue: 10 });
  const begun = Date.now();
  for (let i = 0; i < 50; i++) await hung.record({ type: 'ssh.connect', session: `h${i}` });
  t.ok(Date.now() - begun < 15_000, `50 records in ${Date.now() - begun} ms to a collector that never answers`);
  const closing = Date.now();
  await hung.close(100);
  t.ok(Date.now() - closing < 10_000, 'close() waits for the collector only as long as it is told');
  t.same(hung.shipping(), { shipped: 0, dropped: 40, failed: 0 }, 'records beyond the queue bound are dropped and counted');
  t.equal(fileLines(file).length, 100, 'the file has every record');

  const short = openAudit(auditConfig(file, { transports: [{ type: 'http', url: `http://127.0.0.1:${port}/`, timeout: 200 }] }));
  for (let i = 0; i < 5; i++) await short.record({ type: 'ssh.connect', session: `t${i}` });
  await short.close(10_000);
  t.same(short.shipping(), { shipped: 0, dropped: 0, failed: 5 }, 'requests to it time out');

  // A short-lived process is not kept alive by a collector that hangs.
  const quick = Date.now();
  const ran = await node([writerScript, JSON.stringify({ audit: auditConfig(file, { transports: [{ type: 'http', url: `http://127.0.0.1:${port}/`, timeout: 60_000 }] }), count: 3 })]);
  t.equal(ran.code, 0);
  t.ok(Date.now() - quick < 10_000, `a writer exits in ${Date.now() - quick} ms`);
});

t.test('an unusable transport URL does not break the file', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  const log = openAudit(auditConfig(file, { transports: [{ type: 'http', url: 'http://[::1', timeout: 100 }] }));
  await log.record({ type: 'ssh.connect' });
  await log.close(100);
  t.equal(fileLines(file).length, 1);
});
