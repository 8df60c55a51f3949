import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { SecretScanner } from '../../src/scan/index.js';

// The sources and tests must not contain anything a secret scanner flags:
// credential-shaped test data is built at run time.
const root = new URL('../../../', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

t.test('src/scan and test/scan scan clean', async (t) => {
  const scanner = new SecretScanner();
  const paths = [...files('src/scan'), ...files('test/scan')];
  t.ok(paths.length >= 10);
  for (const path of paths) {
    const findings = scanner.scanText(path, readFileSync(join(root, path), 'utf8'));
    t.same(findings.map((f) => `${f.line}: ${f.ruleId} ${f.masked}`), [], path);
    t.equal(scanner.scanPath(path), null);
  }
});
