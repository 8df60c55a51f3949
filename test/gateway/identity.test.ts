import t from 'tap';
import { parseConfig } from '../../src/config/index.js';
import {
  choosePrincipal, configRoles, identityFromBreakGlassKey, identityFromCertificate, isUsablePrincipal, principalMatches,
} from '../../src/identity/index.js';
import { generatePrivateKey, signCertificate, stringOption, verifyCertificate } from '../../src/sshcert/index.js';
import { rolesExtension, sponsorExtension } from '../../src/identity/extensions.js';

const config = parseConfig(`
identity:
  roles:
    - principals: ["ci:*"]
      roles: [agent]
    - principals: [alice]
      roles: [reviewer]
  sponsorExtension: sponsor@pushgate
`);

const ca = generatePrivateKey('ed25519');
const user = generatePrivateKey('ed25519');
const now = BigInt(Math.floor(Date.now() / 1000));

function verified(principals: string[], extensions = [rolesExtension(['agent', 'x y', 'ops'])]) {
  const cert = signCertificate({ publicKey: user.publicKey, keyId: 'key-1', principals, validAfter: now - 60n, validBefore: now + 600n, serial: 77n, extensions }, ca);
  return verifyCertificate(cert, { trustedCAs: [ca.publicKey] });
}

t.test('principal matching', async (t) => {
  t.ok(principalMatches('ci:org/repo', 'ci:*'));
  t.ok(principalMatches('break-glass:SHA256:ab/c+d', 'break-glass:*'));
  t.ok(principalMatches('alice', 'alice'));
  t.notOk(principalMatches('alice', 'bob'));
  t.ok(principalMatches('ci:org/repo', 'ci:org/*'));
  t.ok(principalMatches('!x', '!x'), 'no negation syntax');
  t.same(configRoles('ci:org/repo', config.identity), ['agent']);
});

t.test('identity from a certificate', async (t) => {
  const id = identityFromCertificate(verified(['alice', 'alice-admin']), config, { loginName: 'git', clientAddress: '192.0.2.7' });
  t.same(id, {
    principal: 'alice', roles: ['agent', 'ops', 'reviewer'], source: 'certificate', keyId: 'key-1', certSerial: '77',
    keyFingerprint: id.keyFingerprint, clientAddress: '192.0.2.7',
  });
  t.match(id.keyFingerprint, /^SHA256:/);
  t.equal(identityFromCertificate(verified(['alice', 'alice-admin']), config, { loginName: 'alice-admin' }).principal, 'alice-admin', 'the login name when it is a principal');
  const sponsored = identityFromCertificate(verified(['agent-7'], [sponsorExtension('bob')]), config);
  t.equal(sponsored.sponsor, 'bob');
  t.same(sponsored.roles, []);
  const badSponsor = identityFromCertificate(verified(['agent-7'], [{ name: 'sponsor@pushgate', data: Buffer.from([1, 2]) }, stringOption('zz', 'x')]), config);
  t.notOk('sponsor' in badSponsor);
  t.equal(choosePrincipal([], 'x'), undefined);
});

t.test('break-glass identity and usable principals', async (t) => {
  const glass = identityFromBreakGlassKey('SHA256:abc/def', parseConfig('identity:\n  roles:\n    - principals: ["break-glass:*"]\n      roles: [agent]\n'), { clientAddress: '::1' });
  t.same(glass, { principal: 'break-glass:SHA256:abc/def', roles: ['agent'], source: 'break-glass', keyFingerprint: 'SHA256:abc/def', clientAddress: '::1' });
  t.same(identityFromBreakGlassKey('SHA256:x', config).roles, []);
  for (const ok of ['alice', 'ci:org/repo', 'ünïcode', 'a@b.c']) t.ok(isUsablePrincipal(ok), ok);
  for (const bad of ['', 'a b', 'a,b', 'a\nb', 'a\u0000', 'x'.repeat(257), 'a\ufffd']) t.notOk(isUsablePrincipal(bad), JSON.stringify(bad));
});
