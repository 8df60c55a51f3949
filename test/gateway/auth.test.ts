import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type PushgateConfig } from '../../src/config/index.js';
import { authenticate, verifyCertificateLogin, type KeyOffer } from '../../src/gateway/auth.js';
import { Trust } from '../../src/gateway/trust.js';
import { rolesExtension } from '../../src/identity/extensions.js';
import {
  formatPublicKeyLine, generatePrivateKey, signCertificate, signData, stringOption, type CertOption, type PrivateKey,
} from '../../src/sshcert/index.js';
import { SshWriter } from '../../src/sshcert/wire.js';
import { tempDir } from '../helpers/tools.js';

const dir = tempDir(t);
const ca = generatePrivateKey('ed25519');
writeFileSync(join(dir, 'ca.pub'), `${formatPublicKeyLine(ca.publicKey)}\n`);
const glassKey = generatePrivateKey('ed25519');
writeFileSync(join(dir, 'glass'), `${formatPublicKeyLine(glassKey.publicKey)}\n`);

function config(extra = ''): PushgateConfig {
  return parseConfig(`ca:\n  key: null\n  trusted: [ca.pub]\n${extra}`, { baseDir: dir });
}
const plainConfig = config();
const context = { config: plainConfig, trust: new Trust(plainConfig) };
const now = BigInt(Math.floor(Date.now() / 1000));

function certFor(key: PrivateKey, options: { principals?: string[]; critical?: CertOption[]; signer?: PrivateKey } = {}): Buffer {
  return signCertificate({
    publicKey: key.publicKey, keyId: 'id-1', principals: options.principals ?? ['alice'], validAfter: now - 60n, validBefore: now + 600n,
    serial: 5n, criticalOptions: options.critical ?? [], extensions: [rolesExtension(['agent'])],
  }, options.signer ?? ca).blob;
}

function offer(key: PrivateKey, algorithm: string, blob: Buffer, signed: boolean, overrides: Partial<KeyOffer> = {}): KeyOffer {
  const data = Buffer.from('session data');
  return {
    user: 'git', algorithm, keyBlob: blob, clientAddress: '127.0.0.1',
    ...(signed ? { signed: { data, signature: signData(key.key, key.publicKey, data, 'rsa-sha2-256') } } : {}),
    ...overrides,
  };
}

const user = generatePrivateKey('ed25519');
const userCert = certFor(user);
const ED_CERT = 'ssh-ed25519-cert-v01@openssh.com';

t.test('a certificate: query, then signed attempt', async (t) => {
  const query = authenticate(offer(user, ED_CERT, userCert, false), context);
  t.match(query, { ok: true, identity: { principal: 'alice', roles: ['agent'], certSerial: '5' } });
  t.match(authenticate(offer(user, ED_CERT, userCert, true), context), { ok: true });
  const forced = certFor(user, { critical: [stringOption('force-command', "git-upload-pack 'x'")] });
  t.match(authenticate(offer(user, ED_CERT, forced, true), context), { ok: true, forceCommand: "git-upload-pack 'x'" });
});

t.test('every key type and RSA signature algorithm', async (t) => {
  for (const [type, bits, algorithm] of [['ecdsa', 256, 'ecdsa-sha2-nistp256'], ['ecdsa', 384, 'ecdsa-sha2-nistp384'], ['ecdsa', 521, 'ecdsa-sha2-nistp521'], ['rsa', 2048, 'rsa-sha2-256']] as const) {
    const key = generatePrivateKey(type, { bits });
    t.match(authenticate(offer(key, `${algorithm}-cert-v01@openssh.com`, certFor(key), true), context), { ok: true }, algorithm);
  }
});

