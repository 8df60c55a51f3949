import t from 'tap';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Trust } from '../../src/gateway/trust.js';
import { describeOffer, principalsFor } from '../../src/shell/index.js';
import { pushgateCli } from '../helpers/git-server.js';
import { run } from '../helpers/tools.js';
import { ShellFixture } from './fixtures.js';

const fx = new ShellFixture(t);
const config = fx.config();
const trust = new Trust(config);

function request(key: { cert: string; plain: string }, user = 'git'): { user: string; type: string; key: string } {
  const [type, blob] = (key.cert || key.plain).split(' ');
  return { user, type: type!, key: blob! };
}

t.test('prints the principal pushgate will use, for the service user', async (t) => {
  const alice = fx.sign(fx.key('alice'), { principals: ['alice', 'alice-alt'] });
  const decision = principalsFor(request(alice), { config, trust });
  t.match(decision, { ok: true, principal: 'alice' });
  const sourceBound = fx.sign(fx.key('bound'), { principals: ['bound'], options: ['source-address=10.0.0.0/8'] });
  t.match(principalsFor(request(sourceBound), { config, trust }), { ok: true, principal: 'bound' }, 'source-address is left to sshd and pushgate shell: no address here');
});

t.test('prints nothing for what pushgate refuses', async (t) => {
  const otherCa = fx.key('other-ca');
  const alice = fx.sign(fx.key('alice2'), { principals: ['alice'] });
  const cases: Array<[string, ReturnType<typeof request>, string]> = [
    ['a plain key', request(fx.key('plain')), 'auth.plain-key'],
    ['a malformed certificate', { user: 'git', type: 'ssh-ed25519-cert-v01@openssh.com', key: 'AAAA' }, 'cert.malformed'],
    ['a type that does not match', { ...request(alice), type: 'ecdsa-sha2-nistp256-cert-v01@openssh.com' }, 'cert.malformed'],
    ['another login', request(alice, 'root'), 'auth.user'],
    ['an expired certificate', request(fx.sign(fx.key('old'), { validity: '-30m:-10m' })), 'cert.expired'],
    ['an untrusted CA', request(fx.sign(fx.key('foreign'), { ca: otherCa.path })), 'cert.untrusted-ca'],
    ['an unknown critical option', request(fx.sign(fx.key('crit'), { options: ['critical:what@example.com=1'] })), 'cert.critical-option'],
    ['an unusable principal', request(fx.sign(fx.key('spaced'), { principals: ['has space'] })), 'cert.principal'],
  ];
  for (const [name, req, code] of cases) {
    const decision = principalsFor(req, { config, trust });
    t.equal(decision.ok, false, name);
    if (!decision.ok) t.equal(decision.code, code, name);
  }
});

t.test('the KRL is pushgate\'s own, and an unusable one refuses everything', async (t) => {
  const krl = join(fx.dir, 'krl');
  writeFileSync(join(fx.dir, 'serials'), 'serial: 5\n');
  run('ssh-keygen', ['-q', '-k', '-f', krl, '-s', join(fx.server.dir, 'ca.pub'), join(fx.dir, 'serials')]);
  const withKrl = { ...config, ca: { ...config.ca, krl } };
  const krlTrust = new Trust(withKrl);
  const revoked = fx.sign(fx.key('revoked'), { serial: 5, keyId: 'r5' });
  const decision = principalsFor(request(revoked), { config: withKrl, trust: krlTrust });
  t.match(decision, { ok: false, code: 'cert.revoked' });
  t.match(describeOffer(decision.ok ? undefined : decision.certificate), { principal: 'alice', keyId: 'r5', certSerial: '5', keyFingerprint: /^SHA256:/ });
  t.same(describeOffer(undefined), {});
  writeFileSync(krl, 'garbage');
  t.match(principalsFor(request(fx.sign(fx.key('fine'))), { config: withKrl, trust: krlTrust }), { ok: false, code: 'krl.unusable' });
});

t.test('the CLI: pushgate shell principals', async (t) => {
  const alice = fx.sign(fx.key('cli-alice'), { principals: ['alice'], keyId: 'cli' });
  const { type, key } = request(alice);
  const ok = pushgateCli(['shell', 'principals', '--config', fx.server.configPath, 'git', type, key]);
  t.equal(ok.status, 0, ok.stderr);
  t.equal(ok.stdout, 'alice\n');
  const viaParent = pushgateCli(['shell', '--config', fx.server.configPath, 'principals', 'git', type, key]);
  t.equal(viaParent.stdout, 'alice\n', '--config before the subcommand works too');
  const refused = pushgateCli(['shell', 'principals', '--config', fx.server.configPath, 'root', type, key]);
  t.equal(refused.status, 1);
  t.equal(refused.stdout, '');
  t.match(refused.stderr, /auth\.user/);
  const audit = pushgateCli(['audit', 'show', '--config', fx.server.configPath, '--format', 'json']);
  t.match(audit.stdout, /AuthorizedPrincipalsCommand for root/, 'the refusal is audited');

  const broken = join(fx.dir, 'broken.yaml');
  writeFileSync(broken, `ca:\n  trusted: [${join(fx.dir, 'nope.pub')}]\n`);
  const noCa = pushgateCli(['shell', 'principals', '--config', broken, 'git', type, key]);
  t.equal(noCa.status, 2, noCa.stderr);
  t.equal(noCa.stdout, '');
});

t.test('the CLI: pushgate shell refuses without sshd\'s variables and runs with them', async (t) => {
  const bare = { PATH: process.env.PATH ?? '' };
  const refused = pushgateCli(['shell', '--config', fx.server.configPath], { env: bare });
  t.equal(refused.status, 1);
  t.match(refused.stderr, /^pushgate: SSH_USER_AUTH is not set/);
  t.equal(refused.stdout, '');
  const viaEnv = pushgateCli(['shell'], { env: { ...bare, PUSHGATE_CONFIG: fx.server.configPath } });
  t.equal(viaEnv.status, 1, '$PUSHGATE_CONFIG is used');
  t.match(viaEnv.stderr, /SSH_USER_AUTH is not set/);
  const noConfig = pushgateCli(['shell', '--config', join(fx.dir, 'missing.yaml')], { env: bare });
  t.equal(noConfig.status, 2);

  // The CLI logs in as whoever runs the test: a principal of that name is accepted, as a login name is by the gateway.
  const alice = fx.sign(fx.key('cli-run'), { principals: [userInfo().username] });
  const env = { ...fx.env(alice, "git-upload-pack 'team/app'"), PATH: process.env.PATH ?? '' };
  const ran = pushgateCli(['shell', '--config', fx.server.configPath], { env, input: '0000' });
  t.equal(ran.status, 0, ran.stderr);
  t.match(ran.stdout, /^[0-9a-f]{4}/, 'git\'s output is the command\'s stdout');
});
