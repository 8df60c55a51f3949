import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { minimatch } from 'minimatch';
import t from 'tap';
import { SecretScanner } from '../../src/scan/index.js';

/*
 * Real third-party code nobody here wrote: a bounded, representative set of
 * the packages in node_modules (protocol and crypto libraries that name key
 * formats, an identity provider, parsers, CLIs, type definitions, a
 * compiler's JavaScript, a UI library), scanned whole, file by file, as
 * `pushgate scan --files` does. Any finding must be on the reviewed list
 * below: real keys that dependencies ship as test fixtures, each with why.
 */

const root = new URL('../../../node_modules/', import.meta.url).pathname;

const PACKAGES = [
  'jose', 'ssh2', 'openid-client', 'oidc-provider', 'oauth4webapi', 'winston', 'yaml', 'zod', 'commander', 'minimatch',
  'prom-client', 'undici', '@types/node', 'esbuild', 'tar', 'glob', 'node-gyp', '@sigstore', 'sigstore', 'react-dom',
  'prismjs', 'tsscmp', 'jsonwebtoken', 'cookies', 'keygrip', 'koa', 'asn1', 'bcrypt-pbkdf', 'tweetnacl', 'ws',
];

/** Findings that are known and reviewed: pattern over `<package path>/<file>`, the rule, and why it is no false positive to fix. */
const KNOWN: { path: string; rule: string; why: string }[] = [
  { path: 'ssh2/test/fixtures/**', rule: 'secret.private-key', why: "ssh2's test suite ships real SSH and TLS private keys (RSA, DSA, ECDSA, Ed25519, encrypted and not) to test its key parser" },
  { path: 'ssh2/test/fixtures/**', rule: 'secret.putty-private-key', why: "ssh2's key-parser fixtures include real PuTTY .ppk keys" },
  { path: 'ssh2/test/fixtures/**', rule: 'secret.file-ssh-private-key', why: 'the same fixtures, named id_rsa, id_dsa, id_ecdsa, *.ppk' },
  { path: 'ssh2/test/fixtures/**', rule: 'secret.file-private-key', why: 'the same fixtures: https_key.pem is a real TLS key for its HTTP agent tests' },
  { path: 'tsscmp/README.md', rule: 'secret.generic-assignment', why: "tsscmp's README compares two example session tokens (22 hex digits, no key anywhere); a hex literal assigned to `sessionToken` is exactly what the generic rule must report" },
];

const MAX_FILE_BYTES = 4 * 1024 * 1024;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '.bin') yield* files(path);
    } else if (entry.isFile()) {
      yield path;
    }
  }
}

t.test('third-party code in node_modules: no finding outside the reviewed list', async (t) => {
  const scanner = new SecretScanner();
  let bytes = 0;
  let count = 0;
  const packages: string[] = [];
  const unexpected: string[] = [];
  const used = new Set<number>();
  for (const name of PACKAGES) {
    let stat;
    try {
      stat = statSync(join(root, name));
    } catch {
      continue;
    }
    if (!stat.isDirectory()) continue;
    packages.push(name);
    for (const file of files(join(root, name))) {
      const path = file.slice(root.length);
      const findings = [];
      const named = scanner.scanPath(path);
      if (named?.decides === 'always') findings.push(named);
      if (statSync(file).size <= MAX_FILE_BYTES) {
        const content = readFileSync(file);
        if (!content.subarray(0, 8000).includes(0)) {
          bytes += content.length;
          count++;
          findings.push(...scanner.scanText(path, content.toString('utf8')));
        }
      }
      for (const finding of findings) {
        const known = KNOWN.findIndex((k) => k.rule === finding.ruleId && minimatch(path, k.path, { dot: true }));
        if (known >= 0) used.add(known);
        else unexpected.push(`${finding.ruleId} ${path}:${finding.line} ${finding.masked}`);
      }
    }
  }
  t.comment(`scanned ${count} files, ${(bytes / 1e6).toFixed(1)} MB, of ${packages.length} packages: ${packages.join(', ')}`);
  for (const [index, known] of KNOWN.entries()) t.comment(`${used.has(index) ? 'seen' : 'not seen'}: ${known.rule} in ${known.path} (${known.why})`);
  t.ok(bytes >= 20e6, `at least 20 MB of third-party code (${bytes} bytes)`);
  t.ok(packages.includes('jose') && packages.includes('ssh2'), 'the libraries that name PEM headers are among them');
  t.same(unexpected, [], 'every finding is on the reviewed list');
});
