import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  checkRuleIds, ConfigError, ConfigSource, DEFAULT_CONFIG_PATH, findConfigPath, loadConfig, parseConfig, ruleIdMatches,
} from '../../src/config/index.js';
import { tempDir } from '../helpers/tools.js';

function refusal(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

t.test('findConfigPath: --config, then $PUSHGATE_CONFIG, then /etc/pushgate/pushgate.yaml', async (t) => {
  t.equal(findConfigPath('/a/p.yaml', { PUSHGATE_CONFIG: '/b/p.yaml' }), '/a/p.yaml');
  t.equal(findConfigPath('rel/p.yaml', {}), join(process.cwd(), 'rel/p.yaml'), 'made absolute');
  t.equal(findConfigPath(undefined, { PUSHGATE_CONFIG: '/b/p.yaml' }), '/b/p.yaml');
  t.equal(findConfigPath('', { PUSHGATE_CONFIG: '/b/p.yaml' }), '/b/p.yaml', 'an empty --config is not given');
  t.equal(findConfigPath(undefined, { PUSHGATE_CONFIG: '' }), DEFAULT_CONFIG_PATH);
  t.equal(findConfigPath(undefined, {}), DEFAULT_CONFIG_PATH);
  t.equal(DEFAULT_CONFIG_PATH, '/etc/pushgate/pushgate.yaml');
  const saved = process.env.PUSHGATE_CONFIG;
  process.env.PUSHGATE_CONFIG = '/from/env.yaml';
  t.teardown(() => {
    if (saved === undefined) delete process.env.PUSHGATE_CONFIG;
    else process.env.PUSHGATE_CONFIG = saved;
  });
  t.equal(findConfigPath(), '/from/env.yaml', 'reads the process environment by default');
});

t.test('loadConfig resolves relative paths against the config file directory', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'etc'));
  const file = join(dir, 'etc', 'pushgate.yaml');
  writeFileSync(file, [
    'reposRoot: ../repos',
    'stateDir: state',
    'ssh:',
    '  hostKeys: [keys/host_ed25519, /abs/host_rsa]',
    '  breakGlassKeys: break_glass_keys',
    'ca:',
    '  key: keys/ca',
    '  krl: revoked.krl',
    'queue:',
    '  notify:',
    '    webhook: { url: "https://hooks.example.com/p", secretFile: webhook.key }',
    '    command: { run: [./notify.sh, --quiet] }',
    'audit:',
    '  hmacKeyFile: audit.key',
    'log:',
    '  file: logs/pushgate.log',
  ].join('\n'));
  const etc = join(dir, 'etc');
  const config = loadConfig(file);
  t.equal(config.configPath, file);
  t.equal(config.reposRoot, join(dir, 'repos'));
  t.equal(config.stateDir, join(etc, 'state'));
  t.same(config.ssh.hostKeys, [join(etc, 'keys/host_ed25519'), '/abs/host_rsa']);
  t.equal(config.ssh.breakGlassKeys, join(etc, 'break_glass_keys'));
  t.equal(config.ca.key, join(etc, 'keys/ca'));
  t.same(config.ca.trusted, [{ kind: 'file', path: join(etc, 'keys/ca.pub') }], 'trusted defaults to the public half of the signing key');
  t.equal(config.ca.krl, join(etc, 'revoked.krl'));
  t.equal(config.queue.notify.webhook?.secretFile, join(etc, 'webhook.key'));
  t.same(config.queue.notify.command?.run, [join(etc, 'notify.sh'), '--quiet']);
  t.equal(config.audit.file, join(etc, 'state/audit/audit.log'), 'audit file follows stateDir');
  t.equal(config.audit.hmacKeyFile, join(etc, 'audit.key'));
  t.equal(config.log.file, join(etc, 'logs/pushgate.log'));

  const explicit = parseConfig('audit:\n  file: /var/log/pushgate/audit.log\nqueue:\n  notify:\n    command: { run: notify-send }', { baseDir: '/x' });
  t.equal(explicit.audit.file, '/var/log/pushgate/audit.log');
  t.same(explicit.queue.notify.command, { run: ['notify-send'], timeout: 10_000 }, 'a bare program name is left for PATH');
  t.equal(parseConfig('reposRoot: r').reposRoot, join(process.cwd(), 'r'), 'text without a file resolves against the working directory');
});

