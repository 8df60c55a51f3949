import t from 'tap';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { TOKEN_REFUSED_MESSAGE, type ResponseEvent } from '../../src/http/index.js';
import { rolesFromExtensions, sponsorFromExtensions } from '../../src/identity/index.js';
import { formatPublicKeyLine, generatePrivateKey, parseCertificateText, parsePublicKeyLine, stringOptionValue, verifyCertificate } from '../../src/sshcert/index.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { clientCredentialsToken, TestIdp } from '../identity/idp.js';
import { caPublicKey, issuerYaml, startIssuance } from './harness.js';

requireTool('ssh-keygen', 'openssh-client');
const idp = await TestIdp.start(t);
const stranger = await TestIdp.start(t);
const issuance = await startIssuance(t, [idp]);
const userKey = generatePrivateKey('ed25519', { comment: 'agent' });
const publicKey = formatPublicKeyLine(userKey.publicKey, 'agent');

t.test('a token and a public key buy a certificate', async (t) => {
  const token = await clientCredentialsToken(idp);
  const started = Date.now();
  const { status, json } = await issuance.post({ publicKey }, token);
  t.equal(status, 200, JSON.stringify(json));
  t.equal(json.principal, idp.clients.agent.id);
  t.same(json.roles, ['agent']);
  t.match(json.keyId, /^oidc:corp sub:agent-ci jti:\S+$/);
  t.match(json.serial, /^\d+$/);
  const validBefore = Date.parse(String(json.validBefore));
  t.ok(Math.abs(validBefore - started - 15 * 60_000) < 5000, 'ca.defaultTtl (15m) by default');

  const cert = parseCertificateText(String(json.certificate));
  const verified = verifyCertificate(cert, { trustedCAs: [parsePublicKeyLine(caPublicKey(issuance.server))], principal: idp.clients.agent.id });
  t.same(rolesFromExtensions(verified.extensions), ['agent']);
  t.equal(sponsorFromExtensions(verified.extensions), undefined);
  t.equal(cert.serial.toString(), json.serial);
  t.equal(cert.keyId, json.keyId);
  t.same(verified.extensions.map((e) => e.name), ['roles@pushgate'], 'no permit-* extensions: git needs none');
  t.equal(verified.sourceAddress, undefined, 'no source-address binding by default');

  const dir = tempDir(t);
  writeFileSync(join(dir, 'agent-cert.pub'), `${String(json.certificate)}\n`);
  const listed = run('ssh-keygen', ['-L', '-f', join(dir, 'agent-cert.pub')]);
  t.match(listed, /Type: ssh-ed25519-cert-v01@openssh.com user certificate/);
  t.match(listed, /extension:roles@pushgate|roles@pushgate/);

  const issued = issuance.audit().find((l) => l.type === 'cert.issue' && l.identity?.certSerial === json.serial);
  t.ok(issued, 'the issuance is audited');
  t.equal(issued?.identity?.principal, idp.clients.agent.id);
  t.equal(issued?.identity?.keyId, json.keyId);
  t.equal(issued?.identity?.clientAddress, '127.0.0.1');
  t.match(issued?.identity?.keyFingerprint, /^SHA256:/);
  t.match(issued?.reason, /issuer corp; 900s until/);
});

t.test('the requested ttl, capped by ca.maxTtl', async (t) => {
  const token = await clientCredentialsToken(idp);
  const short = await issuance.post({ publicKey, ttl: '90s' }, token);
  t.equal(short.status, 200);
  t.ok(Math.abs(Date.parse(String(short.json.validBefore)) - Date.now() - 90_000) < 5000);
  const seconds = await issuance.post({ publicKey, ttl: 120 }, token);
  t.ok(Math.abs(Date.parse(String(seconds.json.validBefore)) - Date.now() - 120_000) < 5000, 'a number is seconds');
  const long = await issuance.post({ publicKey, ttl: '30d' }, token);
  t.equal(long.status, 200);
  t.ok(Math.abs(Date.parse(String(long.json.validBefore)) - Date.now() - 3_600_000) < 5000, 'capped at 1h');
  for (const ttl of ['0s', 'soon', -5, 1.5, '500ms', true]) {
    const bad = await issuance.post({ publicKey, ttl }, token);
    t.equal(bad.status, 400, `ttl ${JSON.stringify(ttl)}`);
    t.equal((bad.json.error as { code: string }).code, 'request.ttl');
  }
});

