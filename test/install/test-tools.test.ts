/**
 * The system tools the test suite needs: one list (scripts/install-test-tools.sh)
 * that `npm test` checks before anything else — printing the one-line install
 * command for exactly what is missing — and that CI installs from. Every tool
 * a test requires is on it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { requireTool, tempDir } from '../helpers/tools.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const SCRIPT = join(ROOT, 'scripts', 'install-test-tools.sh');

/** Packages every Debian/Ubuntu system has (Essential or required), and npm, which runs `npm test` itself. */
const ALWAYS_THERE = new Set(['coreutils', 'perl-base', 'passwd', 'bsdutils', 'npm']);

/** The script's list: command → package. */
function listed(): Map<string, string> {
  const text = readFileSync(SCRIPT, 'utf8');
  const body = /^TOOLS='\n([\s\S]*?)\n'$/m.exec(text)?.[1] ?? '';
  return new Map(body.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter((line) => line !== '').map((line) => {
    const [tool, pkg] = line.split(/\s+/);
    return [tool!, pkg!];
  }));
}

/** A PATH directory holding only what the check itself runs, plus `extra`. */
function shellOnly(t: { teardown(fn: () => void): void }, extra: string[] = []): string {
  const dir = join(tempDir(t, 'pushgate-tools-'), 'bin');
  mkdirSync(dir);
  for (const command of ['awk', 'sort', 'tr', 'sed', 'id', ...extra]) symlinkSync(requireTool(command, 'coreutils'), join(dir, command));
  return dir;
}

function check(path: string): { status: number | null; stderr: string } {
  const ran = spawnSync('/bin/sh', [SCRIPT, '--check'], { env: { PATH: path, HOME: '/nonexistent' }, encoding: 'utf8', timeout: 30_000 });
  return { status: ran.status, stderr: ran.stderr };
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

t.test('npm test checks the tools before building or testing; CI installs them from the same list', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.match(pkg.scripts.test, /^sh scripts\/install-test-tools\.sh --check && /, 'the check comes first in npm test');
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8').split('\n').filter((l) => !/^\s*(#|$)/.test(l));
  t.ok(ci.some((l) => /^(sh )?scripts\/install-test-tools\.sh\b/.test(l) && !l.includes('--check')), '.ci/run installs from the list');
  t.equal(ci.at(-1), 'npm test', '.ci/run runs exactly the README\'s test command, last');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  t.match(readme, /npm install && npm test/);
  t.match(readme, 'scripts/install-test-tools.sh', 'the README says how to install the tools');
});

t.test('every tool a test requires is on the list, with the package the test names', async (t) => {
  const tools = listed();
  t.ok(tools.size >= 6, `the list was read (${tools.size})`);
  const required = new Map<string, string>();
  for (const file of sources(join(ROOT, 'test'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/requireTool\((?:'([^']+)'|(SSHD)), '([^']+)'\)/g)) required.set(m[1] ?? '/usr/sbin/sshd', m[3]!);
  }
  t.ok(required.size >= 6, `the tests' requirements were read (${required.size})`);
  for (const [tool, pkg] of required) {
    if (ALWAYS_THERE.has(pkg)) continue;
    t.equal(tools.get(tool), pkg, `${tool} (${pkg}) is on the list`);
  }
});

t.test('--check: silent and 0 when all is there, else the exact install command for what is missing', async (t) => {
  const here = check(process.env.PATH ?? '');
  t.equal(here.status, 0, `this machine runs the tests, so it has the tools: ${here.stderr}`);
  t.equal(here.stderr, '');

  const bare = check(shellOnly(t));
  t.equal(bare.status, 1);
  const expected = [...new Set([...listed()].filter(([tool]) => !tool.startsWith('/')).map(([, pkg]) => pkg))].sort();
  const line = /^ {2}(.*apt-get install.*)$/m.exec(bare.stderr)?.[1];
  t.ok(line, `one install line: ${bare.stderr}`);
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  t.equal(line, `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${expected.join(' ')}`);
  t.match(bare.stderr, /missing system tools: .*\bgit\b.*\bssh-keygen\b/);

  const withGit = check(shellOnly(t, ['git', 'git-shell', 'curl']));
  const fewer = /^ {2}(.*apt-get install.*)$/m.exec(withGit.stderr)?.[1] ?? '';
  t.notMatch(fewer, /\b(git|curl)\b(?!-)/, 'what is there is not asked for');
  t.match(fewer, /\bopenssh-client\b/);
});
