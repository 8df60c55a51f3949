/**
 * scripts/test-failures.mjs, which `npm test` runs after a failed run so a
 * log's tail names what failed: it reads tap's saved results and prints each
 * failed assertion once, under the subtests it sits in, with its diagnostics,
 * and says which files never finished.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { tempDir } from '../helpers/tools.js';

const SCRIPT = new URL('../../../scripts/test-failures.mjs', import.meta.url).pathname;

function report(results: Record<string, string>): { status: number | null; out: string } {
  const dir = tempDir(t, 'pushgate-failures-');
  const saved = join(dir, '.tap', 'test-results', 'build', 'test');
  mkdirSync(saved, { recursive: true });
  for (const [name, text] of Object.entries(results)) writeFileSync(join(saved, name), text);
  const ran = spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8' });
  return { status: ran.status, out: ran.stdout + ran.stderr };
}

const FAILED = [
  'TAP version 14',
  '# Subtest: outer',
  '    # Subtest: inner',
  '        ok 1 - fine',
  '        not ok 2 - the mirror equals the upstream',
  '          ---',
  '          diff: |',
  '            -abc',
  '            +def',
  '          ...',
  '        1..2',
  '    not ok 1 - inner # time=12ms',
  '      ---',
  '      at: parent',
  '      ...',
  '    1..1',
  'not ok 1 - outer # time=20ms',
  '1..1',
  '',
].join('\n');

t.test('a failed assertion is printed once, under its subtests, with its diagnostics', async (t) => {
  const { status, out } = report({ 'a.test.js.tap': FAILED, 'b.test.js.tap': 'TAP version 14\nok 1 - fine\n1..1\n' });
  t.equal(status, 0);
  t.match(out, /# \.tap\/test-results\/build\/test\/a\.test\.js\.tap\n✖ outer > inner > the mirror equals the upstream\n {4}diff: \|\n {6}-abc\n {6}\+def/);
  t.notMatch(out, /✖ outer > inner\n/, 'the subtests that only carry the failure up are not repeated');
  t.notMatch(out, /b\.test\.js/, 'a file that passed is not named');
  t.match(out, /# 1 failed assertion\(s\), listed above/);
});

t.test('a file that never finished is named with its last lines', async (t) => {
  const { out } = report({ 'hung.test.js.tap': 'TAP version 14\n# Subtest: waits\n    ok 1 - started\n' });
  t.match(out, /hung\.test\.js\.tap\n {2}\(the file did not finish: it crashed, hung or timed out; its last lines:\)\n[\s\S]*ok 1 - started/);
});

t.test('no saved results: it says so rather than failing', async (t) => {
  const { status, out } = report({});
  t.equal(status, 0);
  t.match(out, /no failed assertion in the saved results/);
});