t.test('settings that round out the shape', async (t) => {
  const config = parseConfig([
    'identity:',
    '  issuers:',
    '    - issuer: http://127.0.0.1:4000/oidc',
    '      audience: pushgate',
    '      principal: "ci:{{ repository }}"',
    '      rolesClaim: groups',
    '      roleMap: { bots: agent, admins: [reviewer, admin] }',
    '      requiredClaims: [sub, email]',
    '    - issuer: https://token.actions.githubusercontent.com',
    '      name: github',
    '      audience: [pushgate, https://git.example.com]',
    '      requiredClaims: { repository_owner: [acme, acme-bots], email_verified: true }',
    'access:',
    '  - repos: ["/team/app.git", "~/docs/*"]',
    '    principals: [alice]',
    '    permissions: [read]',
    'policy:',
    '  rules:',
    '    "secret.*": audit',
    '    secret.jwt: off',
    '    path.ci-workflow: { action: deny, mode: enforce }',
    'queue:',
    '  rules:',
    '    - refs: ["refs/heads/release/**"]',
    '      approvals: 2',
  ].join('\n'));
  const [local, github] = config.identity.issuers;
  t.equal(local?.name, '127.0.0.1:4000');
  t.same(local?.audience, ['pushgate']);
  t.same(local?.algorithms, ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']);
  t.same(local?.roleMap, { bots: ['agent'], admins: ['reviewer', 'admin'] });
  t.same(local?.requiredClaims, [{ claim: 'sub', values: null }, { claim: 'email', values: null }]);
  t.equal(local?.sponsorClaim, 'act.sub');
  t.equal(github?.name, 'github');
  t.same(github?.audience, ['pushgate', 'https://git.example.com']);
  t.same(github?.requiredClaims, [{ claim: 'repository_owner', values: ['acme', 'acme-bots'] }, { claim: 'email_verified', values: [true] }]);
  t.same(config.access[0]?.repos, ['team/app', 'docs/*'], 'repository patterns are normalised');
  t.same(config.policy.rules, [
    { rule: 'secret.*', mode: 'audit' },
    { rule: 'secret.jwt', action: 'off' },
    { rule: 'path.ci-workflow', action: 'deny', mode: 'enforce' },
  ], 'in file order');
  t.same(config.queue.rules, [{ repos: ['**'], refs: ['refs/heads/release/**'], approvals: 2, reviewerRoles: null }]);
});

t.test('loadConfig never returns a half-valid config', async (t) => {
  const dir = tempDir(t);
  const missing = refusal(() => loadConfig(join(dir, 'nope.yaml')));
  t.equal(missing.code, 'config.not-found');
  t.equal(missing.file, join(dir, 'nope.yaml'));
  t.match(missing.format(), /nope\.yaml: no such file: create one with `pushgate init --dir DIR`/);

  const unreadable = refusal(() => loadConfig(dir));
  t.equal(unreadable.code, 'config.unreadable');
  t.match(unreadable.problems[0]?.message, /^cannot read: /);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'policy:\n  mode: maybe\n');
  const invalid = refusal(() => loadConfig(bad));
  t.equal(invalid.code, 'config.invalid');
  t.equal(invalid.format(), `${bad}:2:3: policy.mode: expected one of enforce, audit, got "maybe"`);

  const saved = process.env.PUSHGATE_CONFIG;
  process.env.PUSHGATE_CONFIG = bad;
  t.teardown(() => {
    if (saved === undefined) delete process.env.PUSHGATE_CONFIG;
    else process.env.PUSHGATE_CONFIG = saved;
  });
  t.equal(refusal(() => loadConfig()).file, bad, 'without a path, the usual places are searched');
});

t.test('ConfigSource keeps the last good config when a reload fails', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'pushgate.yaml');
  writeFileSync(file, 'policy:\n  mode: audit\n');
  const source = new ConfigSource(file);
  t.equal(source.path, file);
  t.equal(source.current.policy.mode, 'audit');

  writeFileSync(file, 'policy:\n  mode: enforce\n');
  t.equal(source.reload(), null);
  t.equal(source.current.policy.mode, 'enforce');

  writeFileSync(file, 'policy:\n  mode: [\n');
  const failed = source.reload();
  t.equal(failed?.code, 'config.syntax');
  t.equal(source.current.policy.mode, 'enforce', 'still the previous config');

  t.throws(() => new ConfigSource(join(dir, 'missing.yaml')), { name: 'ConfigError', code: 'config.not-found' });

  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o000);
    t.equal(source.reload()?.code, 'config.unreadable');
  }
});

t.test('rule ids in policy.rules are checked against the rules that exist', async (t) => {
  const known = ['secret.aws-access-key', 'secret.github-token', 'path.ci-workflow', 'limit.blob-size'];
  t.ok(ruleIdMatches('secret.*', 'secret.aws-access-key'));
  t.ok(ruleIdMatches('*', 'limit.blob-size'));
  t.ok(ruleIdMatches('limit.blob-size', 'limit.blob-size'));
  t.notOk(ruleIdMatches('secret.*', 'secretx'));
  t.notOk(ruleIdMatches('limit.blob', 'limit.blob-size'));
  t.notOk(ruleIdMatches('limit.blob.size', 'limit.blob-size'), 'dots are literal');
  const config = parseConfig('policy:\n  rules:\n    "secret.*": audit\n    secret.github-tokn: off\n    nothing.*: off\n');
  t.same(checkRuleIds(config, known), [
    { path: 'policy.rules["secret.github-tokn"]', message: 'matches no rule (did you mean "secret.github-token"?)' },
    { path: 'policy.rules["nothing.*"]', message: 'matches no rule' },
  ]);
});
