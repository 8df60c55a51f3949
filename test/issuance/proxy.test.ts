/**
 * The certificate service behind a reverse proxy (`http.trustedProxies`), and
 * separate rate-limit budgets for requests with and without a valid token.
 * Real HTTP with node's client (X-Forwarded-For set as a proxy would), a real
 * IdP (oidc-provider) and the real service.
 */
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { formatPublicKeyLine, generatePrivateKey, parseCertificateText, stringOptionValue } from '../../src/sshcert/index.js';
import { clientCredentialsToken, TestIdp } from '../identity/idp.js';
import { startIssuance, type Issuance } from './harness.js';

const idp = await TestIdp.start(t);
const stranger = await TestIdp.start(t);
const publicKey = formatPublicKeyLine(generatePrivateKey('ed25519', { comment: 'agent' }).publicKey, 'agent');

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

/** POST /v1/certificates with node's http client; `forwardedFor` is sent as one header line per entry. */
function post(service: Issuance, token: string | undefined, forwardedFor: string[] = [], path = '/v1/certificates'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ publicKey });
    const request = httpRequest(`${service.url}${path}`, { method: path === '/v1/ca' ? 'GET' : 'POST', agent: false });
    request.setHeader('content-type', 'application/json');
    if (token !== undefined) request.setHeader('authorization', `Bearer ${token}`);
    if (forwardedFor.length > 0) request.setHeader('x-forwarded-for', forwardedFor);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = { text };
        }
        resolve({ status: response.statusCode ?? 0, json });
      });
    });
    request.on('error', reject);
    request.end(path === '/v1/ca' ? undefined : body);
  });
}

function boundAddress(answer: Answer): string | undefined {
  const cert = parseCertificateText(String(answer.json.certificate));
  const option = cert.criticalOptions.find((o) => o.name === 'source-address');
  return option === undefined ? undefined : stringOptionValue(option);
}

t.test('without trustedProxies, X-Forwarded-For is ignored: the socket is the client', async (t) => {
  const direct = await startIssuance(t, [idp], { configure: (s) => s.setConfig(['ca', 'sourceAddressBinding'], true) });
  const answer = await post(direct, await clientCredentialsToken(idp), ['203.0.113.9']);
  t.equal(answer.status, 200, JSON.stringify(answer.json));
  t.equal(boundAddress(answer), '127.0.0.1', 'a client cannot name its own address');
});

t.test('behind a trusted proxy: the right-most untrusted hop is the client', async (t) => {
  const proxied = await startIssuance(t, [idp], {
    configure: (s) => {
      s.setConfig(['ca', 'sourceAddressBinding'], true);
      s.setConfig(['http', 'trustedProxies'], ['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
    },
  });
  const token = await clientCredentialsToken(idp);
  const cases: Array<{ name: string; xff: string[]; client: string }> = [
    { name: 'one hop', xff: ['203.0.113.9'], client: '203.0.113.9' },
    { name: 'a spoofed left-most value is skipped', xff: ['198.51.100.1, 203.0.113.10'], client: '203.0.113.10' },
    { name: 'trusted inner proxies are walked through', xff: ['203.0.113.11, 10.1.2.3, 10.9.9.9'], client: '203.0.113.11' },
    { name: 'several header lines read as one list', xff: ['198.51.100.2', '203.0.113.12', '10.1.2.3'], client: '203.0.113.12' },
    { name: 'a hop with a port', xff: ['203.0.113.13:4711'], client: '203.0.113.13' },
    { name: 'IPv6 hops', xff: ['2001:db8::7, fd00::1'], client: '2001:db8::7' },
    { name: 'garbage: the proxy itself, never a value further left', xff: ['203.0.113.14, unknown'], client: '127.0.0.1' },
    { name: 'an empty hop: the proxy itself', xff: ['203.0.113.15, '], client: '127.0.0.1' },
    { name: 'no header: the proxy itself', xff: [], client: '127.0.0.1' },
  ];
  for (const { name, xff, client } of cases) {
    const answer = await post(proxied, token, xff);
    t.equal(answer.status, 200, `${name}: ${JSON.stringify(answer.json)}`);
    t.equal(boundAddress(answer), client, `${name}: the certificate is bound to ${client}`);
    const record = proxied.audit().filter((l) => l.type === 'cert.issue').at(-1);
    t.equal(record?.identity?.clientAddress, client, `${name}: the audit record names ${client}`);
    if (client !== '127.0.0.1') t.match(record?.reason, /via trusted proxy 127\.0\.0\.1/, `${name}: and the proxy`);
  }
});

t.test('behind a trusted proxy each client has its own budget', async (t) => {
  const proxied = await startIssuance(t, [idp], {
    configure: (s) => {
      s.setConfig(['http', 'trustedProxies'], ['127.0.0.1']);
      s.setConfig(['http', 'rateLimit'], { requests: 2, window: '1m', unauthenticated: 2 });
    },
  });
  const token = await clientCredentialsToken(idp);
  const a = [];
  for (let i = 0; i < 3; i++) a.push((await post(proxied, token, ['203.0.113.20'])).status);
  t.same(a, [200, 200, 429], 'client A spends its own budget');
  t.equal((await post(proxied, token, ['203.0.113.21'])).status, 200, 'client B behind the same proxy is not affected');
  t.equal((await post(proxied, token, ['198.51.100.9, 203.0.113.20'])).status, 429, 'A cannot escape by prepending another address');
});

t.test('a flood of bad tokens does not starve valid ones, nor the audit log', async (t) => {
  const limited = await startIssuance(t, [idp], {
    configure: (s) => s.setConfig(['http', 'rateLimit'], { requests: 3, window: '1m', unauthenticated: 5 }),
  });
  const forged = await clientCredentialsToken(stranger);
  const crafted = await idp.sign({ sub: 'x', exp: Math.floor(Date.now() / 1000) - 600 });
  const bad = [undefined, 'not-a-jwt', forged, crafted];
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) statuses.push((await post(limited, bad[i % bad.length])).status);
  t.same(statuses.slice(0, 5), [401, 401, 401, 401, 401], 'bad tokens are refused while their budget lasts');
  t.ok(statuses.slice(5).every((s) => s === 429), 'then rate-limited');
  t.equal((await post(limited, undefined, [], '/v1/ca')).status, 429, 'GET /v1/ca (no token) counts in the same unauthenticated budget');

  const token = await clientCredentialsToken(idp);
  const valid: number[] = [];
  for (let i = 0; i < 4; i++) valid.push((await post(limited, token)).status);
  t.same(valid, [200, 200, 200, 429], 'valid tokens keep their full budget, and have a limit of their own');
  t.equal((await post(limited, 'still-bad')).status, 429, 'bad tokens stay limited');

  const refusals = limited.audit().filter((l) => l.type === 'cert.refuse');
  t.equal(refusals.filter((l) => l.code !== 'rate-limited').length, 5, 'one record per refused token within the budget');
  t.equal(refusals.filter((l) => l.code === 'rate-limited').length, 2, 'then one per budget and window, not one per request');
});
