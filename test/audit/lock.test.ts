import { spawnSync } from 'node:child_process';
import { lstatSync, lutimesSync, readlinkSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openAudit, verifyChain } from '../../src/audit/index.js';
import { breakLock, FileLock } from '../../src/audit/lock.js';
import { tempDir } from '../helpers/tools.js';
import { auditConfig } from './fixtures/helpers.js';

function ownNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

function owner(pid: number, time = Date.now(), start = ''): string {
  return ['pushgate-lock', hostname(), ownNamespace(), pid, start, time, 'abcdef'].join('|');
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

t.test('a lock left by a dead process is broken at once', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  symlinkSync(owner(deadPid()), `${file}.lock`);
  // Waiting for the lock would take timeoutMs (30 s) and then fail; breaking it takes milliseconds.
  const log = openAudit(auditConfig(file), { lock: { staleMs: 60_000, timeoutMs: 30_000 } });
  const started = Date.now();
  await log.record({ type: 'server.start' });
  await log.close();
  t.ok(Date.now() - started < 10_000, 'it did not wait for the lock');
  t.notOk(present(`${file}.lock`));
  t.ok((await verifyChain([file], { key: null })).ok);
});

t.test('a lock whose pid now belongs to another process is stale', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  symlinkSync(owner(process.ppid, Date.now(), '1'), `${file}.lock`);
  const log = openAudit(auditConfig(file), { lock: { staleMs: 60_000, timeoutMs: 2000 } });
  await log.record({ type: 'server.start' });
  await log.close();
  t.notOk(present(`${file}.lock`));
});

t.test('a live lock is waited for, then given up on with a clear error', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  symlinkSync(owner(process.ppid), `${file}.lock`);
  const log = openAudit(auditConfig(file), { lock: { staleMs: 60_000, timeoutMs: 300 } });
  await t.rejects(log.record({ type: 'server.start' }), { code: 'audit.lock-timeout', message: /remove it/ });
  await log.close();
  t.ok(present(`${file}.lock`), 'a live lock is left alone');
});

t.test('a lock older than staleMs is broken whoever holds it', async (t) => {
  const file = join(tempDir(t), 'audit.log');
  symlinkSync(owner(process.ppid, Date.now() - 120_000), `${file}.lock`);
  const log = openAudit(auditConfig(file), { lock: { staleMs: 60_000, timeoutMs: 2000 } });
  await log.record({ type: 'server.start' });
  await log.close();
  t.ok((await verifyChain([file], { key: null })).ok);

  // A lock that is not pushgate's: judged by its age alone.
  symlinkSync('something else', `${file}.lock`);
  const waiting = openAudit(auditConfig(file), { lock: { staleMs: 60_000, timeoutMs: 200 } });
  await t.rejects(waiting.record({ type: 'server.start' }), { code: 'audit.lock-timeout' });
  const old = new Date(Date.now() - 120_000);
  lutimesSync(`${file}.lock`, old, old);
  await waiting.record({ type: 'server.start' });
  await waiting.close();
});

t.test('locks on another host are judged by age only; a lock held by this process is live', async (t) => {
  const path = join(tempDir(t), 'x.lock');
  symlinkSync(['pushgate-lock', 'elsewhere', '', 999_999_999, '', Date.now(), 'n'].join('|'), path);
  await t.rejects(FileLock.acquire(path, { staleMs: 60_000, timeoutMs: 100 }), { code: 'audit.lock-timeout' });
  const first = await (async () => {
    const dir = tempDir(t);
    return FileLock.acquire(join(dir, 'y.lock'));
  })();
  t.ok(first.held());
  await t.rejects(FileLock.acquire(first.path, { staleMs: 60_000, timeoutMs: 100 }), { code: 'audit.lock-timeout' });
  first.release();
  t.notOk(first.held());
  first.release();
  const second = await FileLock.acquire(first.path, { staleMs: 60_000, timeoutMs: 100 });
  second.release();
});

t.test('breaking a lock that turns out to be another one puts it back', async (t) => {
  const path = join(tempDir(t), 'z.lock');
  const live = owner(process.ppid);
  symlinkSync(live, path);
  breakLock(path, owner(deadPid()));
  t.equal(readlinkSync(path), live, 'the live lock is back in place');
  breakLock(path, live);
  t.notOk(present(path), 'the lock judged stale is gone');
  breakLock(path, live);
  t.notOk(present(path), 'nothing to break is fine');
});
