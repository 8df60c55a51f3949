import { createPrivateKey, sign } from 'node:crypto';
import t from 'tap';
import {
  CertError, generatePrivateKey, parsePrivateKey, formatPrivateKey, signCertificate, signData, verifySessionSignature, verifySignature,
  type GeneratedKeyType,
} from '../../src/sshcert/index.js';
import { SshWriter } from '../../src/sshcert/wire.js';

const kinds: [GeneratedKeyType, number | undefined][] = [['ed25519', undefined], ['ecdsa', 256], ['ecdsa', 384], ['ecdsa', 521], ['rsa', 2048]];

t.test('session signatures: sign and verify with every key type; any change is refused', async (t) => {
  const data = Buffer.from('session id + userauth request');
  for (const [type, bits] of kinds) {
    const key = generatePrivateKey(type, bits === undefined ? {} : { bits });
    const signature = signData(key.key, key.publicKey, data);
    verifySignature(key.publicKey, data, signature);
    t.pass(`${type}${bits ?? ''} verifies`);
    t.throws(() => verifySignature(key.publicKey, Buffer.from('other data'), signature), { code: 'cert.bad-signature' });
    const other = generatePrivateKey(type, bits === undefined ? {} : { bits });
    t.throws(() => verifySignature(other.publicKey, data, signature), { code: 'cert.bad-signature' }, 'another key');
    t.throws(() => verifySignature(key.publicKey, data, signature.subarray(0, signature.length - 1)), CertError, 'truncated');
  }
});

t.test('session signature with the certified key', async (t) => {
  const ca = generatePrivateKey('ed25519');
  const user = generatePrivateKey('ecdsa');
  const cert = signCertificate({ publicKey: user.publicKey, keyId: 'k', principals: ['alice'], validAfter: 0n, validBefore: 2n ** 40n }, ca);
  const data = Buffer.from('signed session data');
  verifySessionSignature(cert, data, signData(user.key, user.publicKey, data));
  t.throws(() => verifySessionSignature(cert, data, signData(ca.key, ca.publicKey, data)), { code: 'cert.bad-signature' }, 'CA key is not the certified key');
});

t.test('ssh-rsa (SHA-1) session signatures are refused as weak', async (t) => {
  const key = generatePrivateKey('rsa', { bits: 2048 });
  const data = Buffer.from('payload');
  const sha1 = new SshWriter().string('ssh-rsa').string(sign('sha1', data, key.key)).toBuffer();
  t.throws(() => verifySignature(key.publicKey, data, sha1), { code: 'cert.weak-algorithm' });
  const sha256 = signData(key.key, key.publicKey, data, 'rsa-sha2-256');
  t.doesNotThrow(() => verifySignature(key.publicKey, data, sha256));
  const mislabelled = new SshWriter().string('ssh-ed25519').string(Buffer.alloc(64)).toBuffer();
  t.throws(() => verifySignature(key.publicKey, data, mislabelled), { code: 'cert.bad-signature' });
});

t.test('private keys round-trip through the OpenSSH format; encrypted and garbage keys get clear errors', async (t) => {
  for (const [type, bits] of kinds) {
    const key = generatePrivateKey(type, bits === undefined ? { comment: 'c' } : { bits, comment: 'c' });
    const again = parsePrivateKey(formatPrivateKey(key));
    t.ok(again.publicKey.blob.equals(key.publicKey.blob), `${type}${bits ?? ''}`);
  }
  const pem = generatePrivateKey('ecdsa').key.export({ type: 'pkcs8', format: 'pem' }).toString();
  t.equal(parsePrivateKey(pem).type, 'ecdsa-sha2-nistp256', 'PKCS#8 PEM read');
  const encrypted = createPrivateKey(pem).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
  t.throws(() => parsePrivateKey(encrypted), { code: 'key.encrypted' });
  t.throws(() => parsePrivateKey('not a key'), { code: 'key.malformed' });
  const armored = formatPrivateKey(generatePrivateKey('ed25519'));
  const lines = armored.split('\n');
  t.throws(() => parsePrivateKey(lines.slice(0, -2).join('\n')), { code: 'key.malformed' }, 'no END line');
});
