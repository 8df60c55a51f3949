import t from 'tap';
import { lineMayHoldSecret, SecretScanner } from '../../src/scan/index.js';
import { buildCorpus } from './corpus.js';

// The hook drops lines this filter turns down before the scanner sees them: it must never turn down a finding.
t.test('the byte-level line filter never turns down a line the scanner reports', async (t) => {
  const { positives, negatives } = buildCorpus();
  const scanner = new SecretScanner();
  let found = 0;
  let dropped = 0;
  for (const sample of [...positives, ...negatives]) {
    const bytes = Buffer.from(sample.line, 'utf8');
    const kept = lineMayHoldSecret(bytes, 0, bytes.length);
    if (scanner.scanLine(sample.path, 1, sample.line).length > 0) {
      found++;
      t.ok(kept, `kept: ${sample.path}`);
    } else if (!kept) {
      dropped++;
    }
  }
  t.ok(found >= positives.length * 0.95, 'the corpus has findings to check');
  t.ok(dropped > 0, 'clean lines are turned down');
  const clean = Buffer.from('  return value.map((item) => item.id);');
  t.notOk(lineMayHoldSecret(clean, 0, clean.length));
});
