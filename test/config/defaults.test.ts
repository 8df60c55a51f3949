import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  DEFAULT_CONFIG_PATH, defaultConfigYaml, exampleConfigYaml, parseConfig, SSH_CIPHERS, type PushgateConfig,
} from '../../src/config/index.js';

const examplePath = new URL('../../../config/pushgate.example.yaml', import.meta.url).pathname;

t.test('an empty file is a complete, working config', async (t) => {
  for (const text of ['', '{}\n', '# only a comment\n']) {
    const config = parseConfig(text, { baseDir: '/etc/pushgate' });
    t.equal(config.reposRoot, '/srv/git');
    t.equal(config.stateDir, '/var/lib/pushgate');
    t.equal(config.serviceUser, 'git');
    t.same(config.ssh.listen, { host: '127.0.0.1', port: 2222 });
    t.same(config.ssh.hostKeys, ['/etc/pushgate/host_ed25519']);
    t.equal(config.ssh.ciphers[0], 'aes128-gcm@openssh.com', 'AES-GCM first');
    t.same(config.ssh.ciphers, [...SSH_CIPHERS]);
    t.equal(config.ssh.breakGlassKeys, null, 'break-glass keys are off');
    t.equal(config.ssh.limits.authTimeout, 20_000);
    t.same(config.ssh.limits.maxStartups, { start: 256, rate: 30, full: 512 });
    t.equal(config.ssh.limits.identificationTimeout, 10_000);
    t.ok(config.ssh.limits.maxConnectionsPerAddress <= config.ssh.limits.maxConnections);
    t.same(config.http.listen, { host: '127.0.0.1', port: 8080 });
    t.equal(config.ca.key, '/etc/pushgate/ca');
    t.same(config.ca.trusted, [{ kind: 'file', path: '/etc/pushgate/ca.pub' }]);
    t.equal(config.ca.clockSkew, 30_000);
    t.equal(config.ca.defaultTtl, 15 * 60_000);
    t.ok(config.ca.maxTtl >= config.ca.defaultTtl);
    t.same(config.identity.issuers, []);
    t.same(config.access, [{ repos: ['**'], principals: [], roles: ['agent', 'reviewer'], permissions: ['read', 'write'] }]);
    t.equal(config.policy.mode, 'enforce');
    t.same(config.policy.protect, [{
      refs: ['refs/heads/main', 'refs/heads/master', 'refs/heads/release/**', 'refs/tags/**'],
      roles: [], deny: ['delete', 'force-push'], park: [],
    }]);
    t.same(config.policy.secrets, { enabled: true, action: 'deny' });
    const sensitive = config.policy.paths.flatMap((group) => group.patterns);
    for (const path of ['.github/workflows/**', '.gitlab-ci.yml', 'CODEOWNERS', '**/*.tf', '.pushgate/**']) t.ok(sensitive.includes(path), `${path} is sensitive`);
    t.ok(config.policy.paths.every((group) => group.action === 'park'), 'sensitive paths park');
    t.equal(config.policy.limits.blobSize, 5 * 1024 * 1024);
    t.equal(config.policy.reviewPushOption, 'review');
    t.same(config.policy.scan, { timeBudget: 60_000, maxBytes: 1024 ** 3, onFailure: 'park' });
    t.equal(config.queue.approvals, 1);
    t.equal(config.queue.expiry, 7 * 86_400_000);
    t.same(config.queue.reviewerRoles, ['reviewer']);
    t.same(config.queue.notify, { events: ['park', 'approve', 'reject', 'expire', 'stale'], webhook: null, command: null });
    t.equal(config.audit.file, '/var/lib/pushgate/audit/audit.log');
    t.same(config.audit.transports, []);
    t.equal(config.configPath, null);
  }
});

t.test('defaultConfigYaml() validates and says exactly what the built-in defaults are', async (t) => {
  const written = parseConfig(defaultConfigYaml(), { baseDir: '/srv/demo' });
  const implied = parseConfig('reposRoot: repos\nstateDir: state\n', { baseDir: '/srv/demo' });
  t.same(written, implied);
  t.strictSame(written, implied);
  t.equal(written.reposRoot, '/srv/demo/repos');
  t.equal(written.stateDir, '/srv/demo/state');
  t.equal(written.ca.key, '/srv/demo/ca');
  t.same(written.ca.trusted, [{ kind: 'file', path: '/srv/demo/ca.pub' }]);
  t.same(written.ssh.hostKeys, ['/srv/demo/host_ed25519']);
  t.equal(written.audit.file, '/srv/demo/state/audit/audit.log');
});

t.test('defaultConfigYaml() documents every section', async (t) => {
  const text = defaultConfigYaml();
  for (const section of ['reposRoot', 'stateDir', 'serviceUser', 'ssh', 'http', 'ca', 'identity', 'access', 'policy', 'queue', 'audit', 'log']) {
    t.match(text, new RegExp(`^${section}:`, 'm'), `${section} is written`);
  }
  const comments = text.split('\n').filter((line) => line.trim().startsWith('#')).length;
  t.ok(comments > 60, 'explained by comments');
});

t.test('defaultConfigYaml() takes the listen addresses and paths of init', async (t) => {
  const text = defaultConfigYaml({ sshListen: '[::1]:0', httpListen: '0.0.0.0:9000', reposRoot: 'my repos', stateDir: '/var/x', caKey: 'keys/ca', hostKey: 'keys/host' });
  const config = parseConfig(text, { baseDir: '/d' });
  t.same(config.ssh.listen, { host: '::1', port: 0 });
  t.same(config.http.listen, { host: '0.0.0.0', port: 9000 });
  t.equal(config.reposRoot, '/d/my repos');
  t.equal(config.stateDir, '/var/x');
  t.equal(config.ca.key, '/d/keys/ca');
  t.same(config.ca.trusted, [{ kind: 'file', path: '/d/keys/ca.pub' }]);
  t.same(config.ssh.hostKeys, ['/d/keys/host']);
  t.throws(() => defaultConfigYaml({ sshListen: 'localhost' }), /invalid ssh listen address "localhost"/);
  t.throws(() => defaultConfigYaml({ httpListen: '1.2.3.4:99999' }), /invalid http listen address/);
});

t.test('config/pushgate.example.yaml validates and is the generated example', async (t) => {
  const text = readFileSync(examplePath, 'utf8');
  t.equal(text, exampleConfigYaml(), 'regenerate with: node -e "import(\'./build/src/config/index.js\').then(m => process.stdout.write(m.exampleConfigYaml()))" > config/pushgate.example.yaml');
  const config: PushgateConfig = parseConfig(text, { file: DEFAULT_CONFIG_PATH });
  t.equal(config.configPath, DEFAULT_CONFIG_PATH);
  t.equal(config.reposRoot, '/srv/git');
  t.equal(config.ca.key, '/etc/pushgate/ca');
  t.strictSame(config, parseConfig('', { file: DEFAULT_CONFIG_PATH }), 'the example spells out the defaults of an installed server');
});
