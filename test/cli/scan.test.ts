import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pushgateCli, WorkTree } from '../helpers/git-server.js';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { gh, Rng, slackBot } from '../scan/fixtures.js';

const rng = new Rng(7);
const origin = join(tempDir(t), 'origin.git');
run('git', ['init', '--quiet', '--bare', origin]);
const work = WorkTree.clone(t, origin);
work.commit('base', { 'README.md': 'hi\n' });
work.git('push', '--quiet', 'origin', 'main');
const token = gh(rng);
const slack = slackBot(rng);
work.commit('leak', { 'src/a.ts': `const a = "${token}";\n` });
work.commit('unleak', { 'src/a.ts': 'const a = process.env.A;\n', 'notes/n.md': `hook ${slack}\n` });

t.test('default range: what a push would send, including a secret already removed again', async (t) => {
  const result = pushgateCli(['scan', '--repo', work.path]);
  t.equal(result.status, 1);
  t.match(result.stdout, /src\/a\.ts:1:\d+: secret\./);
  t.match(result.stdout, /notes\/n\.md:1/);
  t.notOk(result.stdout.includes(token) || result.stdout.includes(slack), 'masked');
});

t.test('the same findings with git alone on the PATH (no stdbuf); an unwritable TMPDIR is a clear error', async (t) => {
  const bin = tempDir(t);
  symlinkSync(requireTool('git', 'git'), join(bin, 'git'));
  const expected = pushgateCli(['scan', '--repo', work.path, '--format', 'json']);
  t.equal(expected.status, 1);
  const bare = pushgateCli(['scan', '--repo', work.path, '--format', 'json'], { env: { ...process.env, PATH: bin } });
  t.equal(bare.status, 1, bare.stderr);
  t.same(JSON.parse(bare.stdout).findings, JSON.parse(expected.stdout).findings);
  const noTmp = pushgateCli(['scan', '--repo', work.path], { env: { ...process.env, TMPDIR: join(bin, 'git', 'tmp') } });
  t.equal(noTmp.status, 2);
  t.match(noTmp.stderr, /temporary file.*TMPDIR/);
});

t.test('explicit range, json', async (t) => {
  const result = pushgateCli(['scan', '--repo', work.path, '--format', 'json', 'HEAD~1..HEAD']);
  t.equal(result.status, 1);
  const parsed = JSON.parse(result.stdout) as { findings: { path: string; commit: string }[] };
  t.equal(parsed.findings.length, 1, 'only the last commit');
  t.equal(parsed.findings[0]!.path, 'notes/n.md');
  t.equal(pushgateCli(['scan', '--repo', work.path, 'main~0..origin/main']).status, 0, 'an empty range is clean');
});

t.test('sarif 2.1.0', async (t) => {
  const result = pushgateCli(['scan', '--repo', work.path, '--format', 'sarif']);
  t.equal(result.status, 1);
  const sarif = JSON.parse(result.stdout) as { version: string; runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
  t.equal(sarif.version, '2.1.0');
  const [runEntry] = sarif.runs;
  t.equal(runEntry!.tool.driver.name, 'pushgate');
  t.equal(runEntry!.results.length, 2);
  for (const r of runEntry!.results) {
    t.equal(runEntry!.tool.driver.rules[r.ruleIndex]!.id, r.ruleId, 'ruleIndex points at the rule');
    t.ok(r.locations[0]!.physicalLocation.region.startLine >= 1);
  }
  t.notOk(result.stdout.includes(token));
});

t.test('--files over a directory and single files', async (t) => {
  work.write('loose/config.env', `SLACK=${slack}\n`).write('loose/clean.txt', 'nothing\n');
  const dir = pushgateCli(['scan', '--files', join(work.path, 'loose')], { cwd: work.path });
  t.equal(dir.status, 1);
  t.match(dir.stdout, /loose\/config\.env:1/);
  t.equal(pushgateCli(['scan', '--files', join(work.path, 'loose/clean.txt')]).status, 0);
});

t.test('errors exit 2', async (t) => {
  t.equal(pushgateCli(['scan', '--repo', work.path, '--upload-pack=x']).status, 2, 'unknown option');
  t.equal(pushgateCli(['scan', '--repo', work.path, 'no-such-branch']).status, 2);
  t.equal(pushgateCli(['scan', '--repo', tempDir(t)]).status, 2, 'not a repository');
  t.equal(pushgateCli(['scan', '--files', '/nonexistent/path']).status, 2);
  t.equal(pushgateCli(['scan', '--format', 'xml']).status, 2);
});
