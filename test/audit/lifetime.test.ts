/**
 * Every process pushgate starts in the background ends by itself within a
 * bounded time, whatever happens to its files and peers, says so in the
 * operator log when it gives up, and ends on SIGTERM even while its main
 * thread is blocked. Real hooked repositories, real pushes, real shims.
 *
 * Timings are never asserted: a process must be gone within a generous
 * polling limit, far longer than the bound it was given.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import { testServer, WorkTree, type TestServer } from '../helpers/git-server.js';
import { requireTool, run } from '../helpers/tools.js';

requireTool('git', 'git');
requireTool('mkfifo', 'coreutils');

/** How long a process that should end by itself gets before the test says it did not. */
const GONE_WITHIN_MS = 90_000;

interface Proc {
  pid: number;
  cmdline: string;
  environ: string;
}

/** Live processes (zombies excluded) whose command line and environment satisfy `match`. */
function processes(match: (p: Proc) => boolean): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const environ = readFileSync(`/proc/${name}/environ`, 'utf8');
      if (match({ pid: Number(name), cmdline, environ })) found.push(Number(name));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, limitMs = GONE_WITHIN_MS): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs / 1000} s`);
    await sleep(100);
  }
}

/** Waits until none of `pids` runs; false (and SIGKILLs them, so nothing is left behind) when one still does. */
async function gone(pids: number[], limitMs = GONE_WITHIN_MS): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (!pids.some(alive)) return true;
    await sleep(200);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return false;
}

function recorders(server: TestServer): number[] {
  return processes((p) => p.cmdline.includes('hook post-receive') && p.cmdline.includes(server.configPath));
}

function operatorLog(server: TestServer): string {
  const file = join(server.dir, 'operator.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function auditTypes(server: TestServer): string[] {
  const file = join(server.dir, 'state', 'audit', 'audit.log');
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { type: string }).type);
}

/** A server with one applied push, an operator log file, and `backgroundTimeout`. */
function setup(t: Test, backgroundTimeout: string): { server: TestServer; repo: string; work: WorkTree; head: string } {
  const server = testServer(t);
  server.setConfig(['audit', 'backgroundTimeout'], backgroundTimeout);
  server.setConfig(['log', 'file'], join(server.dir, 'operator.log'));
  const repo = server.createRepo('team/app');
  const work = WorkTree.clone(t, repo);
  const head = work.commit('base', { 'README.md': 'base\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  return { server, repo, work, head };
}

/** Runs the repository's post-receive shim as git does after a push; it returns at once, its recorder runs on. */
function runShim(repo: string, update: string): void {
  const ran = spawnSync('sh', ['hooks/post-receive'], { cwd: repo, input: `${update}\n`, env: { ...process.env, GIT_DIR: '.' }, encoding: 'utf8', timeout: 60_000 });
  if (ran.status !== 0) throw new Error(`the shim failed: ${ran.stderr}`);
}

/** Replaces the audit HMAC key by a FIFO nobody writes: opening it blocks the main thread. */
function blockingKey(server: TestServer): void {
  const key = join(server.dir, 'audit.key');
  renameSync(key, `${key}.kept`);
  run('mkfifo', [key]);
}

t.test('a post-receive recorder blocked on one of its files ends by itself and says so', async (t) => {
  const { server, repo, head } = setup(t, '2s');
  const before = auditTypes(server).length;
  blockingKey(server);
  runShim(repo, `${'0'.repeat(40)} ${head} refs/heads/other`);
  const pids = await waitFor('the recorder starts', () => {
    const found = recorders(server);
    return found.length > 0 ? found : undefined;
  });
  t.ok(await gone(pids), 'the recorder ended by itself');
  const line = await waitFor('the operator log line', () => operatorLog(server).split('\n').find((l) => l.includes('gave up')));
  const parsed = JSON.parse(line) as { level: string; message: string; process: string; pid: number };
  t.equal(parsed.level, 'error');
  t.match(parsed.message, /^pushgate hook post-receive: gave up after 2s while recording the applied push/);
  t.ok(pids.includes(parsed.pid), 'the line names the process');
  t.equal(auditTypes(server).length, before, 'nothing was half-written');
});

t.test('a post-receive recorder waiting for an audit lock that is never released ends by itself', async (t) => {
  const { server, repo, head } = setup(t, '2s');
  const lock = join(server.dir, 'state', 'audit', 'audit.log.lock');
  // Held by this (live) test process, and kept fresh, so it never turns stale.
  const ns = readFileSync('/proc/self/stat', 'utf8');
  const start = ns.slice(ns.lastIndexOf(')') + 2).split(' ')[19]!;
  const pidNs = spawnSync('readlink', ['/proc/self/ns/pid'], { encoding: 'utf8' }).stdout.trim();
  const hold = (): void => {
    const temp = `${lock}.t`;
    rmSync(temp, { force: true });
    symlinkSync(['pushgate-lock', hostname(), pidNs, process.pid, start, Date.now(), 'abcdef'].join('|'), temp);
    renameSync(temp, lock);
  };
  hold();
  const keeper = setInterval(hold, 2000);
  t.teardown(() => {
    clearInterval(keeper);
    rmSync(lock, { force: true });
  });
  runShim(repo, `${'0'.repeat(40)} ${head} refs/heads/other`);
  const pids = await waitFor('the recorder starts', () => {
    const found = recorders(server);
    return found.length > 0 ? found : undefined;
  });
  t.ok(await gone(pids), 'the recorder ended by itself');
  const line = await waitFor('the operator log line', () => operatorLog(server).split('\n').find((l) => l.includes('gave up')));
  t.match(line, /pushgate hook post-receive: gave up after 2s/);
});

t.test('SIGTERM ends a post-receive recorder whose main thread is blocked', async (t) => {
  const { server, repo, head } = setup(t, '10m');
  blockingKey(server);
  runShim(repo, `${'0'.repeat(40)} ${head} refs/heads/other`);
  const pids = await waitFor('the recorder starts', () => {
    const found = recorders(server);
    return found.length > 0 ? found : undefined;
  });
  // Until it is blocked on the key (it has read its config): give it a moment, then signal.
  await sleep(1500);
  for (const pid of pids) process.kill(pid, 'SIGTERM');
  t.ok(await gone(pids, 30_000), 'SIGTERM ended it');
});

t.test('a kept post-receive hook that never ends is ended with the recorder', async (t) => {
  const { server, repo, work } = setup(t, '2s');
  const kept = join(repo, 'hooks', 'post-receive.chained');
  // A kept hook runs in the foreground: the pusher waits for it, so it too must end.
  writeFileSync(kept, '#!/bin/sh\nexec sleep 100000\n', { mode: 0o755 });
  work.commit('second');
  const pushed = work.push(['origin', 'main']);
  t.equal(pushed.code, 0, 'the push itself stands');
  t.same(processes((p) => p.cmdline.includes('sleep 100000') && p.environ.includes(repo)), [], 'the kept hook was ended too');
  const line = await waitFor('the operator log line', () => operatorLog(server).split('\n').find((l) => l.includes('gave up')));
  t.match(line, /and the processes it started \(pid \d+/);
});

t.test('a recorder whose repository directory is removed as it starts still ends', async (t) => {
  // The test runner's NODE_OPTIONS (a preload that registers module hooks) reaches the hooks, as
  // any preload an operator sets would: Node then hangs at start, before any pushgate code runs,
  // when its working directory is removed meanwhile (a test's teardown, a repository deleted).
  const { server, repo, head } = setup(t, '2s');
  const copies = join(server.dir, 'copies');
  mkdirSync(copies);
  // Removed at different moments of the recorder's start: the hang needs one in the middle of it.
  for (let i = 0; i < 16; i++) {
    const copy = join(copies, `app-${i}.git`);
    run('cp', ['-a', repo, copy]);
    runShim(copy, `${'0'.repeat(40)} ${head} refs/heads/copy-${i}`);
    await sleep(i * 15);
    rmSync(copy, { recursive: true, force: true });
  }
  const left = (): number[] => recorders(server);
  t.ok(await gone(left()), 'no recorder is left behind');
  t.same(left(), []);
});

/** An HTTP endpoint that accepts requests and never answers them. */
async function silentPeer(t: { teardown(fn: () => void): void }): Promise<string> {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => held.push(res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const res of held) res.destroy();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook-${process.pid}-${Date.now()}`;
}

