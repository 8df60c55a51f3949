/**
 * Every web address pushgate ships — in its code, its output, its package
 * metadata, its docs and configs — either is reserved for examples
 * (example.com, .test, .invalid, loopback) or names a real page this list
 * vouches for. pushgate has no public repository or home page: none is named.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pushgateCli, WorkTree } from '../helpers/git-server.js';
import { run, tempDir } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/** Real pages, by prefix, each with what it is. */
const REAL: ReadonlyArray<[prefix: string, what: string]> = [
  ['https://json.schemastore.org/sarif-2.1.0.json', 'the SARIF 2.1.0 schema'],
  ['https://github.com/settings/tokens', 'GitHub: revoke classic and OAuth tokens'],
  ['https://github.com/settings/personal-access-tokens', 'GitHub: revoke fine-grained tokens'],
  ['https://oauth2.googleapis.com/revoke', 'Google: the OAuth token revocation endpoint'],
  ['https://id.atlassian.com/manage-profile/security/api-tokens', 'Atlassian: API tokens'],
  ['https://nodejs.org/', 'Node.js downloads'],
  ['https://token.actions.githubusercontent.com', 'GitHub Actions\' OIDC issuer'],
  ['https://schema.org/extensions', 'the MessageCard context Microsoft Teams webhooks expect'],
  ['https://hooks.slack.com/services/', 'Slack incoming webhooks (a placeholder path in the guide)'],
  // The public package registries policy.deps allows by default.
  ['https://registry.npmjs.org/', 'the npm registry'],
  ['https://registry.yarnpkg.com/', 'Yarn\'s mirror of the npm registry'],
  ['https://pypi.org/', 'the Python Package Index'],
  ['https://files.pythonhosted.org/', 'PyPI\'s file host'],
  ['https://proxy.golang.org/', 'the Go module proxy'],
  ['https://index.crates.io/', 'the crates.io sparse index'],
  ['https://github.com/rust-lang/crates.io-index', 'the crates.io git index'],
  ['https://rubygems.org/', 'RubyGems'],
  ['https://repo.maven.apache.org/maven2/', 'Maven Central'],
  ['https://repo1.maven.org/maven2/', 'Maven Central'],
  ['https://plugins.gradle.org/m2/', 'the Gradle plugin portal'],
  ['https://dl.google.com/dl/android/maven2/', 'Google\'s Maven repository'],
  ['https://maven.google.com/', 'Google\'s Maven repository'],
];

/** Hosts reserved for documentation and tests (RFC 2606, RFC 6761), loopback, and placeholders. */
function reserved(host: string): boolean {
  return /(^|\.)example\.(com|org|net)$/.test(host) || /\.(example|test|invalid|localhost)$/.test(host)
    || ['localhost', '127.0.0.1', '[::1]'].includes(host) || /^[A-Z_]+$/.test(host);
}

const URL_PATTERN = /\bhttps?:\/\/[^\s"'`<>)\]}]+/g;

/** Addresses in `text`; regular expressions and template strings that only look like one are left out. */
function addresses(text: string): string[] {
  return [...text.matchAll(URL_PATTERN)].map((m) => m[0].replace(/[.,;:]+$/, '')).filter((url) => !/[\\[(${]/.test(url));
}

function problem(url: string): string | undefined {
  // The host after any userinfo (`https://user:token@git.example.com/`).
  const host = /^https?:\/\/(?:[^/?#@]*@)?(\[[^\]]*\]|[^/:?#]+)/.exec(url)?.[1] ?? '';
  if (reserved(host) || REAL.some(([prefix]) => url.startsWith(prefix))) return undefined;
  return `${url}: neither reserved for examples nor a page known to exist`;
}

function files(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((name) => files(join(path, name)));
}

t.test('the sources, docs, configs and package metadata name no made-up address', async (t) => {
  const shipped = ['src', 'docs', 'config', 'bin', 'scripts', '.ci', 'README.md', 'package.json', 'install.sh'].flatMap(files);
  t.ok(shipped.length > 50, 'the tree was read');
  const problems = shipped.flatMap((path) => addresses(readFileSync(join(ROOT, path), 'utf8')).flatMap((url) => {
    const found = problem(url);
    return found === undefined ? [] : [`${path}: ${found}`];
  }));
  t.same(problems, [], 'every address is an example or real');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  for (const field of ['repository', 'homepage', 'bugs']) t.notOk(field in pkg, `package.json names no ${field}: there is no public one`);
});

t.test('SARIF output names no made-up address', async (t) => {
  const origin = join(tempDir(t), 'origin.git');
  run('git', ['init', '--quiet', '--bare', origin]);
  const work = WorkTree.clone(t, origin);
  work.commit('base', { 'README.md': 'hi\n' });
  work.git('push', '--quiet', 'origin', 'main');
  work.commit('leak', { 'a.ts': `const a = "${gh(new Rng(11))}";\n` });
  const result = pushgateCli(['scan', '--repo', work.path, '--format', 'sarif']);
  t.equal(result.status, 1, result.stderr);
  const sarif = JSON.parse(result.stdout) as { runs: { tool: { driver: Record<string, unknown> } }[] };
  t.notOk('informationUri' in sarif.runs[0]!.tool.driver, 'the tool names no information page: pushgate has none');
  const found = addresses(result.stdout);
  t.ok(found.length > 0, 'the schema and the fix texts carry addresses');
  t.same(found.map(problem).filter((p) => p !== undefined), [], 'each is real');
});
