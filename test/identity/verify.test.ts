import t, { type Test } from 'tap';
import { createHmac, createPublicKey, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { TokenError, TokenVerifier, identityFromToken, certificateKeyId, type TokenErrorCode } from '../../src/identity/index.js';
import { issuerConfig } from './fixtures.js';
import { AUDIENCE, clientCredentialsToken, TestIdp } from './idp.js';

const idp = await TestIdp.start(t);
const other = await TestIdp.start(t);

async function refused(t: Test, verifier: TokenVerifier, token: string, code: TokenErrorCode, what: string): Promise<TokenError> {
  try {
    await verifier.verify(token);
  } catch (error) {
    t.type(error, TokenError, what);
    t.equal((error as TokenError).code, code, `${what}: ${(error as Error).message}`);
    return error as TokenError;
  }
  t.fail(`${what}: was accepted`);
  throw new Error('accepted');
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

t.test('a client-credentials token from the IdP verifies and maps to an identity', async (t) => {
  const verifier = new TokenVerifier([issuerConfig(idp.issuer)]);
  const token = await clientCredentialsToken(idp);
  const verified = await verifier.verify(token);
  t.equal(verified.issuerName, 'corp');
  t.equal(verified.claims.sub, idp.clients.agent.id);
  const identity = identityFromToken(verified);
  t.same(identity.roles, ['agent'], 'scope git:push maps to the agent role');
  t.equal(identity.principal, idp.clients.agent.id);
  t.match(certificateKeyId(identity), new RegExp(`^oidc:corp sub:${idp.clients.agent.id} jti:\\S+$`));
  t.equal(identity.tokenId, verified.claims.jti);
});

t.test('refusals', async (t) => {
  const verifier = new TokenVerifier([issuerConfig(idp.issuer), issuerConfig(other.issuer, { name: 'other' })]);
  const now = Math.floor(Date.now() / 1000);

  await refused(t, verifier, await idp.sign({ exp: now - 120, iat: now - 600 }), 'token.expired', 'expired');
  await refused(t, verifier, await idp.sign({ aud: 'someone-else' }), 'token.audience', 'wrong audience');
  await refused(t, verifier, await idp.sign({ aud: ['a', 'b'] }), 'token.audience', 'no listed audience');

  // Another configured issuer's real token, relabelled as this issuer's: its key is not this issuer's.
  const foreign = await clientCredentialsToken(other);
  const [h, p, s] = foreign.split('.');
  const relabelled = `${h}.${b64({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), iss: idp.issuer })}.${s}`;
  await refused(t, verifier, relabelled, 'token.signature', 'wrong issuer');

  const real = await clientCredentialsToken(idp);
  const [rh, rp, rs] = real.split('.');
  const tampered = `${rh}.${b64({ ...JSON.parse(Buffer.from(rp!, 'base64url').toString()), sub: 'admin' })}.${rs}`;
  await refused(t, verifier, tampered, 'token.signature', 'tampered payload');
  const flipped = `${rh}.${rp}.${rs!.slice(0, -4)}${rs!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  await refused(t, verifier, flipped, 'token.signature', 'tampered signature');

  const claims = { iss: idp.issuer, aud: AUDIENCE, sub: 'mallory', exp: now + 300, iat: now };
  await refused(t, verifier, `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 'token.algorithm', 'alg none');
  await refused(t, verifier, `${b64({ alg: 'None' })}.${b64(claims)}.`, 'token.algorithm', 'alg None');

  // The classic confusion attack: HMAC keyed with the issuer's public key, in the forms a verifier might hold it.
  const publicKey = createPublicKey({ key: idp.publicJwk() as never, format: 'jwk' });
  const forms = [publicKey.export({ type: 'spki', format: 'pem' }), JSON.stringify(idp.publicJwk()), publicKey.export({ type: 'spki', format: 'der' })];
  for (const secret of forms) {
    const header = b64({ alg: 'HS256', kid: idp.currentKid, typ: 'JWT' });
    const body = b64(claims);
    const mac = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
    await refused(t, verifier, `${header}.${body}.${mac}`, 'token.algorithm', 'HS256 keyed with the public key');
  }

  const unknown = await idp.sign({ iss: 'https://login.unknown.example' });
  await refused(t, verifier, unknown, 'token.unknown-issuer', 'unknown issuer');
  await refused(t, verifier, await idp.sign({ iss: `${idp.issuer}/` }), 'token.unknown-issuer', 'issuer differing by a slash');
  await refused(t, verifier, `${b64({ alg: 'ES256' })}.${b64({ sub: 'x' })}.${b64('sig')}`, 'token.unknown-issuer', 'no iss');

  await refused(t, verifier, await idp.sign({ nbf: now + 600 }), 'token.claims', 'not valid yet');
  await refused(t, verifier, await idp.sign({ iat: now + 600 }), 'token.claims', 'issued in the future');
  await refused(t, verifier, await idp.sign({ exp: undefined }), 'token.claims', 'never expires');
  await refused(t, verifier, await idp.sign({}, { kid: 'not-a-key' }), 'token.signature', 'unknown kid');
  await refused(t, verifier, `${b64({ ...JSON.parse(Buffer.from(rh!, 'base64url').toString()), alg: 'ES384' })}.${rp}.${rs}`, 'token.signature', 'alg that does not fit the key');

  await refused(t, verifier, 'not a token', 'token.malformed', 'garbage');
  await refused(t, verifier, `${'a'.repeat(20_000)}.b.c`, 'token.malformed', 'too long');
  await refused(t, verifier, 'e30.e30', 'token.malformed', 'two parts');
  await refused(t, verifier, '!!!.e30.e30', 'token.malformed', 'bad base64');
  await refused(t, verifier, `${b64({ alg: 'ES256' })}.${Buffer.from('not json').toString('base64url')}.e30`, 'token.malformed', 'payload not JSON');
});

t.test('clock skew is tolerated, and only that much', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const lenient = new TokenVerifier([issuerConfig(idp.issuer, { clockSkew: 60_000 })]);
  await lenient.verify(await idp.sign({ exp: now - 30, iat: now - 300 }));
  await lenient.verify(await idp.sign({ nbf: now + 30, iat: now + 30 }));
  const strict = new TokenVerifier([issuerConfig(idp.issuer, { clockSkew: 1000 })]);
  await refused(t, strict, await idp.sign({ exp: now - 30, iat: now - 300 }), 'token.expired', 'expired beyond the skew');
});

