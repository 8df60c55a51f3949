import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseCertificateText, parsePrivateKey, parsePublicKeyLine } from '../../src/sshcert/index.js';
import { tempDir } from '../helpers/tools.js';
import { KEY_KINDS, keygen, parseKeygenListing, pushgate, readText, sshKeygen } from './fixtures.js';

const dir = tempDir(t);

t.test('ca init writes an OpenSSH private key that ssh-keygen uses, mode 0600, never overwritten', async (t) => {
  for (const kind of KEY_KINDS) {
    const key = join(dir, `init-${kind.label}`);
    const made = pushgate(['ca', 'init', '--key', key, ...kind.pushgate]);
    t.equal(made.status, 0, `${kind.label}: ${made.stderr}`);
    t.equal(statSync(key).mode & 0o777, 0o600, `${kind.label}: private key is 0600`);
    // ssh-keygen derives the same public key from pushgate's private key file.
    const derived = sshKeygen(['-y', '-f', key]).trim().split(' ').slice(0, 2).join(' ');
    t.equal(derived, readText(`${key}.pub`).trim().split(' ').slice(0, 2).join(' '), `${kind.label}: ssh-keygen -y agrees`);
    const again = pushgate(['ca', 'init', '--key', key, ...kind.pushgate]);
    t.equal(again.status, 1, `${kind.label}: second init refused`);
    t.match(again.stderr, /already exists/);
  }
});

t.test('private keys written by ssh-keygen are read by pushgate for every key type', async (t) => {
  for (const kind of KEY_KINDS) {
    const path = keygen(dir, `read-${kind.label}`, kind);
    const key = parsePrivateKey(readFileSync(path));
    const pub = parsePublicKeyLine(readText(`${path}.pub`));
    t.ok(key.publicKey.blob.equals(pub.blob), `${kind.label}: public halves agree`);
    t.equal(key.comment, `read-${kind.label}`);
  }
});

for (const caKind of KEY_KINDS) {
  t.test(`CA ${caKind.label}`, async (t) => {
    const caBySshKeygen = keygen(dir, `ca-keygen-${caKind.label}`, caKind);
    const caByPushgate = join(dir, `ca-pushgate-${caKind.label}`);
    t.equal(pushgate(['ca', 'init', '--key', caByPushgate, ...caKind.pushgate]).status, 0);

    for (const subjectKind of KEY_KINDS) {
      const name = `user-${caKind.label}-${subjectKind.label}`;
      const subject = keygen(dir, name, subjectKind);

      // pushgate signs, ssh-keygen reads.
      const out = join(dir, `${name}-pg-cert.pub`);
      const signed = pushgate([
        'ca', 'sign', '--ca', caBySshKeygen, '--principal', 'alice', '--principal', 'bob', '--role', 'agent',
        '--ttl', '10m', '--key-id', `id-${name}`, '--serial', '4242', '--source-address', '127.0.0.1/32,::1',
        '--force-command', 'git-upload-pack x', '--extension', 'permit-pty', '--out', out, `${subject}.pub`,
      ]);
      t.equal(signed.status, 0, `${name}: sign ${signed.stderr}`);
      const listing = parseKeygenListing(sshKeygen(['-L', '-f', out]));
      const inspected = JSON.parse(pushgate(['cert', 'inspect', out, '--format', 'json']).stdout) as {
        validAfter: string; validBefore: string; principals: string[]; keyId: string; serial: string;
      };
      t.match(listing.type, /user certificate$/);
      t.same(listing.principals, ['alice', 'bob'], `${name}: principals`);
      t.equal(listing.keyId, `id-${name}`);
      t.equal(listing.serial, '4242');
      t.equal(listing.valid, `from ${inspected.validAfter.replace('Z', '')} to ${inspected.validBefore.replace('Z', '')}`, `${name}: validity`);
      t.same(listing.critical, ['force-command git-upload-pack x', 'source-address 127.0.0.1/32,::1'], `${name}: critical options`);
      t.equal(listing.extensions[0], 'permit-pty');
      t.match(listing.extensions[1], /^roles@pushgate UNKNOWN OPTION: 000000056167656e74/, `${name}: roles extension`);

      // ssh-keygen signs with a CA key pushgate made, pushgate verifies.
      sshKeygen(['-q', '-s', caByPushgate, '-I', `kg-${name}`, '-n', 'carol,dave', '-z', '77', '-V', '+5m',
        '-O', 'source-address=10.0.0.0/8', '-O', 'force-command=/bin/true', '-O', 'no-port-forwarding', `${subject}.pub`]);
      const theirs = `${subject}-cert.pub`;
      const verified = pushgate(['cert', 'verify', theirs, '--ca', `${caByPushgate}.pub`, '--principal', 'dave', '--source-address', '10.1.2.3', '--format', 'json']);
      t.equal(verified.status, 0, `${name}: verify ${verified.stderr}`);
      const report = JSON.parse(verified.stdout) as { forceCommand: string; extensions: Record<string, null> };
      t.equal(report.forceCommand, '/bin/true');
      t.notOk('permit-port-forwarding' in report.extensions, 'no-port-forwarding removed the extension');
      const cert = parseCertificateText(readText(theirs));
      t.equal(cert.serial, 77n);
      t.same(cert.principals, ['carol', 'dave']);
    }
  });
}
