import t from 'tap';
import { lineMayHoldSecret } from '../../src/scan/scanner.js';
import { MAX_RUN, PrintableRuns, printableRuns, RUN_OVERLAP } from '../../src/scan/strings.js';
import { gh } from './fixtures.js';
import { Rng } from './fixtures.js';

function runs(data: Buffer, chunkSize = data.length || 1): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  const extractor = new PrintableRuns((buf, start, end, line) => out.push({ text: buf.toString('utf8', start, end), line }));
  for (let at = 0; at < data.length; at += chunkSize) extractor.push(data.subarray(at, at + chunkSize));
  extractor.end();
  return out;
}

t.test('printable runs of 8 or more, split at control bytes and line breaks, with line numbers', async (t) => {
  const data = Buffer.concat([Buffer.from('short\0'), Buffer.from('a longer run here\x01tail-end-text\nline two is here\r\n\n\nline five!')]);
  t.same(runs(data), [
    { text: 'a longer run here', line: 1 },
    { text: 'tail-end-text', line: 1 },
    { text: 'line two is here', line: 2 },
    { text: 'line five!', line: 5 },
  ]);
  t.same(runs(data, 3), runs(data), 'the same whatever the chunk size');
  t.same(runs(data, 1), runs(data), 'one byte at a time too');
});

t.test('UTF-8 text stays whole; tabs are printable', async (t) => {
  t.same(runs(Buffer.from('\0clé = "välue\twith tab"\0')), [{ text: 'clé = "välue\twith tab"', line: 1 }]);
});

t.test('UTF-16 runs, little- and big-endian', async (t) => {
  const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('token=abcdefgh\r\nsecond line', 'utf16le')]);
  const found = runs(le).map((r) => r.text);
  t.ok(found.includes('token=abcdefgh'), 'LE');
  t.ok(found.includes('second line'), 'LE, second line');
  t.same(runs(le, 5).map((r) => r.text), found, 'across chunk boundaries');
  const utf32 = Buffer.alloc(4 * 'token=abcdefgh'.length);
  [...'token=abcdefgh'].forEach((c, i) => utf32.writeUInt32LE(c.charCodeAt(0), 4 * i));
  t.ok(runs(utf32).some((r) => r.text === 'token=abcdefgh'), 'UTF-32');
  t.ok(runs(utf32, 3).some((r) => r.text === 'token=abcdefgh'), 'UTF-32 across chunk boundaries');
  const be = Buffer.from('token=abcdefgh', 'utf16le').swap16();
  t.ok(runs(Buffer.concat([Buffer.from([0xfe, 0xff]), be])).some((r) => r.text.startsWith('token=abcdefg')), 'BE, less its last character');
});

t.test('plain ASCII text yields no UTF-16 runs, and random bytes no long runs of NUL-separated characters', async (t) => {
  t.same(runs(Buffer.from('just a line of text\n')), [{ text: 'just a line of text', line: 1 }]);
  const rng = new Rng(7);
  const noise = rng.bytes(64 * 1024);
  let short = 0;
  printableRuns(noise, (_buf, start, end) => {
    if (end - start < 8) short++;
  });
  t.equal(short, 0, 'no run shorter than 8 bytes');
});

t.test('a run longer than MAX_RUN comes in overlapping pieces: nothing at a boundary is lost', async (t) => {
  const marker = 'SECRET-MARKER-VALUE';
  const long = Buffer.alloc(MAX_RUN * 2 + 100, 'x');
  long.write(marker, MAX_RUN - 5);
  const pieces: string[] = [];
  printableRuns(long, (buf, start, end) => pieces.push(buf.toString('latin1', start, end)));
  t.ok(pieces.length >= 2, 'pieces');
  for (const piece of pieces) t.ok(piece.length <= MAX_RUN, 'bounded');
  t.ok(pieces.some((p) => p.includes(marker)), 'the marker at the boundary is whole in one piece');
  const total = pieces.reduce((n, p) => n + p.length, 0);
  t.ok(total <= long.length + pieces.length * RUN_OVERLAP, 'overlap only');
  const streamed: string[] = [];
  const extractor = new PrintableRuns((buf, start, end) => streamed.push(buf.toString('latin1', start, end)));
  for (let at = 0; at < long.length; at += 65536) extractor.push(long.subarray(at, at + 65536));
  extractor.end();
  t.ok(streamed.some((p) => p.includes(marker)), 'streamed in chunks too');
});

t.test('with the prefilter, random bytes are skipped and a token anywhere is still found whole', async (t) => {
  const rng = new Rng(11);
  for (const at of [0, 65536 - 10, 65536 + 100, 3 * 65536 - 3, 4 * 65536 - 40]) {
    const token = gh(rng);
    const data = Buffer.concat([rng.bytes(at), Buffer.from(`\0${token}\0`), rng.bytes(4 * 65536 - at)]);
    const found: string[] = [];
    printableRuns(data, (buf, start, end) => found.push(buf.toString('latin1', start, end)), { filter: lineMayHoldSecret });
    t.ok(found.some((run) => run.includes(token)), `token at ${at}`);
    let all = 0;
    printableRuns(data, () => all++);
    t.ok(found.length < all / 2, `fewer runs handed over (${found.length} of ${all})`);
    const streamed: string[] = [];
    const extractor = new PrintableRuns((buf, start, end) => streamed.push(buf.toString('latin1', start, end)), { filter: lineMayHoldSecret });
    for (let from = 0; from < data.length; from += 50_000) extractor.push(data.subarray(from, from + 50_000));
    extractor.end();
    t.ok(streamed.some((run) => run.includes(token)), `token at ${at}, streamed`);
  }
});
