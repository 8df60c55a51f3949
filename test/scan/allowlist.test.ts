import t from 'tap';
import { SecretScanner } from '../../src/scan/index.js';
import { gh, Rng } from './fixtures.js';

t.test('allowlists drop findings by value, path and fingerprint', async (t) => {
  const rng = new Rng(21);
  const token = gh(rng);
  const other = gh(rng);
  const line = `const a = "${token}", b = "${other}";`;
  const plain = new SecretScanner();
  const both = plain.scanLine('src/a.ts', 1, line);
  t.equal(both.length, 2);

  t.equal(new SecretScanner({ allowlist: { values: [token] } }).scanLine('src/a.ts', 1, line).length, 1, 'exact value');
  const pattern = new RegExp(`^${token.slice(0, 10)}`, 'g');
  const byPattern = new SecretScanner({ allowlist: { values: [pattern] } });
  for (let i = 0; i < 3; i++) t.equal(byPattern.scanLine('src/a.ts', 1, line).length, 1, 'pattern without g state');
  t.equal(new SecretScanner({ allowlist: { fingerprints: [both[0]!.fingerprint] } }).scanLine('src/a.ts', 1, line).length, 1, 'fingerprint');

  const byPath = new SecretScanner({ allowlist: { paths: ['test/fixtures/**', '*.snap', './docs/*.md'] } });
  t.same(byPath.scanLine('test/fixtures/tokens.json', 1, line), []);
  t.same(byPath.scanLine('src/__snapshots__/a.test.ts.snap', 1, line), [], 'base-name pattern');
  t.same(byPath.scanLine('./test/fixtures/x.txt', 1, line), [], 'leading ./ is ignored');
  t.equal(byPath.scanLine('src/a.ts', 1, line).length, 2);
  t.equal(byPath.scanLine('src/a.ts', 2, line).length, 2, 'cached path answer');
  t.same(byPath.scanText('test/fixtures/more.txt', `${line}\n${line}`), []);
  for (let i = 0; i < 5000; i++) byPath.scanLine(`gen/${i}.ts`, 1, 'x');
  t.equal(byPath.scanLine('src/a.ts', 1, line).length, 2, 'after the cache filled up');
});

t.test('scanText numbers lines and handles CRLF', async (t) => {
  const rng = new Rng(22);
  const token = gh(rng);
  const text = `first\r\nsecond\r\ntoken = "${token}"\r\n\r\nlast`;
  const findings = new SecretScanner().scanText('a.txt', text);
  t.same(findings.map((f) => [f.line, f.column]), [[3, 10]]);
  t.same(new SecretScanner().scanText('a.txt', ''), []);
});
