import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { bearerToken, matchRoute, RateLimiter, type Route } from '../../src/http/index.js';
import { certificateKeyId } from '../../src/identity/index.js';
import { certificateTtlSeconds, issueCertificate, trustedCaText } from '../../src/issuance/index.js';
import { formatPublicKeyLine, generatePrivateKey, parseCertificateText, stringOptionValue } from '../../src/sshcert/index.js';
import { tempDir } from '../helpers/tools.js';

t.test('certificate lifetimes', async (t) => {
  const ca = { defaultTtl: 15 * 60_000, maxTtl: 60 * 60_000 };
  t.equal(certificateTtlSeconds(undefined, ca), 900);
  t.equal(certificateTtlSeconds(null, ca), 900);
  t.equal(certificateTtlSeconds('90s', ca), 90);
  t.equal(certificateTtlSeconds('1h30m', ca), 3600, 'capped');
  t.equal(certificateTtlSeconds(30, ca), 30);
  t.equal(certificateTtlSeconds('1500ms', ca), 1);
  for (const bad of ['', 'x', '0s', 0, -1, 2.5, {}, [], '999ms']) t.throws(() => certificateTtlSeconds(bad, ca), { code: 'request.ttl' }, JSON.stringify(bad));
});

t.test('rate limiter', async (t) => {
  let now = 0;
  const limiter = new RateLimiter({ requests: 2, window: 1000, maxClients: 3, now: () => now });
  t.same(limiter.take('a'), { allowed: true });
  t.same(limiter.take('a'), { allowed: true });
  t.same(limiter.take('a'), { allowed: false, retryAfterSeconds: 1, first: true });
  t.same(limiter.take('a'), { allowed: false, retryAfterSeconds: 1, first: false });
  t.same(limiter.take('b'), { allowed: true }, 'per address');
  now = 1000;
  t.same(limiter.take('a'), { allowed: true }, 'a new window');
  t.equal(limiter.clients, 1, 'ended windows were swept');
  limiter.take('b');
  limiter.take('c');
  t.equal(limiter.clients, 3);
  t.same(limiter.take('d'), { allowed: true }, 'past maxClients, new addresses share one bucket');
  t.same(limiter.take('e'), { allowed: true });
  t.match(limiter.take('f'), { allowed: false });
  t.equal(limiter.clients, 4);
  const slow = new RateLimiter({ requests: 1, window: 90_000, now: () => now });
  slow.take('x');
  t.match(slow.take('x'), { allowed: false, retryAfterSeconds: 90 });
});

t.test('bearer tokens and routes', async (t) => {
  t.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  t.equal(bearerToken('bearer  abc'), 'abc');
  t.equal(bearerToken('Basic abc'), undefined);
  t.equal(bearerToken('Bearer a b'), undefined);
  t.equal(bearerToken(undefined), undefined);
  const route = (method: 'GET' | 'POST', path: string): Route => ({ method, path, limited: false, handle: () => ({ status: 200 }) });
  const routes = [route('GET', '/a'), route('POST', '/a'), route('GET', '/b')];
  t.equal(matchRoute(routes, 'POST', '/a').route, routes[1]);
  t.same(matchRoute(routes, 'PUT', '/a'), { route: undefined, allowed: ['GET', 'POST'] });
  t.same(matchRoute(routes, 'GET', '/c'), { route: undefined, allowed: [] });
});

t.test('trusted CA keys for sshd', async (t) => {
  const dir = tempDir(t);
  const a = generatePrivateKey('ed25519');
  const b = generatePrivateKey('ecdsa');
  writeFileSync(join(dir, 'cas.pub'), `# our CAs\n\n${formatPublicKeyLine(a.publicKey, 'ca-a')}\nnot a key\n`);
  const config = parseConfig(`ca:\n  key: null\n  trusted:\n    - cas.pub\n    - "${formatPublicKeyLine(b.publicKey, 'inline')}"\n`, { baseDir: dir });
  t.equal(trustedCaText(config), `${formatPublicKeyLine(a.publicKey, 'ca-a')}\n${formatPublicKeyLine(b.publicKey, 'inline')}\n`);
});

t.test('issued certificates carry sponsor, roles and the bound address', async (t) => {
  const dir = tempDir(t);
  const config = parseConfig('ca:\n  key: ca\n  sourceAddressBinding: true\nidentity:\n  roleExtension: roles@example\n', { baseDir: dir });
  const caKey = generatePrivateKey('ed25519');
  const user = generatePrivateKey('ed25519');
  const identity = { principal: 'agent-7', roles: ['agent', 'reviewer'], sponsor: 'alice', issuer: 'corp', subject: 'agent-7', tokenId: 'j1' };
  const issued = issueCertificate({ identity, publicKey: formatPublicKeyLine(user.publicKey), ttlSeconds: 60, clientAddress: '::ffff:10.1.2.3', now: 1_000_000 }, config, caKey);
  t.equal(issued.keyId, certificateKeyId(identity));
  t.equal(issued.keyId, 'oidc:corp sub:agent-7 jti:j1');
  t.equal(issued.validAfter.getTime(), (1_000_000 - 60) * 1000);
  t.equal(issued.validBefore.getTime(), 1_000_060 * 1000);
  t.equal(issued.sourceAddress, '10.1.2.3');
  const cert = parseCertificateText(issued.line);
  t.same(cert.extensions.map((e) => [e.name, stringOptionValue(e)]), [['roles@example', 'agent,reviewer'], ['sponsor@pushgate', 'alice']]);
  t.same(cert.criticalOptions.map((e) => [e.name, stringOptionValue(e)]), [['source-address', '10.1.2.3']]);
  const noRoles = issueCertificate({ identity: { ...identity, roles: [], sponsor: undefined } as never, publicKey: formatPublicKeyLine(user.publicKey), ttlSeconds: 60 }, config, caKey);
  t.same(parseCertificateText(noRoles.line).extensions, [], 'no empty roles extension');
  t.same(parseCertificateText(noRoles.line).criticalOptions, [], 'no address, no binding');
});
