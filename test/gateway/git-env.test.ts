import t from 'tap';
import { gitChildEnv, isValidGitProtocol, pushgateEnv } from '../../src/gateway/git-env.js';
import type { Identity } from '../../src/identity/index.js';

const identity: Identity = {
  principal: 'alice', roles: ['agent', 'reviewer'], source: 'certificate', keyId: 'alice\nlaptop', certSerial: '7',
  keyFingerprint: 'SHA256:abc', clientAddress: '192.0.2.1', sponsor: 'bob',
};

t.test('GIT_PROTOCOL', async (t) => {
  for (const ok of ['version=0', 'version=1', 'version=2']) t.ok(isValidGitProtocol(ok), ok);
  for (const bad of ['', 'version=3', 'version=2:x', 'version=2\n', 'VERSION=2', 'version=2 ']) t.notOk(isValidGitProtocol(bad), JSON.stringify(bad));
});

t.test('the child environment is built, not inherited', async (t) => {
  const base = { PATH: '/bin', HOME: '/home/git', LD_PRELOAD: '/evil.so', GIT_DIR: '/etc', NODE_OPTIONS: '--inspect', PUSHGATE_PRINCIPAL: 'spoof', LANG: 'C.UTF-8' };
  const env = gitChildEnv({ identity, session: 's-1', gitProtocol: 'version=2', base });
  t.same(env, {
    PATH: '/bin', HOME: '/home/git', LANG: 'C.UTF-8', GIT_PROTOCOL: 'version=2',
    PUSHGATE_PRINCIPAL: 'alice', PUSHGATE_ROLES: 'agent,reviewer', PUSHGATE_SESSION: 's-1', PUSHGATE_KEY_ID: 'alice\\nlaptop',
    PUSHGATE_CERT_SERIAL: '7', PUSHGATE_KEY_FINGERPRINT: 'SHA256:abc', PUSHGATE_CLIENT_ADDRESS: '192.0.2.1', PUSHGATE_SPONSOR: 'bob',
  });
  const bare = gitChildEnv({ identity: { principal: 'x', roles: [], source: 'local' }, session: 's', gitProtocol: 'version=9', base: {} });
  t.equal(bare.PATH, '/usr/local/bin:/usr/bin:/bin', 'a PATH even when the server has none');
  t.notOk('GIT_PROTOCOL' in bare, 'an invalid GIT_PROTOCOL is dropped');
  t.same(Object.keys(pushgateEnv({ principal: 'x', roles: [], source: 'local' }, 's')).sort(), ['PUSHGATE_PRINCIPAL', 'PUSHGATE_ROLES', 'PUSHGATE_SESSION']);
  t.ok(gitChildEnv({ identity, session: 's' }).PATH !== undefined, 'defaults to the process environment');
});
