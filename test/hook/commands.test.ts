/**
 * External checks (policy.commands) through real pushes: a shell script and
 * a node script answer; a crash, a timeout and invalid output park (never
 * allow); hostile text in an answer is escaped. And `pushgate policy test`
 * gives the decision a real push of the same commits gets.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';
import { requireTool, tempDir } from '../helpers/tools.js';

requireTool('jq', 'jq');
const server = testServer(t);
const remote = server.createRepo('team/cmd');
const work = WorkTree.clone(t, remote);
work.commit('first', { 'README.md': 'hello\n' });
t.equal(work.push(['origin', 'main']).code, 0, 'initial push allowed');
const scripts = tempDir(t, 'pushgate-commands-');

function script(name: string, text: string): string {
  const path = join(scripts, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

// The documented shell example: deny a push that changes anything under migrations/, reading the file through git.
const shell = script('no-migrations.sh', `#!/bin/sh
set -eu
input=$(cat)
paths=$(printf '%s' "$input" | jq -r '.changes[].paths[] | select(.status != "deleted") | .path')
for p in $paths; do
  case "$p" in migrations/*)
    oid=$(printf '%s' "$input" | jq -r --arg p "$p" '[.changes[].paths[] | select(.path == $p)][0].oid')
    size=$(git cat-file -s "$oid")
    jq -n --arg p "$p" --arg s "$size" '{decision: "deny", findings: [{rule: "migration", title: ("schema migration (" + $s + " bytes) \\u001b[2J"), path: $p, fix: "Migrations go through the DBA team."}]}'
    exit 0;;
  esac
done
echo '{"decision": "allow"}'
`);
const node = script('park-friday.mjs', `#!/usr/bin/env node
let text = '';
process.stdin.on('data', (c) => { text += c; });
process.stdin.on('end', () => {
  const push = JSON.parse(text);
  const roles = push.pusher.roles;
  const decision = push.commits.length > 2 && !roles.includes('maintainer') ? 'park' : 'allow';
  process.stdout.write(JSON.stringify({ decision, findings: decision === 'park' ? [{ rule: 'big-push', title: push.commits.length + ' commits by ' + push.pusher.principal }] : [] }));
});
`);

const AGENT = { PUSHGATE_PRINCIPAL: 'agent-1', PUSHGATE_ROLES: 'agent' };

t.test('a shell script reads the pushed objects and denies; its text is escaped', async (t) => {
  server.setConfig(['policy', 'commands'], [{ name: 'migrations', run: [shell], refs: ['refs/heads/main'] }]);
  work.commit('migration', { 'migrations/001.sql': 'create table x (id int);\n' });
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'deny', pushed.output);
  t.match(pushed.result?.findings, [{ rule: 'command.migrations.migration', action: 'deny', path: 'migrations/001.sql' }]);
  t.match(pushed.output, /schema migration \(25 bytes\) \\e\[2J/, 'the escape sequence is shown, not sent');
  t.notMatch(pushed.output, /\u001b/);
  // Out of scope: another branch.
  const feature = work.push(['origin', 'main:refs/heads/feature'], AGENT);
  t.equal(feature.result?.decision, 'allow', feature.output);
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('a node script parks by the pusher\'s role; policy test agrees with the push', async (t) => {
  server.setConfig(['policy', 'commands'], [{ name: 'size', run: ['node', node] }]);
  for (const n of [1, 2, 3]) work.commit(`c${n}`, { [`f${n}.txt`]: `${n}\n` });
  const dry = pushgateCli(['policy', 'test', '--repo', work.path, 'origin/main..HEAD', '--ref', 'refs/heads/main', '--as', 'agent-1', '--role', 'agent', '--format', 'json', '--config', server.configPath]);
  t.equal(dry.status, 1, dry.stderr);
  const predicted = JSON.parse(dry.stdout) as { decision: string; findings: { rule: string; action: string }[] };
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'park', pushed.output);
  t.equal(predicted.decision, pushed.result?.decision, 'policy test predicted the decision');
  t.same(predicted.findings.map((f) => `${f.rule} ${f.action}`), pushed.result!.findings.map((f) => `${f.rule} ${f.action}`), 'finding by finding');
  const maintainer = pushgateCli(['policy', 'test', '--repo', work.path, 'origin/main..HEAD', '--ref', 'refs/heads/main', '--as', 'lead', '--role', 'maintainer', '--config', server.configPath]);
  t.equal(maintainer.status, 0, maintainer.stdout + maintainer.stderr);
  t.match(maintainer.stdout, /push would be accepted/);
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('a crash, a timeout or invalid output parks, never allows; onFailure: deny denies', async (t) => {
  const cases: [string, string[], RegExp][] = [
    ['crash', ['sh', '-c', 'cat >/dev/null; exit 3'], /exited with status 3/],
    ['slow', ['sh', '-c', 'sleep 30'], /did not answer within/],
    ['garbage', ['sh', '-c', 'cat >/dev/null; echo "{\\"decision\\": \\"yes\\"}"'], /"decision" must be/],
    ['missing', [join(scripts, 'no-such-program')], /could not be started/],
  ];
  // Only `slow` is meant to time out; the others get room to fail their own way on a loaded machine.
  server.setConfig(['policy', 'commands'], cases.map(([name, run]) => ({ name, run, timeout: name === 'slow' ? '1s' : '60s' })));
  work.commit('anything', { 'x.txt': 'x\n' });
  const pushed = work.push(['origin', 'main'], AGENT);
  t.equal(pushed.result?.decision, 'park', pushed.output);
  for (const [name, , why] of cases) {
    const found = pushed.result!.findings.find((f) => f.rule === `command.${name}.failed`) as { title?: string; action: string } | undefined;
    t.equal(found?.action, 'park', name);
    t.match(found?.title, why, name);
  }
  // policy.rules cannot turn a failure off; onFailure: deny denies.
  server.setConfig(['policy', 'rules'], { 'command.*': 'off' });
  server.setConfig(['policy', 'commands'], [{ name: 'crash', run: ['false'], onFailure: 'deny' }]);
  const denied = work.push(['origin', 'main'], AGENT);
  t.equal(denied.result?.decision, 'deny', denied.output);
  server.setConfig(['policy', 'rules'], {});
  server.setConfig(['policy', 'commands'], []);
  work.git('reset', '--quiet', '--hard', 'origin/main');
});

t.test('policy test --help explains; a bad range is refused', async (t) => {
  const help = pushgateCli(['policy', 'test', '--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /without pushing/);
  const bad = pushgateCli(['policy', 'test', '--repo', work.path, 'nope..HEAD', '--config', server.configPath]);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /names no commit/);
});
