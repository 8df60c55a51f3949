import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { testServer, WorkTree } from '../helpers/git-server.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

const server = testServer(t);

/** A throw-away self-signed certificate for 127.0.0.1, made by openssl. */
function selfSigned(dir: string): { certPath: string; cert: string; key: string } {
  requireTool('openssl', 'openssl');
  const certPath = join(dir, 'collector.crt');
  const keyPath = join(dir, 'collector.key');
  run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', certPath,
  ]);
  return { certPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

/** `git push` without blocking this process, which may be serving the hook meanwhile. */
function pushAsync(work: WorkTree, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn('git', ['push', 'origin', 'main'], { cwd: work.path, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

t.test("the shim keeps NODE_EXTRA_CA_CERTS from Node's start, and the hook sets it back for what it starts", async (t) => {
  const repo = server.createRepo('deferred');
  // A kept hook runs as a child of pushgate's: it records the environment the
  // hook's Node was started with (/proc/$PPID/environ) and its own.
  writeFileSync(join(repo, 'hooks', 'pre-receive.chained'), [
    '#!/bin/sh',
    'cat >/dev/null',
    'tr "\\0" "\\n" < /proc/$PPID/environ > "$(pwd)/hook.environ"',
    'printf "%s" "${NODE_EXTRA_CA_CERTS-unset}" > "$(pwd)/child.ca"',
    '',
  ].join('\n'), { mode: 0o755 });
  const work = WorkTree.clone(t, repo);
  const caFile = join(tempDir(t), 'extra-ca.pem');
  writeFileSync(caFile, '');

  work.commit('one', { 'a.txt': 'a\n' });
  const pushed = work.push(['origin', 'main'], { NODE_EXTRA_CA_CERTS: caFile });
  t.equal(pushed.code, 0, pushed.output);
  const started = readFileSync(join(repo, 'hook.environ'), 'utf8').split('\n');
  t.notOk(started.some((entry) => entry.startsWith('NODE_EXTRA_CA_CERTS=')), 'the hook\'s Node started without it');
  t.ok(started.includes(`PUSHGATE_NODE_EXTRA_CA_CERTS=${caFile}`), 'it was moved aside');
  t.equal(readFileSync(join(repo, 'child.ca'), 'utf8'), caFile, 'what the hook starts has it back');

  work.commit('two', { 'b.txt': 'b\n' });
  const plain = work.push(['origin', 'main'], { NODE_EXTRA_CA_CERTS: undefined });
  t.equal(plain.code, 0, plain.output);
  t.equal(readFileSync(join(repo, 'child.ca'), 'utf8'), 'unset', 'not set where the pusher had none');
  t.notOk(readFileSync(join(repo, 'hook.environ'), 'utf8').includes('PUSHGATE_NODE_EXTRA_CA_CERTS='));
});

t.test('audit records reach an HTTPS collector whose CA only the deferred NODE_EXTRA_CA_CERTS names', async (t) => {
  const { certPath, cert, key } = selfSigned(tempDir(t));
  const bodies: string[] = [];
  const collector = createServer({ cert, key }, (request, response) => {
    let body = '';
    request.on('data', (d: Buffer) => (body += d));
    request.on('end', () => {
      bodies.push(body);
      response.end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => collector.close(() => resolve())));
  const { port } = collector.address() as AddressInfo;
  server.setConfig(['audit', 'transports'], [{ type: 'http', url: `https://127.0.0.1:${port}/audit`, timeout: '5s' }]);
  t.teardown(() => server.setConfig(['audit', 'transports'], []));

  const work = WorkTree.clone(t, server.createRepo('collected'));
  const tip = work.commit('shipped', { 'c.txt': 'c\n' });
  const pushed = await pushAsync(work, { NODE_EXTRA_CA_CERTS: certPath });
  t.equal(pushed.code, 0, pushed.output);
  // A polling limit, not a timing assertion: a loaded machine ships later.
  const deadline = Date.now() + 60_000;
  while (!bodies.some((b) => b.includes('"push.decision"') && b.includes(tip)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.ok(bodies.some((b) => b.includes('"push.decision"') && b.includes(tip)), `the collector got the push's decision (${bodies.length} requests)`);
});
