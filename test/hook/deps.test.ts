/**
 * Dependency changes (policy.deps) through real pushes: npm lockfiles made
 * by npm itself from the registry, hand-written manifests of the other
 * ecosystems; added, bumped, removed and re-sourced packages; audit mode,
 * scoping by ref and by role, a manifest that does not parse.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { join } from 'node:path';
import t from 'tap';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';

requireTool('npm', 'npm');
const server = testServer(t);
const remote = server.createRepo('team/deps');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0, 'initial push allowed');

/** package.json and the package-lock.json npm makes for it (resolved URLs kept, as most projects have them). */
function npmLock(dependencies: Record<string, string>): { pkg: string; lock: string } {
  const dir = tempDir(t, 'pushgate-npm-');
  const pkg = `${JSON.stringify({ name: 'app', version: '1.0.0', dependencies }, null, 2)}\n`;
  run('sh', ['-c', `cat > package.json`], { cwd: dir, input: pkg });
  run('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--omit-lockfile-registry-resolved=false'], { cwd: dir, timeoutMs: 90_000 });
  return { pkg, lock: readFileSync(join(dir, 'package-lock.json'), 'utf8') };
}

const AGENT = { PUSHGATE_PRINCIPAL: 'agent-1', PUSHGATE_ROLES: 'agent' };
const v1 = npmLock({ 'is-number': '7.0.0', 'ms': '2.1.2' });
const v2 = npmLock({ 'is-number': '7.0.0', 'ms': '2.1.3', 'is-odd': '3.0.1' });

t.test('a lockfile made by npm: added packages park, listed with their versions', async (t) => {
  work.commit('deps', { 'package.json': v1.pkg, 'package-lock.json': v1.lock });
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'park', pushed.output);
  const rules = pushed.result!.findings.map((f) => `${f.rule} ${f.path}`).sort();
  t.same(rules, ['deps.changed package-lock.json', 'deps.changed package.json']);
  t.match(pushed.output, /is-number 7\.0\.0 \(added\)/);
  t.match(pushed.output, /ms 2\.1\.2 \(added\)/);
  t.match(pushed.output, /fix: A reviewer must accept new or changed dependencies/);
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('bumped, added and removed packages against the old tip; removals alone are no finding', async (t) => {
  server.setConfig(['policy', 'deps', 'roles'], ['agent']);
  // Pushed by a pusher the rule does not apply to (scoping by role).
  work.commit('deps v1', { 'package.json': v1.pkg, 'package-lock.json': v1.lock });
  const base = work.push(['origin', 'main'], { PUSHGATE_PRINCIPAL: 'maintainer', PUSHGATE_ROLES: 'maintainer' });
  t.equal(base.result?.decision, 'allow', `the rule is scoped to the agent role: ${base.output}`);
  work.commit('deps v2', { 'package.json': v2.pkg, 'package-lock.json': v2.lock });
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'park', pushed.output);
  t.match(pushed.output, /ms 2\.1\.2 → 2\.1\.3/);
  t.match(pushed.output, /is-odd 3\.0\.1 \(added\)/);
  const manifest = pushed.result!.findings.find((f) => f.path === 'package.json') as { title?: string } | undefined;
  t.notMatch(manifest?.title, /is-number/, 'an unchanged package is not listed');
  t.match(pushed.output, /is-number 7\.0\.0 → 6\.0\.0, 7\.0\.0/, 'the lockfile lists the version is-odd brings in as well');
  work.git('reset', '--quiet', '--hard', 'origin/main');
  // Removing a package only: allowed.
  const { pkg, lock } = npmLock({ 'is-number': '7.0.0' });
  work.commit('drop ms', { 'package.json': pkg, 'package-lock.json': lock });
  const removed = work.push(['origin', 'main'], AGENT);
  t.equal(removed.result?.decision, 'allow', removed.output);
  t.equal(removed.code, 0);
});

