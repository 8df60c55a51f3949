import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, lstatSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { logFiles, openAudit, verifyChain, type AuditRecord } from '../../src/audit/index.js';
import { tempDir } from '../helpers/tools.js';
import { auditConfig, cli, fileLines, initServer, node, writerScript } from './fixtures/helpers.js';

const WRITERS = 20;
const SECONDS = 10;

/** The lock is a symbolic link to nowhere: existsSync would follow it. */
function lockExists(file: string): boolean {
  try {
    lstatSync(`${file}.lock`);
    return true;
  } catch {
    return false;
  }
}

function written(stdout: string): number {
  return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { written: number }).written;
}

t.test(`${WRITERS} processes appending for ${SECONDS} s form one chain`, async (t) => {
  const server = await initServer(t);
  const started = Date.now();
  const runs = await Promise.all(Array.from({ length: WRITERS }, (_, i) =>
    node([writerScript, JSON.stringify({ configPath: server.configPath, ms: SECONDS * 1000, parallel: i % 4 === 0 ? 4 : 1, label: `w${i}` })])));
  const elapsed = (Date.now() - started) / 1000;
  for (const run of runs) t.equal(run.code, 0, run.stderr);
  const counts = runs.map((run) => written(run.stdout));
  const total = counts.reduce((a, b) => a + b, 0);

  const verified = await cli(['audit', 'verify', '--config', server.configPath]);
  t.equal(verified.code, 0, verified.stderr);
  t.match(verified.stdout, new RegExp(`^ok: ${total} record\\(s\\) in 1 file`));

  const records = fileLines(server.file).map((l) => JSON.parse(l) as AuditRecord);
  t.equal(records.length, total, 'as many records as the writers were told were written');
  t.same(records.map((r) => r.seq), records.map((_, i) => i + 1));
  for (const [i, count] of counts.entries()) {
    const mine = records.filter((r) => r.identity?.principal === `w${i}`);
    t.equal(mine.length, count, `writer ${i}: ${count} records`);
    if (i % 4 !== 0) t.ok(mine.every((r, n) => r.session === `w${i}-${n}`), `writer ${i}: in call order`);
  }
  t.notOk(lockExists(server.file), 'no lock left behind');
  t.ok(Math.min(...counts) > 0, 'every writer got its turn');
  t.comment(`${total} records from ${WRITERS} processes in ${elapsed.toFixed(1)} s: ${Math.round(total / SECONDS)} records/s; per writer min ${Math.min(...counts)} max ${Math.max(...counts)}`);
});

t.test('concurrent writers with size rotation keep one chain across files', async (t) => {
  const server = await initServer(t);
  server.setConfig(['audit', 'rotate', 'size'], '32KiB');
  const runs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    node([writerScript, JSON.stringify({ configPath: server.configPath, count: 80, label: `r${i}` })])));
  for (const run of runs) t.equal(run.code, 0, run.stderr);
  const total = runs.reduce((n, run) => n + written(run.stdout), 0);
  t.equal(total, 640);
  const files = logFiles(server.file);
  t.ok(files.length > 3, `${files.length} files`);
  t.equal(files.flatMap(fileLines).length, total);
  const verified = await cli(['audit', 'verify', '--config', server.configPath]);
  t.equal(verified.code, 0, verified.stderr);
  t.match(verified.stdout, `ok: ${total} record(s) in ${files.length} file(s)`);
});

/** True while the file does not end with a newline: a record is being written (or was torn). */
function tailTorn(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, size - 1);
    return byte[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

t.test('writers killed with SIGKILL mid-write leave a log that verifies after the next append', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'audit', 'audit.log');
  const config = auditConfig(file);
  let seed = 0x5eed;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let torn = 0;
  let locks = 0;
  let caughtWriting = 0;
  const RUNS = 30;
  for (let run = 0; run < RUNS; run++) {
    for (const f of logFiles(file)) rmSync(f);
    const before = openAudit(config);
    for (let i = 0; i < 3; i++) await before.record({ type: 'server.start', result: `run ${run}` });
    await before.close();

    // Records of ~8 MB: each write takes long enough to be caught in the middle.
    const child = spawn(process.execPath, [writerScript, JSON.stringify({ audit: config, ms: 60_000, findings: 2000 })], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    // Wait until the writer has started writing, then kill it at a random time, or as soon as it is caught mid-write.
    const startedBy = Date.now() + 30_000;
    const initial = statSync(file).size;
    while (statSync(file).size === initial && child.exitCode === null && Date.now() < startedBy) await new Promise((resolve) => setTimeout(resolve, 2));
    if (child.exitCode !== null) t.fail(`the writer exited by itself: ${stderr}`);
    const deadline = Date.now() + random() * 1500;
    while (Date.now() < deadline) {
      if (tailTorn(file)) {
        caughtWriting++;
        break;
      }
      if (Date.now() % 8 === 0) await yieldNow();
    }
    child.kill('SIGKILL');
    await exited;
    if (tailTorn(file)) torn++;
    if (lockExists(file)) locks++;

    const complete = fileLines(file).filter((l) => l.endsWith('}')).length;
    const crashed = await verifyChain([file], { key: null });
    t.ok(crashed.ok, `run ${run}: verifies right after the kill ${JSON.stringify(crashed.broken ?? '')}`);

    const after = openAudit(config, { lock: { staleMs: 30_000, timeoutMs: 5_000 } });
    await after.record({ type: 'server.stop', result: `after run ${run}` });
    await after.close();
    const verified = await verifyChain([file], { key: null });
    t.ok(verified.ok, `run ${run}: verifies after the next append`);
    t.same(verified.notes, [], 'nothing torn remains');
    t.equal(verified.head?.seq, verified.records);
    t.ok(verified.records >= complete, 'no complete record was lost');
  }
  const cli0 = await cli(['audit', 'verify', file]);
  t.equal(cli0.code, 0, cli0.stderr);
  t.comment(`${RUNS} kills: ${caughtWriting} while a record was being written, ${torn} left a torn line, ${locks} left their lock behind`);
});
