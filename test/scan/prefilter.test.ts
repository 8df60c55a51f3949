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
