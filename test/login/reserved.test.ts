/**
 * An identity provider cannot hand out the principals pushgate reserves for
 * itself: a token whose claims map to `local:…` or `break-glass:…` (as the
 * principal or as the sponsor) buys no certificate.
 */
import t from 'tap';
import { formatPublicKeyLine, generatePrivateKey } from '../../src/sshcert/index.js';
import { TestIdp } from '../identity/idp.js';
import { Agent, sleep, startServe } from './harness.js';

const idp = await TestIdp.start(t);
const serve = await startServe(t, idp, { repos: ['team/app'] });
const publicKey = formatPublicKeyLine(generatePrivateKey('ed25519', { comment: 'agent' }).publicKey, 'agent');

async function post(token: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${serve.httpUrl}/v1/certificates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ publicKey }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

t.test('device flow at the real IdP: the account local:root gets no certificate', async (t) => {
  const agent = new Agent(t, serve, 'localroot');
  const login = agent.loginAsync(t, ['--server', serve.httpUrl, '--issuer', idp.issuer, '--client-id', idp.clients.device.id, '--device', '--scope', 'git:review']);
  let url: string | undefined;
  for (let i = 0; i < 600 && url === undefined; i += 1) {
    url = /open (http:\/\/\S+user_code=\S+)/.exec(login.stderr())?.[1];
    if (url === undefined) await sleep(50);
  }
  t.ok(url, `the verification URL is printed:\n${login.stderr()}`);
  await idp.approveDevice(url!, 'local:root');
  const done = await login.done;
  t.not(done.status, 0, 'the login fails');
  t.notMatch(done.stdout, /logged in as/);
  const refusal = serve.audit().find((l) => l.type === 'cert.refuse' && l.code === 'token.reserved-principal');
  t.ok(refusal, 'the refusal is audited with its reason');
  t.match(refusal?.reason, /local:root/);
  t.notOk(serve.audit().some((l) => l.type === 'cert.issue' && /local/i.test(l.identity?.principal ?? '')), 'nothing was issued');
});

const variants: Array<{ name: string; claims: Record<string, unknown> }> = [
  { name: 'sub local:root', claims: { sub: 'local:root', scope: 'git:review' } },
  { name: 'sub LOCAL:root', claims: { sub: 'LOCAL:root', scope: 'git:review' } },
  { name: 'sub with a fullwidth colon', claims: { sub: 'local\uff1aroot', scope: 'git:review' } },
  { name: 'sub with a leading space', claims: { sub: ' local:root', scope: 'git:review' } },
  { name: 'sub break-glass:…', claims: { sub: 'break-glass:SHA256:abc', scope: 'git:review' } },
  { name: 'a sponsor (act.sub) local:admin', claims: { sub: 'agent-7', act: { sub: 'local:admin' }, scope: 'git:push' } },
];

for (const { name, claims } of variants) {
  t.test(`a token signed by the IdP with ${name} is refused`, async (t) => {
    const count = (): number => serve.audit().filter((l) => l.type === 'cert.refuse' && l.code === 'token.reserved-principal').length;
    const before = count();
    const { status, body } = await post(await idp.sign(claims));
    t.equal(status, 401, JSON.stringify(body));
    t.match(body, { error: { code: 'token.invalid' } });
    t.equal(count(), before + 1, 'refused as a reserved principal, and audited');
  });
}

t.test('the same IdP key and claims otherwise buy a certificate (the baseline)', async (t) => {
  const { status, body } = await post(await idp.sign({ sub: 'agent-7', act: { sub: 'alice' }, scope: 'git:push' }));
  t.equal(status, 200, JSON.stringify(body));
  t.equal(body.principal, 'agent-7');
  t.equal(body.sponsor, 'alice');
});
