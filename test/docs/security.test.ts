import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

/**
 * docs/security.md names the tests that prove each control. A renamed or
 * deleted test would leave a claim without proof: every name must resolve.
 */
const root = new URL('../../../', import.meta.url).pathname;
const doc = readFileSync(join(root, 'docs', 'security.md'), 'utf8');

t.test('every test docs/security.md names exists', async (t) => {
  const testLines = doc.split(/\n(?=- )/).filter((item) => item.startsWith('- Tests:'));
  t.ok(testLines.length >= 8, `the controls name their tests (${testLines.length} lists)`);
  const names = testLines.flatMap((item) => [...item.matchAll(/`([a-z0-9-]+)\/([a-z0-9*-]+)`/g)].map((m) => [m[1]!, m[2]!] as const));
  t.ok(names.length >= 30, `${names.length} test names`);
  for (const [dir, name] of names) {
    if (name === '*') {
      t.ok(existsSync(join(root, 'test', dir)) && statSync(join(root, 'test', dir)).isDirectory(), `test/${dir}/ exists`);
    } else {
      t.ok(existsSync(join(root, 'test', dir, `${name}.test.ts`)), `test/${dir}/${name}.test.ts exists`);
    }
  }
});

t.test('the threat model covers what the attacker can reach', async (t) => {
  for (const heading of ['## Who the attacker is', '## Controls', '## How a reviewer inspects a parked push safely']) {
    t.ok(doc.includes(heading), heading);
  }
  t.notMatch(doc, /<!--/, 'no placeholder left');
});
