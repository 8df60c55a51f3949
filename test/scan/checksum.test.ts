import t from 'tap';
import { base62, crc32, hasValidTokenChecksum } from '../../src/scan/checksum.js';
import { SecretScanner } from '../../src/scan/index.js';
import { breakChecksum, gh, npmToken, Rng } from './fixtures.js';

t.test('crc32 matches the IEEE check value', async (t) => {
  t.equal(crc32('123456789'), 0xcbf43926);
  t.equal(crc32(''), 0);
  t.equal(crc32('The quick brown fox jumps over the lazy dog'), 0x414fa339);
});

t.test('base62 pads to the requested width', async (t) => {
  t.equal(base62(0, 6), '000000');
  t.equal(base62(61, 2), '0z');
  t.equal(base62(62, 1), '10');
  t.equal(base62(0xffffffff, 6), '4gfFC3');
});

t.test('GitHub and npm tokens: the checksum decides', async (t) => {
  const rng = new Rng(7);
  const scanner = new SecretScanner();
  for (const kind of ['p', 'o', 'u', 's', 'r']) {
    const token = gh(rng, kind);
    t.ok(hasValidTokenChecksum(token), `gh${kind}_ checksum valid`);
    t.notOk(hasValidTokenChecksum(breakChecksum(token)), `gh${kind}_ broken checksum`);
    const hits = scanner.scanLine('src/a.ts', 3, `const token = "${token}";`);
    t.same(hits.map((hit) => [hit.ruleId, hit.confidence]), [['secret.github-token', 'high']]);
    // A broken checksum is not a GitHub-issued token: no finding, not even from the generic rule.
    t.same(scanner.scanLine('src/a.ts', 3, `const token = "${breakChecksum(token)}";`), []);
  }
  const npm = npmToken(rng);
  t.same(scanner.scanLine('.npmrc', 1, `//registry.npmjs.org/:_authToken=${npm}`).map((hit) => hit.ruleId), ['secret.npm-token']);
  t.same(scanner.scanLine('.npmrc', 1, `//registry.npmjs.org/:_authToken=${breakChecksum(npm)}`), []);
  t.notOk(hasValidTokenChecksum('no-underscore'));
  t.notOk(hasValidTokenChecksum('ghp_short'));
});
