import t from 'tap';
import { Prefilter } from '../../src/scan/prefilter.js';

t.test('keywords match case-insensitively, overlapping and nested', async (t) => {
  const filter = new Prefilter([['abcd'], ['bc'], ['cde', 'xyz'], [], ['d-e']]);
  t.same(filter.run('xxABCDExx').rules, [0, 1, 2, 3], 'abcd, bc, cde, and the rule without keywords');
  t.same(filter.run('bcd').rules, [1, 3]);
  t.same(filter.run('zzz').rules, [3]);
  t.same(filter.run('XYZ and D-E').rules, [2, 3, 4]);
  t.same(filter.run('ab\u00e9cd').rules, [3], 'non-ASCII breaks a keyword');
  t.same(filter.run('').rules, [3]);
});

t.test('it reports where a long base64 / hex run starts', async (t) => {
  const filter = new Prefilter([['key']]);
  t.equal(filter.run('short words only').encodedAt, -1);
  t.equal(filter.run(`x = "${'A'.repeat(23)}"`).encodedAt, -1);
  t.equal(filter.run(`x = "${'A'.repeat(24)}"`).encodedAt, 5);
  t.equal(filter.run(`ab ${'0123456789abcdef'.repeat(2)} ${'Z'.repeat(30)}`).encodedAt, 3);
});

t.test('it rejects non-ASCII keywords and survives many lines', async (t) => {
  t.throws(() => new Prefilter([['clé']]), /only ASCII/);
  const filter = new Prefilter([['token']]);
  for (let i = 0; i < 1000; i++) filter.run('a token here');
  t.same(filter.run('TOKEN').rules, [0]);
});

t.test('mayMatch gives the same answer before the automaton is built (direct search) and after', async (t) => {
  const keywords = [['abcd'], ['bc'], ['cde', 'xyz'], ['d-e'], ['tok_en']];
  const lines = [
    '', 'x', 'nothing here', 'xxABCDExx', 'aBc', 'B C', 'XyZ', 'd-E', 'd_e', 'TOK_EN', 'tok-en',
    'ab\u00e9cd', '\u00c0BCD', 'b\u00c7', 'ABCD\u00ff', 'xy\u0000z',
    `x = "${'A'.repeat(23)}"`, `x = "${'A'.repeat(24)}"`, `${'a+/_-'.repeat(5)}`, `${'0123456789'.repeat(2)}abc!`,
  ];
  const random = ((seed) => () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32)(7);
  const alphabet = 'abcdexyzABCDEXYZ-_ +/=0\u00e9\u00c0\u00ff';
  for (let i = 0; i < 500; i++) lines.push(Array.from({ length: Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
  const built = new Prefilter(keywords);
  built.run('');
  let positives = 0;
  for (const line of lines) {
    const bytes = Buffer.from(`..${line}..`, 'utf8');
    const direct = new Prefilter(keywords).mayMatch(bytes, 2, bytes.length - 2);
    const automaton = built.mayMatch(bytes, 2, bytes.length - 2);
    if (direct !== automaton) t.fail(`${JSON.stringify(line)}: direct ${direct}, automaton ${automaton}`);
    if (automaton) positives += 1;
  }
  t.ok(positives > 20 && positives < lines.length - 20, `both answers occur (${positives} of ${lines.length})`);
  // Past the direct-search allowance the automaton takes over, with the same answers.
  const long = new Prefilter(keywords);
  const clean = Buffer.from('nothing to see here '.repeat(100));
  for (let i = 0; i < 20; i++) t.equal(long.mayMatch(clean, 0, clean.length), false);
  const hit = Buffer.from('a line with xYz in it');
  t.equal(long.mayMatch(hit, 0, hit.length), true);
});
