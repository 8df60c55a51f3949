import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CatFileBatch } from '../../src/git/index.js';
import { tempDir } from '../helpers/tools.js';
import { commit, git, gitDirOf, newRepo } from './fixture.js';

/** Blob contents meant to trip a naive reader: NULs, LFs where headers would be, empty, and large. */
function contentFor(i: number): Buffer {
  if (i === 0) return Buffer.alloc(0);
  if (i === 1) return Buffer.from('1234567890123456789012345678901234567890 blob 5\n');
  if (i === 2) return Buffer.alloc(3 * 1024 * 1024 + 7, 0xab);
  if (i % 3 === 0) return Buffer.from(Array.from({ length: i % 500 }, (_, k) => (k * 7 + i) % 256));
  return Buffer.from(`line ${i}\n`.repeat(i % 40) + '\n\n');
}

t.test('reads thousands of objects, binary and large, through one process', async (t) => {
  const repo = newRepo(t);
  const gitDir = gitDirOf(repo);
  const count = 2000;
  const contents = Array.from({ length: count }, (_, i) => contentFor(i));
  const stream: Buffer[] = [];
  contents.forEach((data, i) => stream.push(Buffer.from(`blob\nmark :${i + 1}\ndata ${data.length}\n`), data, Buffer.from('\n')));
  const marks = join(tempDir(t), 'marks');
  git(repo, ['fast-import', '--quiet', `--export-marks=${marks}`], Buffer.concat(stream));
  const oids = new Map<number, string>();
  for (const line of readFileSync(marks, 'utf8').trim().split('\n')) {
    const [mark, oid] = line.split(' ');
    oids.set(Number(mark!.slice(1)) - 1, oid!);
  }

  const catFile = new CatFileBatch(gitDir);
  const started = process.hrtime.bigint();
  const objects = await Promise.all(contents.map((_, i) => catFile.read(oids.get(i)!)));
  const infos = await Promise.all(contents.map((_, i) => catFile.info(oids.get(i)!)));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.comment(`read ${count} blobs (${contents.reduce((n, c) => n + c.length, 0)} bytes) and their sizes in ${ms.toFixed(0)} ms`);
  let same = 0;
  objects.forEach((object, i) => {
    if (object !== null && object.type === 'blob' && object.oid === oids.get(i) && object.size === contents[i]!.length && object.data.equals(contents[i]!)) same += 1;
  });
  t.equal(same, count, 'every blob read back byte for byte');
  t.equal(infos.filter((info, i) => info?.size === contents[i]!.length && info.type === 'blob').length, count, 'every size matches');
  await catFile.close();
});

t.test('missing objects are null, other names resolve, requests after close fail', async (t) => {
  const repo = newRepo(t);
  const head = commit(repo, { 'a b.txt': 'content\n' });
  const catFile = new CatFileBatch(gitDirOf(repo));
  t.equal(await catFile.read('0123456789012345678901234567890123456789'), null);
  t.equal(await catFile.info('0123456789012345678901234567890123456789'), null);
  t.equal(await catFile.read('HEAD:missing file'), null);
  const byPath = await catFile.read('HEAD:a b.txt');
  t.equal(byPath?.data.toString(), 'content\n');
  const commitObject = await catFile.read('HEAD');
  t.equal(commitObject?.oid, head);
  t.equal(commitObject?.type, 'commit');
  t.match(commitObject?.data.toString(), /^tree [0-9a-f]{40}\n/);
  t.equal((await catFile.info('HEAD^{tree}'))?.type, 'tree');
  await t.rejects(catFile.read('HEAD\nHEAD'), { code: 'git.invalid-argument' });
  await catFile.close();
  await t.rejects(catFile.read('HEAD'), { code: 'git.closed' });
});

t.test('a repository git cannot open fails every request with a GitError', async (t) => {
  const catFile = new CatFileBatch(tempDir(t));
  await t.rejects(catFile.read('HEAD'), { code: 'git.failed' });
  await t.rejects(catFile.info('HEAD'), { code: 'git.failed' });
  await t.rejects(catFile.read('HEAD'), { code: 'git.failed' }, 'stays failed');
  await catFile.close();
});
