import t from 'tap';
import { maskLine, maskSecret, MAX_REVEALED_FRACTION } from '../../src/scan/index.js';

function revealed(masked: string): number {
  return masked === '****' ? 0 : masked.replace('…', '').length;
}

t.test('maskSecret keeps at most a short prefix and suffix', async (t) => {
  t.equal(maskSecret(''), '****');
  t.equal(maskSecret('abc'), '****');
  t.equal(maskSecret('abcdefg'), '****');
  t.equal(maskSecret('abcdefgh'), 'a…h');
  t.equal(maskSecret('abcdefghijklmnop'), 'ab…op');
  const token = 'gh' + 'p_' + 'A'.repeat(30) + 'x7Qa12';
  t.equal(maskSecret(token), 'ghp_…Qa12');
  for (let n = 0; n < 200; n++) {
    const value = 'k'.repeat(n);
    t.ok(revealed(maskSecret(value)) <= Math.floor(n * MAX_REVEALED_FRACTION), `length ${n}`);
    t.ok(revealed(maskSecret(value)) <= 8);
  }
});

t.test('maskLine replaces every span, merging overlaps', async (t) => {
  const line = 'user=alice password=abcdefghijklmnop token=ABCDEFGHIJKLMNOP end';
  const a = { start: line.indexOf('abcdef'), end: line.indexOf('abcdef') + 16 };
  const b = { start: line.indexOf('ABCDEF'), end: line.indexOf('ABCDEF') + 16 };
  t.equal(maskLine(line, [b, a]), 'user=alice password=ab…op token=AB…OP end');
  // 'abcdefghijklmnop to' is masked as one span.
  t.equal(maskLine(line, [a, { start: a.start + 2, end: a.end + 3 }]), 'user=alice password=ab…toke' + 'n=ABCDEFGHIJKLMNOP end');
  t.equal(maskLine(line, []), line);
  t.equal(maskLine(line, [{ start: 0, end: 0 }]), line, 'empty spans (file-name findings) are ignored');
});
