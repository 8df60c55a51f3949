/**
 * Upstream mode in front of a smart-HTTPS server (git http-backend behind
 * nginx): pushgate forwards with a token in basic auth, trusting the server
 * only through the test CA in caFile; "directly upstream" is a developer's
 * push with a token of their own. Then `pushgate upstream check` against the
 * same server: it passes, and names an untrusted certificate and a refused
 * token as such.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pushgateCli } from '../helpers/git-server.js';
import { tempDir } from '../helpers/tools.js';
import { makeTestCa, startHttpsUpstream } from '../helpers/upstream-https.js';
import { upstreamScenarios } from '../helpers/upstream-scenarios.js';
import { serverFixture } from '../helpers/upstream-server.js';

// pushgate runs with a CA bundle in GIT_SSL_CAINFO, as on many hosts (git lets that variable
// override http.sslCAInfo): the upstream's caFile must still be what it trusts.
process.env.GIT_SSL_CAINFO = '/etc/ssl/certs/ca-certificates.crt';
const https = await startHttpsUpstream(t);
const gateway = await upstreamScenarios(t, serverFixture(t, 'https', https, { username: https.username, tokenFile: https.tokenFile, caFile: https.caFile }));

t.test('pushgate upstream check: passes against the server, and says what is wrong with a CA or a token', async (t) => {
  const { server } = gateway;
  const check = (): { status: number; out: string } => {
    const ran = pushgateCli(['upstream', 'check', 'up', '--repo', 'team/clone', '--write', '--config', server.configPath]);
    return { status: ran.status, out: `${ran.stdout}${ran.stderr}` };
  };
  const token = readFileSync(https.tokenFile, 'utf8').trim();
  const good = check();
  t.equal(good.status, 0, good.out);
  t.match(good.out, /up: ok write: a dry-run push to team\/clone was accepted/);

  const dir = tempDir(t, 'pushgate-check-');
  server.setConfig(['upstreams', 0, 'caFile'], makeTestCa(dir, 'another CA').cert);
  const untrusted = check();
  t.equal(untrusted.status, 1, untrusted.out);
  t.match(untrusted.out, /up: FAILED reach: the upstream's TLS certificate is not trusted: set caFile/);
  server.setConfig(['upstreams', 0, 'caFile'], https.caFile);

  const wrong = join(dir, 'wrong.token');
  writeFileSync(wrong, 'not-the-token\n', { mode: 0o600 });
  server.setConfig(['upstreams', 0, 'tokenFile'], wrong);
  const refused = check();
  t.equal(refused.status, 1, refused.out);
  t.match(refused.out, /up: FAILED reach: the upstream refused pushgate's credential/);
  server.setConfig(['upstreams', 0, 'tokenFile'], https.tokenFile);

  for (const out of [good.out, untrusted.out, refused.out]) t.notOk(out.includes(token), 'the token is in no output');
});