t.test('bad tokens get one generic 401; the audit log says why', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const real = await clientCredentialsToken(idp);
  const [h, p] = real.split('.');
  const cases: [string, string | undefined, string][] = [
    ['expired', await idp.sign({ exp: now - 600, iat: now - 1200 }), 'token.expired'],
    ['wrong audience', await idp.sign({ aud: 'not-pushgate' }), 'token.audience'],
    ['tampered signature', `${h}.${p}.${Buffer.alloc(64, 7).toString('base64url')}`, 'token.signature'],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`, 'token.algorithm'],
    ['unknown issuer', await clientCredentialsToken(stranger), 'token.unknown-issuer'],
    ['garbage', 'x', 'token.malformed'],
    ['no token', undefined, 'token.malformed'],
  ];
  for (const [what, token, code] of cases) {
    const before = issuance.audit().length;
    const { status, json, headers } = await issuance.post({ publicKey }, token);
    t.equal(status, 401, what);
    t.same(json, { error: { code: 'token.invalid', message: TOKEN_REFUSED_MESSAGE } }, `${what}: nothing but the generic message`);
    t.match(headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
    const refusal = issuance.audit().slice(before).find((l) => l.type === 'cert.refuse');
    t.equal(refusal?.code, code, `${what}: audited as ${code}`);
    t.equal(refusal?.identity?.principal, '-');
    t.equal(refusal?.identity?.clientAddress, '127.0.0.1');
  }
  const basic = await fetch(`${issuance.url}/v1/certificates`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, body: JSON.stringify({ publicKey }) });
  t.equal(basic.status, 401, 'only Bearer');
});

t.test('bad requests with a good token are explained', async (t) => {
  const token = await clientCredentialsToken(idp);
  const cert = (await issuance.post({ publicKey }, token)).json.certificate;
  const cases: [unknown, string][] = [
    [{}, 'request.public-key'],
    [{ publicKey: 'ssh-ed25519 AAAA' }, 'request.public-key'],
    [{ publicKey: cert }, 'request.public-key'],
    [{ publicKey: `${publicKey}\n${publicKey}` }, 'request.public-key'],
    [{ publicKey: 'x'.repeat(9000) }, 'request.public-key'],
    [{ publicKey: 42 }, 'request.public-key'],
    [[publicKey], 'request.body'],
    [null, 'request.body'],
  ];
  for (const [body, code] of cases) {
    const { status, json } = await issuance.post(body, token);
    t.equal(status, 400, JSON.stringify(body).slice(0, 60));
    t.equal((json.error as { code: string }).code, code);
    const refusal = issuance.audit().filter((l) => l.type === 'cert.refuse').at(-1);
    t.equal(refusal?.code, code);
    t.equal(refusal?.identity?.principal, idp.clients.agent.id, 'the refusal names who asked');
  }
  const rsa = generatePrivateKey('rsa', { bits: 2048 });
  t.equal((await issuance.post({ publicKey: formatPublicKeyLine(rsa.publicKey) }, token)).status, 200, 'RSA keys are fine');
  const ecdsa = generatePrivateKey('ecdsa', { bits: 384 });
  t.equal((await issuance.post({ publicKey: formatPublicKeyLine(ecdsa.publicKey) }, token)).status, 200, 'ECDSA keys are fine');
});

t.test('transport-level refusals', async (t) => {
  const token = await clientCredentialsToken(idp);
  const notJson = await issuance.post('{"publicKey":', token);
  t.equal(notJson.status, 400);
  t.equal((notJson.json.error as { code: string }).code, 'request.body');
  const text = await fetch(`${issuance.url}/v1/certificates`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${token}` }, body: publicKey });
  t.equal(text.status, 415);
  const big = await issuance.post({ publicKey, padding: 'x'.repeat(20_000) }, token);
  t.equal(big.status, 413);
  const chunked = await fetch(`${issuance.url}/v1/certificates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: new ReadableStream({
      start(controller) {
        for (let i = 0; i < 40; i += 1) controller.enqueue(new TextEncoder().encode(' '.repeat(1024)));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);
  t.equal(chunked.status, 413, 'a body without a length is cut off too');
  const refusals = issuance.audit().filter((l) => l.type === 'cert.refuse').slice(-4).map((l) => l.code);
  t.same(refusals, ['request.body', 'request.content-type', 'request.too-large', 'request.too-large'], 'audited');

  const missing = await fetch(`${issuance.url}/v1/nothing`);
  t.equal(missing.status, 404);
  t.same(await missing.json(), { error: { code: 'not-found', message: 'no such resource: /v1/nothing' } });
  const wrongMethod = await fetch(`${issuance.url}/v1/certificates`);
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.headers.get('allow'), 'POST');
  t.equal((await fetch(`${issuance.url}/v1/ca`, { method: 'DELETE' })).status, 405);
  t.equal((await fetch(`${issuance.url}/healthz`, { method: 'POST' })).status, 405);
});

t.test('GET /v1/ca and /healthz', async (t) => {
  const ca = await fetch(`${issuance.url}/v1/ca`);
  t.equal(ca.status, 200);
  t.match(ca.headers.get('content-type'), /^text\/plain/);
  const text = await ca.text();
  t.equal(text, `${caPublicKey(issuance.server)}\n`);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'trusted'), text);
  t.match(run('ssh-keygen', ['-l', '-f', join(dir, 'trusted')]), /ED25519/, 'ssh-keygen reads it');
  const health = await fetch(`${issuance.url}/healthz`);
  t.same(await health.json(), { status: 'ok' });
});

t.test('source-address binding', async (t) => {
  const bound = await startIssuance(t, [idp], { configure: (s) => s.setConfig(['ca', 'sourceAddressBinding'], true) });
  const { json } = await bound.post({ publicKey }, await clientCredentialsToken(idp));
  const cert = parseCertificateText(String(json.certificate));
  const option = cert.criticalOptions.find((o) => o.name === 'source-address');
  t.equal(option && stringOptionValue(option), '127.0.0.1');
});

t.test('rate limit per client address', async (t) => {
  const limited = await startIssuance(t, [idp], { configure: (s) => s.setConfig(['http', 'rateLimit'], { requests: 3, window: '1m' }) });
  const token = await clientCredentialsToken(idp);
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 6; i += 1) {
    const answer = await limited.post({ publicKey }, token);
    statuses.push(answer.status);
    if (answer.status === 429) retryAfter = answer.headers.get('retry-after');
  }
  t.same(statuses, [200, 200, 200, 429, 429, 429]);
  t.match(retryAfter, /^\d+$/);
  t.equal((await fetch(`${limited.url}/v1/ca`)).status, 200, 'the CA route (no token) counts in the unauthenticated budget, not this one');
  t.equal((await fetch(`${limited.url}/healthz`)).status, 200, 'health checks are not limited');
  t.equal(limited.audit().filter((l) => l.code === 'rate-limited').length, 1, 'recorded once per window, not per request');
});

t.test('a server without a CA key does not issue', async (t) => {
  const verifyOnly = await startIssuance(t, [idp], { configure: (s) => s.setConfig(['ca', 'key'], null) });
  const { status, json } = await verifyOnly.post({ publicKey }, await clientCredentialsToken(idp));
  t.equal(status, 404);
  t.equal((json.error as { code: string }).code, 'issuance.disabled');
});

t.test('an unreachable issuer is a 503, not a 401', async (t) => {
  const gone = await TestIdp.start(t);
  const other = await startIssuance(t, [gone]);
  const token = await clientCredentialsToken(gone);
  await gone.close();
  const { status, json, headers } = await other.post({ publicKey }, token);
  t.equal(status, 503);
  t.equal((json.error as { code: string }).code, 'issuer.unavailable');
  t.equal(headers.get('retry-after'), '5');
});

t.test('no certificate leaves without its audit record', async (t) => {
  const failing = await startIssuance(t, [idp], {
    audit: { record: async (event) => { if (event.type === 'cert.issue') throw new Error('disk full'); } },
  });
  const { status, json } = await failing.post({ publicKey }, await clientCredentialsToken(idp));
  t.equal(status, 500);
  t.equal((json.error as { code: string }).code, 'issuance.failed');
  t.notMatch(JSON.stringify(json), /disk full/, 'the cause stays on the server');
});

t.test('a config reload takes effect', async (t) => {
  const reloading = await startIssuance(t, [idp]);
  const token = await clientCredentialsToken(idp);
  t.equal((await reloading.post({ publicKey }, token)).status, 200);
  reloading.server.setConfig(['identity', 'issuers'], [{ ...issuerYaml(idp, 'other'), issuer: 'https://other.example.test' }]);
  reloading.config = loadConfig(reloading.server.configPath);
  t.equal((await reloading.post({ publicKey }, token)).status, 401, 'the issuer is gone');
  t.equal(reloading.audit().at(-1)?.code, 'token.unknown-issuer');
  reloading.server.setConfig(['identity', 'issuers'], []);
  reloading.config = loadConfig(reloading.server.configPath);
  const none = await reloading.post({ publicKey }, token);
  t.equal(none.status, 404, 'without any issuer the route is not there');
  t.equal((none.json.error as { code: string }).code, 'issuance.disabled');
});

t.test('a client that goes away mid-body leaves nothing hanging', async (t) => {
  const token = await clientCredentialsToken(idp);
  const { hostname, port } = new URL(issuance.url);
  const before = issuance.audit().length;
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /v1/certificates HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer ${token}\r\ncontent-length: 500\r\n\r\n{"publicKey":`);
      setTimeout(() => socket.destroy(), 100);
    });
    socket.on('close', () => resolve());
  });
  for (let i = 0; i < 100 && issuance.audit().length === before; i += 1) await new Promise((r) => setTimeout(r, 20));
  t.equal(issuance.audit().slice(before).find((l) => l.type === 'cert.refuse')?.code, 'request.aborted');
});

