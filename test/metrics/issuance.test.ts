import t from 'tap';
import { TestIdp } from '../identity/idp.js';
import { Agent, startServe } from '../login/harness.js';
import { scrape, scrapeUntil, valueOf } from './scrape.js';

const idp = await TestIdp.start(t);
const serve = await startServe(t, idp);

t.test('certificates issued through oidc-provider are counted by issuer, refusals by reason', async (t) => {
  const before = await scrape(serve.httpUrl);
  t.equal(before.status, 200);
  t.equal(valueOf(before.samples, 'pushgate_certificates_issued_total'), 0);

  const agent = new Agent(t, serve, 'ci');
  const login = await agent.loginAsClient(idp);
  t.equal(login.status, 0, login.stderr);

  const refused = await fetch(`${serve.httpUrl}/v1/certificates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
    body: JSON.stringify({ publicKey: 'ssh-ed25519 AAAA' }),
  });
  t.equal(refused.status, 401);

  const after = await scrapeUntil(serve.httpUrl, (s) => valueOf(s, 'pushgate_certificate_requests_refused_total') >= 1);
  t.equal(valueOf(after.samples, 'pushgate_certificates_issued_total', { issuer: 'corp' }), 1, 'one certificate, by the configured issuer name');
  t.equal(valueOf(after.samples, 'pushgate_certificate_requests_refused_total', { reason: 'token.malformed' }), 1, 'the refusal, by its audit code');
  const codes = serve.audit().filter((l) => l.type === 'cert.refuse').map((l) => l.code);
  t.same(codes, ['token.malformed'], 'the same code as the audit record');
  t.notOk(after.text.includes(idp.clients.agent.secret), 'no client secret in the metrics');
});
