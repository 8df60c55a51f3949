/**
 * The review console in upstream mode, in real headless Chromium against a
 * real `pushgate serve` in front of a file:// upstream: a push parked by a
 * real push through the gateway is not upstream until a reviewer approves it
 * in the console; the approval forwards it upstream (same commit id) and then
 * applies it to the mirror, as `pushgate queue approve` does.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startDevIdp } from '../../src/dev/idp.js';
import { withoutProviderWarnings } from '../../src/dev/quiet.js';
import { issuerEntry } from '../../src/dev/setup.js';
import { SshUser, startGateway } from '../gateway/harness.js';
import { freePort } from '../helpers/tools.js';
import { upstreamRepos } from '../helpers/upstream-sshd.js';
import { refsOf } from '../helpers/upstream-scenarios.js';
import { flash, launchChromium, login, newSeen } from './browser.js';

t.test('a console approval lands the parked push upstream, then in the mirror', async (t) => {
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}/console/`;
  const idp = await withoutProviderWarnings(() => startDevIdp({ consoleRedirectUrl: `${base}callback` }));
  t.teardown(() => idp.close());
  const repos = upstreamRepos(t);
  repos.create('team/app');
  const gateway = await startGateway(t, {
    configure: (server) => {
      const secretFile = join(server.dir, 'console-client.secret');
      writeFileSync(secretFile, `${idp.clients.console!.secret}\n`, { mode: 0o600 });
      server.setConfig(['http', 'listen'], `127.0.0.1:${httpPort}`);
      server.setConfig(['identity', 'issuers'], [issuerEntry(idp.issuer)]);
      server.setConfig(['upstreams'], [{ name: 'up', repositories: 'team/**', url: `file://${repos.root}/{repo}.git` }]);
      server.setConfig(['console'], {
        enabled: true, issuer: idp.issuer, clientId: idp.clients.console!.id, clientSecretFile: secretFile,
        redirectUrl: `${base}callback`, scopes: ['openid', 'git:push', 'git:review'], resource: 'urn:pushgate:api',
        attestations: ['I read every changed file'],
      });
    },
  });
  const agent = new SshUser(gateway, 'demo-agent').sign({ roles: ['agent'] });
  const url = `ssh://git@127.0.0.1:${gateway.port}/team/app.git`;
  const work = join(gateway.dir, 'agent-work');
  const cloned = agent.git(['clone', '-q', url, work]);
  t.equal(cloned.status, 0, cloned.stderr);
  // A CI workflow change on main parks under the default policy.
  mkdirSync(join(work, '.github', 'workflows'), { recursive: true });
  writeFileSync(join(work, '.github', 'workflows', 'ci.yml'), 'on: push\n');
  agent.git(['add', '-A'], { cwd: work });
  agent.git(['-c', 'user.name=agent', '-c', 'user.email=agent@example.test', 'commit', '-q', '-m', 'Add CI'], { cwd: work });
  const tip = agent.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim();
  const upstreamBefore = repos.refs('team/app')['refs/heads/main'];
  const pushed = agent.git(['push', 'origin', 'main'], { cwd: work });
  const id = /"queueId":"([a-z0-9]+)"/.exec(pushed.stderr)?.[1];
  t.ok(id, `parked: ${pushed.stderr}`);
  t.equal(repos.refs('team/app')['refs/heads/main'], upstreamBefore, 'nothing upstream before approval');

  const browser = await launchChromium(t);
  const seen = newSeen();
  const page = await login(await browser.createBrowserContext(), { base, idp, seen }, 'alice');
  await page.goto(`${base}entry/${id}?repo=team/app`);
  for (const box of await page.$$('#approve-form input[name=attest]')) await box.click();
  await Promise.all([page.waitForNavigation(), page.click('#approve')]);
  const message = await flash(page);
  t.match(message, 'approved and applied', `the console's answer: ${message}`);
  t.equal(repos.refs('team/app')['refs/heads/main'], tip, 'the approved push is upstream, with the same commit id');
  t.equal(refsOf(join(gateway.server.reposRoot, 'team/app.git'))['refs/heads/main'], tip, 'and in the mirror');
});