function notifiers(url: string): number[] {
  return processes((p) => p.cmdline.includes('notify-main.js') && p.environ.includes(url));
}

/** Parks a push (a CI workflow change) so that the hook starts a notifier for the webhook at `url`. */
async function parkWithWebhook(t: Test, url: string, secretFile: string | null, timeout = '1s'): Promise<{ server: TestServer; pids: number[] }> {
  const { server, work } = setup(t, '2s');
  server.setConfig(['queue', 'notify', 'webhook'], { url, timeout, retries: 1, ...(secretFile === null ? {} : { secretFile }) });
  work.commit('ci', { '.github/workflows/ci.yml': 'on: push\n' });
  const pushed = work.push(['origin', 'HEAD:refs/heads/ci'], { PUSHGATE_PRINCIPAL: 'agent:bot', PUSHGATE_ROLES: 'agent' });
  t.equal(pushed.result?.decision, 'park', pushed.output);
  const pids = await waitFor('the notifier starts', () => {
    const found = notifiers(url);
    return found.length > 0 ? found : undefined;
  });
  return { server, pids };
}

t.test('a notifier whose webhook peer never answers ends by itself and says it gave up', async (t) => {
  const url = await silentPeer(t);
  const { server, pids } = await parkWithWebhook(t, url, null);
  t.ok(await gone(pids), 'the notifier ended by itself');
  const line = await waitFor('the operator log line', () => operatorLog(server).split('\n').find((l) => l.includes('not delivered')));
  t.match(line, /pushgate queue notifier: the park event of queue entry \S+ was not delivered to the webhook after 2 attempt\(s\): .*given up/);
});

t.test('a notifier blocked on its secret file ends by itself; SIGTERM ends one at once', async (t) => {
  const url = await silentPeer(t);
  const fifo = join(testServer(t).dir, 'secret.fifo');
  run('mkfifo', [fifo]);
  const { server, pids } = await parkWithWebhook(t, url, fifo);
  t.ok(await gone(pids), 'the notifier ended by itself');
  const line = await waitFor('the operator log line', () => operatorLog(server).split('\n').find((l) => l.includes('gave up')));
  t.match(line, /pushgate queue notifier: gave up after [\d.]+s while delivering the park event/);

  // With a long timeout its watchdog is far away: only SIGTERM can end it within the limit.
  const second = await parkWithWebhook(t, `${url}-2`, fifo, '10m');
  await sleep(1000);
  for (const pid of second.pids) process.kill(pid, 'SIGTERM');
  t.ok(await gone(second.pids, 30_000), 'SIGTERM ended it');
  unlinkSync(fifo);
});