t.test('other routes plug in, and every answer is observed', async (t) => {
  const seen: ResponseEvent[] = [];
  const extended = await startIssuance(t, [idp], {
    service: {
      routes: [{ method: 'GET', path: '/metrics', limited: false, handle: () => ({ status: 200, text: 'pushgate_up 1\n' }) }],
      onResponse: (event) => seen.push(event),
    },
  });
  const metrics = await fetch(`${extended.url}/metrics`);
  t.equal(await metrics.text(), 'pushgate_up 1\n');
  await fetch(`${extended.url}/nowhere/${'x'.repeat(10)}`);
  await extended.post({ publicKey }, 'bad');
  t.same(seen.map((e) => [e.method, e.route, e.status]), [['GET', '/metrics', 200], ['GET', 'other', 404], ['POST', '/v1/certificates', 401]]);
  t.ok(seen.every((e) => e.durationMs >= 0));
});

t.test('a broken route is a 500 without details', async (t) => {
  const broken = await startIssuance(t, [idp], {
    service: { routes: [{ method: 'GET', path: '/boom', limited: false, handle: () => { throw new Error('secret detail'); } }] },
  });
  const answer = await fetch(`${broken.url}/boom`);
  t.equal(answer.status, 500);
  t.notMatch(await answer.text(), /secret detail/);
});
