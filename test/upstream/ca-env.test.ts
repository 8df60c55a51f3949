/**
 * git lets GIT_SSL_CAINFO, GIT_SSL_CAPATH and GIT_SSL_NO_VERIFY in the
 * environment override http.sslCAInfo and http.sslVerify. Whatever pushgate's
 * own environment carries (a system CA bundle, a verify switch left by a
 * wrapper), the git processes that talk to an upstream trust exactly its
 * caFile, and always verify. (test/upstream/https.test.ts shows the same end
 * to end: pushgate runs there with the system bundle in GIT_SSL_CAINFO.)
 */
import t from 'tap';
import type { UpstreamConfig } from '../../src/config/types.js';
import { upstreamEnv } from '../../src/upstream/credentials.js';

const https: UpstreamConfig = {
  name: 'git', repositories: 'team/**', url: 'https://git.example.test/{repo}.git', username: 'pushgate', tokenFile: '/etc/pushgate/token',
  fetchInterval: 5000, serveStale: true, timeout: 30_000,
};
const inherited = { PATH: '/usr/bin', GIT_SSL_CAINFO: '/etc/ssl/certs/ca-certificates.crt', GIT_SSL_CAPATH: '/etc/ssl/certs', GIT_SSL_NO_VERIFY: '1' };

t.test('with caFile: the CA variables name caFile alone, and verification cannot be switched off', async (t) => {
  const env = upstreamEnv({ ...https, caFile: '/etc/pushgate/upstream-ca.pem' }, inherited);
  t.equal(env.GIT_SSL_CAINFO, '/etc/pushgate/upstream-ca.pem');
  t.notOk('GIT_SSL_CAPATH' in env, 'no directory of other CAs');
  t.notOk('GIT_SSL_NO_VERIFY' in env);
  t.equal(env.PATH, '/usr/bin');
});

t.test('without caFile: the system trust store stays, verification still cannot be switched off', async (t) => {
  const env = upstreamEnv(https, inherited);
  t.equal(env.GIT_SSL_CAINFO, inherited.GIT_SSL_CAINFO);
  t.notOk('GIT_SSL_NO_VERIFY' in env);
});
