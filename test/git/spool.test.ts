import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { diffEvents, startDiff } from '../../src/git/index.js';
import { Spool, stdbufPath } from '../../src/git/spool.js';
import { requireTool } from '../helpers/tools.js';
import { commit, gitDirOf, newRepo } from './fixture.js';

/** A writer that writes `first`, then `second` once it reads a line, then exits. */
function writer(spool: Spool, first: string, second: string) {
  const script = `process.stdout.write(${JSON.stringify(first)}); process.stdin.once('data', () => { process.stdout.write(${JSON.stringify(second)}); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', spool.fd, 'inherit'] });
  spool.follow(child);
  return child;
}

async function readAll(spool: Spool): Promise<string> {
  let text = '';
  for (let chunk = await spool.read(); chunk !== null; chunk = await spool.read()) text += chunk.toString('latin1');
  return text;
}

/** Sizes of this process's open spool files (unlinked, so only /proc still names them). */
function spoolFileSizes(): number[] {
  const sizes: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/\/pushgate-[^/]+\/output \(deleted\)$/.test(readlinkSync(`/proc/self/fd/${fd}`))) sizes.push(statSync(`/proc/self/fd/${fd}`).size);
    } catch {
      // Closed meanwhile.
    }
  }
  return sizes;
}

t.test('a spool follows its writer, is emptied only when everything written was read, and loses nothing', async (t) => {
  const spool = new Spool();
  const child = writer(spool, 'a'.repeat(10), 'b'.repeat(5));
  t.equal((await spool.read())?.toString(), 'a'.repeat(10));
  await spool.truncate();
  t.ok(statSync(`/proc/self/fd/${spool.fd}`).size <= 1, 'emptied, but for at most a byte');
  child.stdin!.end('next\n');
  t.equal(await readAll(spool), 'b'.repeat(5), 'after emptying, the writer appends from the start');
  spool.close();

  const unread = new Spool();
  const late = writer(unread, 'c'.repeat(4), 'd'.repeat(6));
  t.equal((await unread.read())?.toString(), 'cccc');
  late.stdin!.end('next\n');
  await new Promise((resolve) => late.once('exit', resolve));
  await t.rejects(unread.truncate(), { code: 'git.spool', message: /grew/ }, 'bytes not yet read are never thrown away');
  t.equal(await readAll(unread), 'd'.repeat(6));
  unread.close();
});

t.test('no writable temporary directory: a clear error, and no spool file left open', async (t) => {
  const saved = process.env.TMPDIR;
  t.teardown(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });
  const repo = newRepo(t);
  const head = commit(repo, { 'a.txt': 'a\n' });
  // Below a file: no directory can be made there, not even by root.
  process.env.TMPDIR = join(repo, 'a.txt', 'tmp');
  t.throws(() => new Spool(), { code: 'git.spool', message: /a\.txt\/tmp.*TMPDIR/ });
  const before = spoolFileSizes().length;
  t.throws(() => startDiff(gitDirOf(repo), [head]), { code: 'git.spool' });
  t.equal(spoolFileSizes().length, before);
});

t.test('the spool file stays within its batch and lead while a long diff is read', async (t) => {
  const repo = newRepo(t);
  const commits = Array.from({ length: 120 }, (_, i) => commit(repo, { [`f${i % 4}.txt`]: `round ${i} ${'x'.repeat(60)}\n`.repeat(1000) }));
  let total = 0;
  let largest = 0;
  let sampled = 0;
  for await (const batch of diffEvents(gitDirOf(repo), commits, undefined, { spool: { batchBytes: 64 * 1024, leadBytes: 1 } })) {
    for (const event of batch) if (event.kind === 'line') total += event.text.length + 2;
    const sizes = spoolFileSizes();
    if (sizes.length > 0) sampled += 1;
    largest = Math.max(largest, ...sizes);
  }
  t.ok(sampled > 0, 'the spool file was seen');
  t.ok(total > 8_000_000, `a long diff (${total} bytes of added lines)`);
  // At most one batch and eight commits ahead of the parser (the least lead): each commit adds about 70 KB and removes as much.
  t.ok(largest < total / 4, `the file was emptied as it was read (largest ${largest} bytes)`);
  t.same(spoolFileSizes(), [], 'closed at the end');
});

t.test('stdbuf is looked up on the PATH given, and only there', async (t) => {
  const stdbuf = requireTool('stdbuf', 'coreutils');
  t.equal(stdbufPath({ PATH: `${t.testdirName}-none:${dirname(stdbuf)}` }), stdbuf);
  t.equal(stdbufPath({ PATH: t.testdirName }), null);
  t.equal(stdbufPath({}), null);
});
