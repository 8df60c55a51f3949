import t from 'tap';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { loadTrustedCAs, parseKeyLines, Trust, TrustError } from '../../src/gateway/trust.js';
import { WatchedFile } from '../../src/gateway/watched-file.js';
import { formatPublicKeyLine, generatePrivateKey } from '../../src/sshcert/index.js';
import { tempDir } from '../helpers/tools.js';

const dir = tempDir(t);
const a = formatPublicKeyLine(generatePrivateKey('ed25519').publicKey, 'a');
const b = formatPublicKeyLine(generatePrivateKey('ecdsa').publicKey, 'b');

t.test('key lines', async (t) => {
  const parsed = parseKeyLines(`# comment\n\n${a}\n${b}\ncommand="x" ${a}\nnot a key\nssh-ed25519 AAAAbroken\n`, 'list');
  t.equal(parsed.keys.length, 2);
  t.match(parsed.skipped, [/line 5: key options are not supported/, /line 6: not a supported public key/, /line 7: /]);
});

t.test('trusted CA keys from files and inline', async (t) => {
  writeFileSync(join(dir, 'two.pub'), `${a}\n${b}\n`);
  writeFileSync(join(dir, 'empty.pub'), '# nothing\n');
  writeFileSync(join(dir, 'bad.pub'), 'ssh-ed25519 AAAA\n');
  t.equal(loadTrustedCAs([{ kind: 'file', path: join(dir, 'two.pub') }, { kind: 'inline', line: a }]).length, 3);
  t.throws(() => loadTrustedCAs([{ kind: 'file', path: join(dir, 'missing.pub') }]), TrustError);
  t.throws(() => loadTrustedCAs([{ kind: 'file', path: join(dir, 'empty.pub') }]), /holds no public key/);
  t.throws(() => loadTrustedCAs([{ kind: 'file', path: join(dir, 'bad.pub') }]), /line 1/);
  t.throws(() => loadTrustedCAs([{ kind: 'file', path: dir }]), /EISDIR|illegal operation/);
  const config = parseConfig(`ca:\n  key: null\n  trusted: [two.pub]\n`, { baseDir: dir });
  const trust = new Trust(config);
  t.equal(trust.cas.length, 2);
  t.same(trust.revocation(), { ok: true, value: null });
  t.equal(trust.breakGlassKeys(), null);
  t.same(trust.check(), []);
});

t.test('a watched file is parsed again only when it changes', async (t) => {
  const path = join(dir, 'watched');
  writeFileSync(path, 'one');
  let parses = 0;
  const watched = new WatchedFile(path, (bytes) => {
    parses += 1;
    if (bytes.toString() === 'bad') throw new Error('unparsable');
    return bytes.toString();
  });
  t.same(watched.get(), { ok: true, value: 'one' });
  t.same(watched.get(), { ok: true, value: 'one' });
  t.equal(parses, 1);
  writeFileSync(path, 'two!');
  t.same(watched.get(), { ok: true, value: 'two!' });
  writeFileSync(path, 'bad');
  utimesSync(path, new Date(), new Date(Date.now() + 5000));
  t.match(watched.get(), { ok: false, error: /unparsable/ });
  watched.invalidate();
  t.match(watched.get(), { ok: false });
  writeFileSync(path, 'fine');
  utimesSync(path, new Date(), new Date(Date.now() + 10_000));
  t.same(watched.get(), { ok: true, value: 'fine' });
  const missing = new WatchedFile(join(dir, 'nope'), (x) => x);
  t.match(missing.get(), { ok: false, error: /nope/ });
});