t.test('a package re-sourced outside the allowed registries is denied; so is a new registry', async (t) => {
  const lock = JSON.parse(readFileSync(join(work.path, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
  const entry = lock.packages['node_modules/is-number']!;
  t.match(entry.resolved, /^https:\/\/registry\.npmjs\.org\//, 'npm wrote the registry URL');
  entry.resolved = 'https://registry.npmjs.org.evil.example/is-number/-/is-number-7.0.0.tgz';
  work.commit('mirror', { 'package-lock.json': `${JSON.stringify(lock, null, 2)}\n` });
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'deny', pushed.output);
  t.match(pushed.result?.findings, [{ rule: 'deps.source', action: 'deny', path: 'package-lock.json' }]);
  t.match(pushed.output, /is-number from https:\/\/registry\.npmjs\.org\.evil\.example\//);
  work.git('reset', '--quiet', '--hard', 'origin/main');

  work.commit('npmrc', { '.npmrc': 'registry=https://npm.evil.example/\n' });
  const npmrc = work.push(['origin', 'main'], AGENT);
  t.equal(npmrc.result?.decision, 'deny', npmrc.output);
  t.match(npmrc.result?.findings, [{ rule: 'deps.registry', action: 'deny', path: '.npmrc' }]);
  work.git('reset', '--quiet', '--hard', 'origin/main');

  work.commit('git dep', { 'sub/package.json': JSON.stringify({ dependencies: { left: 'git+https://git.evil.example/left.git#main' } }) });
  const git = work.push(['origin', 'main'], AGENT);
  t.equal(git.result?.decision, 'deny', git.output);
  t.match(git.result?.findings, [{ rule: 'deps.changed', path: 'sub/package.json' }, { rule: 'deps.source', path: 'sub/package.json' }]);
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('other ecosystems: go.mod replace denies, requirements and Cargo additions park', async (t) => {
  work.commit('go', { 'svc/go.mod': 'module example.com/svc\n\ngo 1.22\n\nrequire (\n\tgolang.org/x/text v0.14.0 // indirect\n)\n' });
  t.equal(work.push(['origin', 'main'], AGENT).result?.decision, 'park');
  work.commit('replace', { 'svc/go.mod': 'module example.com/svc\n\ngo 1.22\n\nrequire golang.org/x/text v0.14.0\n\nreplace golang.org/x/text => github.com/evil/text v0.14.0\n' });
  const replaced = work.push(['origin', 'main'], AGENT);
  t.equal(replaced.result?.decision, 'deny', replaced.output);
  t.match(replaced.output, /replace => github\.com\/evil\/text v0\.14\.0/);
  work.git('reset', '--quiet', '--hard', 'origin/main');
  work.commit('py and rust', {
    'requirements-dev.txt': 'requests==2.31.0\nflask>=3.0 ; python_version >= "3.9"\n',
    'Cargo.toml': '[package]\nname = "x"\nversion = "0.1.0"\n\n[dependencies]\nserde = { version = "1.0", features = ["derive"] }\n',
  });
  const py = work.push(['origin', 'main'], AGENT);
  t.equal(py.result?.decision, 'park', py.output);
  t.match(py.output, /requests ==2\.31\.0 \(added\)/);
  t.match(py.output, /serde 1\.0 \(added\)/);
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('a manifest that does not parse parks (never allowed silently); a symlinked one too', async (t) => {
  work.commit('broken', { 'package.json': '{"dependencies": {"a": ' });
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'park', pushed.output);
  t.match(pushed.result?.findings, [{ rule: 'deps.unreadable', action: 'park', path: 'package.json' }]);
  work.git('reset', '--quiet', '--hard', 'origin/main');
  work.write('real.json', '{}');
  work.git('rm', '--quiet', 'package.json');
  work.git('add', 'real.json');
  run('ln', ['-s', 'real.json', 'package.json'], { cwd: work.path });
  work.commit('symlink');
  const linked = work.push(['origin', 'main'], AGENT);
  t.match(linked.result?.findings, [{ rule: 'deps.unreadable', path: 'package.json' }], linked.output);
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('audit mode reports without deciding; refs scope the rule', async (t) => {
  server.setConfig(['policy', 'deps', 'mode'], 'audit');
  work.commit('audit', { 'Gemfile': "source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\n" });
  const audited = work.push(['origin', 'main'], AGENT);
  t.equal(audited.result?.decision, 'allow', audited.output);
  t.match(audited.result?.findings, [{ rule: 'deps.changed', mode: 'audit', action: 'park' }]);
  server.setConfig(['policy', 'deps', 'mode'], 'enforce');
  server.setConfig(['policy', 'deps', 'refs'], ['refs/heads/main']);
  work.git('checkout', '--quiet', '-b', 'feature');
  work.commit('feature dep', { 'Gemfile': "source 'https://rubygems.org'\ngem 'rails', '~> 7.2'\n" });
  const feature = work.push(['origin', 'feature'], AGENT);
  t.equal(feature.result?.decision, 'allow', `feature branches are out of scope: ${feature.output}`);
  // The same commit reaching main by a fast-forward is compared tip to tip: it parks there.
  const main = work.push(['origin', 'feature:main'], AGENT);
  t.equal(main.result?.decision, 'park', main.output);
  t.match(main.output, /rails ~> 7\.1 → ~> 7\.2/);
  work.git('checkout', '--quiet', 'main');
});

t.test('bad configuration is a config check error with its path', async (t) => {
  const dir = tempDir(t, 'pushgate-deps-config-');
  const bad = join(dir, 'bad.yaml');
  const doc = parseDocument(readFileSync(server.configPath, 'utf8'));
  doc.setIn(['policy', 'deps'], { chnages: 'park', allowedRegistries: ['ftp://mirror'] });
  writeFileSync(bad, doc.toString());
  const checked = pushgateCli(['config', 'check', '--config', bad]);
  t.equal(checked.status, 1, checked.stderr);
  t.match(checked.stdout + checked.stderr, /policy\.deps\.chnages.*unknown key.*changes/s);
  t.match(checked.stdout + checked.stderr, /policy\.deps\.allowedRegistries\[0\]/);
});
