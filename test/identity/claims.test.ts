import t from 'tap';
import {
  checkRequiredClaims, claimValue, claimWords, identityFromToken, renderPrincipal, rolesFromClaims, sanitizePrincipal, sponsorFromClaims, TokenError,
} from '../../src/identity/index.js';
import { issuerConfig } from './fixtures.js';

t.test('claim lookup', async (t) => {
  const claims = { sub: 'a', act: { sub: 'alice', act: { sub: 'bob' } }, 'x.y': 'literal', list: ['q'] };
  t.equal(claimValue(claims, 'sub'), 'a');
  t.equal(claimValue(claims, 'act.sub'), 'alice');
  t.equal(claimValue(claims, 'act.act.sub'), 'bob');
  t.equal(claimValue(claims, 'x.y'), 'literal', 'a claim named with a dot wins');
  t.equal(claimValue(claims, 'act.missing'), undefined);
  t.equal(claimValue(claims, 'list.0'), undefined, 'no indexing into lists');
  t.equal(claimValue(claims, 'sub.length'), undefined, 'no properties of strings');
  t.equal(claimValue(claims, 'constructor'), undefined, 'no prototype properties');
  t.equal(claimValue(claims, 'act.constructor'), undefined);
});

t.test('principal templates', async (t) => {
  t.equal(renderPrincipal('{{sub}}', { sub: 'agent-7' }), 'agent-7');
  t.equal(renderPrincipal('{{email}}', { email: 'alice+bot@example.com' }), 'alice+bot@example.com');
  t.equal(renderPrincipal('ci:{{ repository }}', { repository: 'acme/app' }), 'ci:acme_app', 'unsafe characters become _');
  t.equal(renderPrincipal('{{client_id}}', { client_id: 'cli' }), 'cli');
  t.equal(renderPrincipal('{{org.team}}-{{n}}', { org: { team: 'x' }, n: 7 }), 'x-7', 'dotted claims and numbers');
  t.equal(renderPrincipal('{{sub}}', { sub: 'a b\tc\u00e9\n$(x)' }), 'a_b_c_x_');
  t.equal(sanitizePrincipal('../../etc'), '.._.._etc');
  t.throws(() => renderPrincipal('{{email}}', { sub: 'x' }), { code: 'token.claims' }, 'missing claim');
  t.throws(() => renderPrincipal('{{sub}}', { sub: '' }), { code: 'token.claims' }, 'empty claim');
  t.throws(() => renderPrincipal('{{sub}}', { sub: { id: 1 } }), { code: 'token.claims' }, 'object claim');
  t.throws(() => renderPrincipal('{{sub}}', { sub: '///' }), { code: 'token.claims' }, 'nothing left after sanitising');
  t.throws(() => renderPrincipal('{{sub}}', { sub: 'x'.repeat(129) }), { code: 'token.claims' }, 'too long');
  t.equal(renderPrincipal('{{sub}}', { sub: 'x'.repeat(128) }).length, 128);
  t.equal(renderPrincipal('{{ok}}', { ok: true }), 'true');
});

t.test('roles from claims', async (t) => {
  const issuer = issuerConfig('https://idp.example', { rolesClaim: 'groups', roleMap: { devs: ['agent'], leads: ['reviewer', 'agent'] }, defaultRoles: ['reader'] });
  t.same(rolesFromClaims(issuer, { groups: ['devs', 'leads', 'other'] }), ['reader', 'agent', 'reviewer']);
  t.same(rolesFromClaims(issuer, { groups: 'devs leads' }), ['reader', 'agent', 'reviewer'], 'space-separated string');
  t.same(rolesFromClaims(issuer, { groups: ['constructor', '__proto__', 'toString'] }), ['reader'], 'prototype names map to nothing');
  t.same(rolesFromClaims(issuer, {}), ['reader']);
  t.same(rolesFromClaims(issuer, { groups: 42 }), ['reader']);
  t.same(rolesFromClaims({ ...issuer, rolesClaim: null }, { groups: ['devs'] }), ['reader']);
  t.same(claimWords(['a', 3, '', 'b']), ['a', 'b']);
  const scoped = issuerConfig('https://idp.example');
  t.same(rolesFromClaims(scoped, { scope: 'openid git:push git:review' }), ['agent', 'reviewer']);
});

t.test('sponsor', async (t) => {
  const issuer = issuerConfig('https://idp.example');
  t.equal(sponsorFromClaims(issuer, { act: { sub: 'alice@example.com' } }), 'alice@example.com');
  t.equal(sponsorFromClaims(issuer, { act: { sub: 'bad name' } }), 'bad_name');
  t.equal(sponsorFromClaims(issuer, {}), undefined);
  t.equal(sponsorFromClaims(issuer, { act: { sub: '' } }), undefined);
  t.equal(sponsorFromClaims({ sponsorClaim: null }, { act: { sub: 'alice' } }), undefined);
});

t.test('required claims', async (t) => {
  t.doesNotThrow(() => checkRequiredClaims([{ claim: 'n', values: [3] }], { n: 3 }));
  t.throws(() => checkRequiredClaims([{ claim: 'n', values: [3] }], { n: '3' }), TokenError);
});

t.test('identity from a verified token', async (t) => {
  const issuer = issuerConfig('https://idp.example', { principal: 'agent:{{client_id}}' });
  const identity = identityFromToken({ issuer, issuerName: 'corp', header: { alg: 'ES256' }, claims: { client_id: 'ci-bot', scope: 'git:push', act: { sub: 'alice' } } });
  t.same(identity, { principal: 'agent:ci-bot', roles: ['agent'], sponsor: 'alice', issuer: 'corp', subject: '-', tokenId: '-' });
  const odd = identityFromToken({ issuer, issuerName: 'corp', header: { alg: 'ES256' }, claims: { client_id: 'x', sub: 'a b\u0000', jti: 'j'.repeat(300) } });
  t.equal(odd.subject, 'a?b?');
  t.equal(odd.tokenId.length, 128);
});