t.test('required claims', async (t) => {
  const verifier = new TokenVerifier([issuerConfig(idp.issuer, {
    requiredClaims: [{ claim: 'email_verified', values: [true] }, { claim: 'repository_owner', values: ['acme', 'acme-labs'] }, { claim: 'act.sub', values: null }],
  })]);
  const good = { email_verified: true, repository_owner: 'acme', act: { sub: 'alice' } };
  t.ok(await verifier.verify(await idp.sign(good)));
  t.ok(await verifier.verify(await idp.sign({ ...good, repository_owner: ['x', 'acme-labs'] })), 'a list claim needs one accepted value');
  await refused(t, verifier, await idp.sign({ ...good, email_verified: 'true' }), 'token.claims', 'a string is not the boolean');
  await refused(t, verifier, await idp.sign({ ...good, repository_owner: 'evil' }), 'token.claims', 'value not accepted');
  await refused(t, verifier, await idp.sign({ ...good, act: {} }), 'token.claims', 'nested claim missing');
  await refused(t, verifier, await idp.sign({ ...good, email_verified: null }), 'token.claims', 'null is missing');
});

t.test('the algorithm allowlist is per issuer', async (t) => {
  const verifier = new TokenVerifier([issuerConfig(idp.issuer, { algorithms: ['RS256'] })]);
  await refused(t, verifier, await clientCredentialsToken(idp), 'token.algorithm', 'ES256 not listed');
});

t.test('discovery and keys are fetched once and cached', async (t) => {
  const verifier = new TokenVerifier([issuerConfig(idp.issuer)]);
  for (let i = 0; i < 5; i += 1) await verifier.verify(await clientCredentialsToken(idp));
  t.equal(verifier.keyFetches(idp.issuer), 1);
  t.equal(verifier.keyFetches('https://nobody.example'), 0);
});

t.test('a configured jwksUri is used without discovery', async (t) => {
  const verifier = new TokenVerifier([issuerConfig(idp.issuer, { jwksUri: `${idp.issuer}/jwks` })]);
  t.ok(await verifier.verify(await clientCredentialsToken(idp)));
});

t.test('key rotation at the IdP is followed', async (t) => {
  const rotating = await TestIdp.start(t);
  const verifier = new TokenVerifier([issuerConfig(rotating.issuer)]);
  const before = await clientCredentialsToken(rotating);
  await verifier.verify(before);
  t.equal(verifier.keyFetches(rotating.issuer), 1);

  const kid = await rotating.rotate();
  const after = await clientCredentialsToken(rotating);
  t.equal(decodeProtectedHeader(after).kid, kid, 'the IdP signs with the new key');
  const verified = await verifier.verify(after);
  t.equal(verified.header.kid, kid, 'a token signed with the new key verifies at once (within jose\'s cooldown)');
  t.equal(verifier.keyFetches(rotating.issuer), 2, 'the unknown kid caused exactly one refetch');
  await verifier.verify(before);
  await verifier.verify(await clientCredentialsToken(rotating));
  t.equal(verifier.keyFetches(rotating.issuer), 2, 'no more fetches for known keys');

  for (let i = 0; i < 5; i += 1) {
    await refused(t, verifier, await rotating.sign({}, { kid: randomBytes(4).toString('hex') }), 'token.signature', 'made-up kid');
  }
  t.equal(verifier.keyFetches(rotating.issuer), 2, 'made-up key ids right after a refetch do not cause more fetches');
});

t.test('an issuer that cannot be reached is not the token\'s fault', async (t) => {
  const gone = await TestIdp.start(t);
  const token = await clientCredentialsToken(gone);
  await gone.close();
  const verifier = new TokenVerifier([issuerConfig(gone.issuer)], { timeout: 2000 });
  await refused(t, verifier, token, 'issuer.unavailable', 'discovery unreachable');
  const direct = new TokenVerifier([issuerConfig(gone.issuer, { jwksUri: `${gone.issuer}/jwks` })], { timeout: 2000 });
  await refused(t, direct, token, 'issuer.unavailable', 'jwks unreachable');
});

t.test('a discovery document naming another issuer is refused', async (t) => {
  const verifier = new TokenVerifier([issuerConfig(`${idp.issuer}/tenant`)]);
  await refused(t, verifier, await idp.sign({ iss: `${idp.issuer}/tenant` }), 'issuer.unavailable', 'no discovery at that path');
  const aliased = new TokenVerifier([issuerConfig(idp.issuer.replace('127.0.0.1', 'localhost'))]);
  await refused(t, aliased, await idp.sign({ iss: idp.issuer.replace('127.0.0.1', 'localhost') }), 'issuer.unavailable', 'discovery names the other spelling');
});