t.test('refusals, each with its code', async (t) => {
  const refused = (o: KeyOffer, code: string, ctx = context): void => {
    const decision = authenticate(o, ctx);
    t.equal(decision.ok, false, code);
    if (!decision.ok) t.equal(decision.code, code, decision.message);
  };
  refused(offer(user, ED_CERT, Buffer.from('junk'), false), 'cert.malformed');
  refused(offer(user, ED_CERT, certFor(user, { signer: generatePrivateKey('ed25519') }), false), 'cert.untrusted-ca');
  refused(offer(user, ED_CERT, certFor(user, { critical: [stringOption('source-address', '10.0.0.0/8')] }), false), 'cert.source-address');
  refused(offer(user, ED_CERT, certFor(user, { principals: ['a b'] }), false), 'cert.principal');
  refused(offer(user, ED_CERT, userCert, false, { user: 'root' }), 'auth.user');
  refused(offer(user, 'ecdsa-sha2-nistp256-cert-v01@openssh.com', userCert, false), 'auth.algorithm');
  const other = generatePrivateKey('ed25519');
  refused({ ...offer(user, ED_CERT, userCert, false), signed: { data: Buffer.from('session data'), signature: signData(other.key, other.publicKey, Buffer.from('session data')) } }, 'auth.bad-signature');
  const rsa = generatePrivateKey('rsa', { bits: 2048 });
  const rsaCert = certFor(rsa);
  refused({ ...offer(rsa, 'rsa-sha2-512-cert-v01@openssh.com', rsaCert, true) }, 'auth.bad-signature');
  const sha1 = new SshWriter().string('ssh-rsa').string(Buffer.alloc(256)).toBuffer();
  refused({ ...offer(rsa, 'ssh-rsa-cert-v01@openssh.com', rsaCert, false), signed: { data: Buffer.from('x'), signature: sha1 } }, 'cert.weak-algorithm');
  refused(offer(user, 'ssh-ed25519', user.publicKey.blob, false), 'auth.plain-key');
  refused(offer(user, 'ssh-ed25519', Buffer.from('junk'), false), 'auth.unsupported-key');
});

t.test('the KRL fails closed', async (t) => {
  const krlConfig = config(`  krl: ${join(dir, 'missing.krl')}\n`);
  const ctx = { config: krlConfig, trust: new Trust(krlConfig) };
  const decision = authenticate(offer(user, ED_CERT, userCert, false), ctx);
  t.match(decision, { ok: false, code: 'krl.unusable', offered: { keyId: 'id-1', certSerial: '5' } });
  t.match(ctx.trust.check(), [/KRL unusable/]);
  t.match(verifyCertificateLogin(userCert, { user: 'alice', clientAddress: '127.0.0.1' }, context), { ok: true, identity: { principal: 'alice' } });
});

t.test('break-glass keys', async (t) => {
  const glassConfig = parseConfig(`ca:\n  key: null\n  trusted: [ca.pub]\nssh:\n  breakGlassKeys: glass\n`, { baseDir: dir });
  const ctx = { config: glassConfig, trust: new Trust(glassConfig) };
  t.match(authenticate(offer(glassKey, 'ssh-ed25519', glassKey.publicKey.blob, false), ctx), { ok: true, identity: { source: 'break-glass' } });
  t.match(authenticate(offer(glassKey, 'ssh-ed25519', glassKey.publicKey.blob, true), ctx), { ok: true }, 'an SSH signature blob verifies');
  t.match(authenticate({ ...offer(glassKey, 'ssh-ed25519', glassKey.publicKey.blob, false), signed: { data: Buffer.alloc(1), signature: Buffer.alloc(1), verifyPlain: () => true } }, ctx), { ok: true });
  t.match(authenticate({ ...offer(glassKey, 'ssh-ed25519', glassKey.publicKey.blob, false), signed: { data: Buffer.alloc(1), signature: Buffer.alloc(1), verifyPlain: () => false } }, ctx), { ok: false, code: 'auth.bad-signature' });
  t.match(authenticate(offer(glassKey, 'ssh-ed25519', glassKey.publicKey.blob, false, { user: 'alice' }), ctx), { ok: false, code: 'auth.user' });
  t.match(authenticate(offer(glassKey, 'ecdsa-sha2-nistp256', glassKey.publicKey.blob, false), ctx), { ok: false, code: 'auth.algorithm' });
  t.match(authenticate(offer(user, 'ssh-ed25519', user.publicKey.blob, false), ctx), { ok: false, code: 'auth.plain-key' }, 'a key not on the list');
  const goneConfig = parseConfig(`ca:\n  key: null\n  trusted: [ca.pub]\nssh:\n  breakGlassKeys: gone\n`, { baseDir: dir });
  const gone = { config: goneConfig, trust: new Trust(goneConfig) };
  t.match(authenticate(offer(glassKey, 'ssh-ed25519', glassKey.publicKey.blob, false), gone), { ok: false, code: 'auth.break-glass-unusable' });
  t.match(gone.trust.check(), [/break-glass keys unusable/]);
});
