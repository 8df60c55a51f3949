/**
 * A new installation keys the audit chain, and records cut from the end of
 * the log are detected without anyone remembering the head: serve publishes
 * it (operator log, /metrics), and `audit verify --anchor` / `--anchor-file`
 * (the cron line of docs/operations.md, run as written) checks it.
 * Real `pushgate` processes, real pushes into hooked repositories.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseDocument } from 'yaml';
import { SshUser, startGateway } from '../gateway/harness.js';
import { pushgateCli, testServer, WorkTree } from '../helpers/git-server.js';
import { pushgateBin, tempDir } from '../helpers/tools.js';
import { scrapeUntil, valueOf } from '../metrics/scrape.js';

const docs = new URL('../../../docs/operations.md', import.meta.url).pathname;

interface Line {
  seq: number;
  hash: string;
  type: string;
}

function records(file: string): Line[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
}

/** Cuts the last `count` records off the log, as someone who can write the file would. */
function cutTail(file: string, count: number): void {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').filter(Boolean);
  const keep = lines.slice(0, lines.length - count).map((l) => `${l}\n`).join('');
  truncateSync(file, Buffer.byteLength(keep));
}

t.test('pushgate init keys the chain: a new key (0600) the config names, never replaced', async (t) => {
  const server = testServer(t);
  const key = join(server.dir, 'audit.key');
  t.ok(existsSync(key), 'init wrote audit.key');
  t.equal(statSync(key).mode & 0o777, 0o600);
  t.match(readFileSync(key, 'utf8'), /^[0-9a-f]{64}\n$/);
  const config = parseDocument(readFileSync(server.configPath, 'utf8')).toJS() as { audit: { hmacKeyFile: string } };
  t.equal(config.audit.hmacKeyFile, 'audit.key');
  const before = readFileSync(key, 'utf8');
  t.equal(pushgateCli(['init', '--dir', server.dir]).status, 0);
  t.equal(readFileSync(key, 'utf8'), before, 'init again keeps the key');
  const again = pushgateCli(['audit', 'init-key', key]);
  t.equal(again.status, 1, 'init-key never replaces a key');
  t.match(again.stderr, /exists; a key is never replaced/);
  t.equal(readFileSync(key, 'utf8'), before);
  const fresh = join(server.dir, 'other.key');
  t.equal(pushgateCli(['audit', 'init-key', fresh]).status, 0);
  t.equal(statSync(fresh).mode & 0o777, 0o600);

  // A push: its records are HMAC-chained with that key.
  const repo = server.createRepo('team/app');
  const work = WorkTree.clone(t, repo);
  work.commit('base', { 'README.md': 'x\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  const log = join(server.dir, 'state', 'audit', 'audit.log');
  t.ok(records(log).length >= 1);
  t.equal(pushgateCli(['audit', 'verify', '--config', server.configPath]).status, 0, 'verifies with the configured key');
  const env = { ...process.env };
  delete env.PUSHGATE_CONFIG;
  const plain = spawnSync(process.execPath, [pushgateBin, 'audit', 'verify', log], { encoding: 'utf8', env, cwd: tempDir(t) });
  t.equal(plain.status, 1, 'without the key, nothing verifies: the chain cannot be recomputed without it');
  t.match(plain.stderr, /hash-mismatch/);
  t.equal(pushgateCli(['config', 'check', '--config', server.configPath]).stderr, '', 'a keyed config: no warning');
});

t.test('a config without a key keeps working, and config check warns', async (t) => {
  const server = testServer(t);
  server.setConfig(['audit', 'hmacKeyFile'], null);
  const checked = pushgateCli(['config', 'check', '--config', server.configPath]);
  t.equal(checked.status, 0);
  t.match(checked.stderr, /warning: audit\.hmacKeyFile is null: the audit log is a plain SHA-256 chain/);
});

t.test('verify --anchor SEQ:HASH and --anchor-file detect records cut from the end', async (t) => {
  const server = testServer(t);
  const repo = server.createRepo('team/app');
  const work = WorkTree.clone(t, repo);
  for (let i = 0; i < 3; i++) {
    work.commit(`c${i}`, { 'README.md': `${i}\n` });
    t.equal(work.push(['origin', 'main']).code, 0);
  }
  const log = join(server.dir, 'state', 'audit', 'audit.log');
  // The post-receive recorder writes in the background: wait for the third push.applied.
  const deadline = Date.now() + 60_000;
  while (records(log).filter((r) => r.type === 'push.applied').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const all = records(log);
  const head = all.at(-1)!;
  const verified = pushgateCli(['audit', 'verify', '--config', server.configPath]);
  t.equal(verified.status, 0);
  t.match(verified.stdout, `(anchor ${head.seq}:${head.hash})`, 'verify prints the head as an anchor');
  t.equal(pushgateCli(['audit', 'verify', '--config', server.configPath, '--anchor', `${head.seq}:${head.hash}`]).status, 0);
  t.equal(pushgateCli(['audit', 'verify', '--config', server.configPath, '--anchor', `${head.seq + 1}:${head.hash}`]).status, 1, 'the seq must match too');
  const bad = pushgateCli(['audit', 'verify', '--config', server.configPath, '--anchor', 'nonsense']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /expected SEQ:HASH/);

  const anchorFile = join(tempDir(t), 'audit.anchor');
  const first = pushgateCli(['audit', 'verify', '--config', server.configPath, '--quiet', '--anchor-file', anchorFile]);
  t.same([first.status, first.stdout, first.stderr], [0, '', ''], 'quiet: nothing printed when the chain holds');
  t.equal(readFileSync(anchorFile, 'utf8'), `${head.seq}:${head.hash}\n`, 'the head is kept');
  t.equal(statSync(anchorFile).mode & 0o777, 0o600);

  cutTail(log, 2);
  t.equal(pushgateCli(['audit', 'verify', '--config', server.configPath]).status, 0, 'what remains is a valid chain on its own');
  const cut = pushgateCli(['audit', 'verify', '--config', server.configPath, '--quiet', '--anchor-file', anchorFile]);
  t.equal(cut.status, 1, 'against the kept head, the cut is found');
  t.match(cut.stderr, `anchor-missing: the anchored record ${head.hash} (seq ${head.seq}) is not in the chain (the chain now ends at seq ${head.seq - 2})`);
  t.equal(readFileSync(anchorFile, 'utf8'), `${head.seq}:${head.hash}\n`, 'a failed check keeps the anchor: it fails again next time');
  t.equal(pushgateCli(['audit', 'verify', '--config', server.configPath, '--anchor', `${head.seq}:${head.hash}`]).status, 1);

  writeFileSync(anchorFile, 'garbage\n');
  t.equal(pushgateCli(['audit', 'verify', '--config', server.configPath, '--anchor-file', anchorFile]).status, 2, 'an unreadable anchor is an error, not a fresh start');
});

t.test('the cron line of docs/operations.md, run as written', async (t) => {
  const text = readFileSync(docs, 'utf8');
  const block = /```crontab\n([\s\S]*?)```/.exec(text)?.[1];
  t.ok(block, 'docs/operations.md has a crontab block');
  const lines = block!.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const env: Record<string, string> = {};
  let command = '';
  for (const line of lines) {
    const assignment = /^([A-Z_]+)=(.*)$/.exec(line);
    if (assignment) env[assignment[1]!] = assignment[2]!;
    else command = line.split(/\s+/).slice(6).join(' ');
  }
  t.match(command, /^pushgate audit verify .*--anchor-file \/var\/lib\/pushgate-anchor\/audit\.anchor/);
  t.equal(env.PUSHGATE_CONFIG, '/etc/pushgate/pushgate.yaml');

  const server = testServer(t);
  const repo = server.createRepo('team/app');
  const work = WorkTree.clone(t, repo);
  work.commit('base', { 'README.md': 'x\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  // The same command; only the two paths of the installed server are this test's.
  const anchorDir = join(tempDir(t), 'pushgate-anchor');
  mkdirSync(anchorDir, { mode: 0o700 });
  const bin = tempDir(t);
  symlinkSync(pushgateBin, join(bin, 'pushgate'));
  const ours = command.replace('/var/lib/pushgate-anchor', anchorDir);
  const cron = (): { status: number | null; output: string } => {
    const ran = spawnSync('sh', ['-c', ours], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PUSHGATE_CONFIG: server.configPath } });
    return { status: ran.status, output: `${ran.stdout}${ran.stderr}` };
  };
  t.same(cron(), { status: 0, output: '' }, 'silent while the chain holds (cron mails nothing)');
  const log = join(server.dir, 'state', 'audit', 'audit.log');
  await new Promise((r) => setTimeout(r, 500));
  work.commit('more', { 'README.md': 'y\n' });
  t.equal(work.push(['origin', 'main']).code, 0);
  const deadline = Date.now() + 60_000;
  while (records(log).filter((r) => r.type === 'push.applied').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.same(cron(), { status: 0, output: '' }, 'the log grew: still silent, the anchor moves');
  const head = records(log).at(-1)!;
  t.equal(readFileSync(join(anchorDir, 'audit.anchor'), 'utf8'), `${head.seq}:${head.hash}\n`);
  cutTail(log, 1);
  const cut = cron();
  t.equal(cut.status, 1, 'cutting the last record is reported');
  t.match(cut.output, /anchor-missing/);
});

t.test('serve publishes the head: operator log and /metrics', async (t) => {
  const gateway = await startGateway(t, { repos: ['team/app'], configure: (s) => s.setConfig(['audit', 'headInterval'], '1s') });
  const log = join(gateway.dir, 'state', 'audit', 'audit.log');
  const started = Date.now() + 30_000;
  while (!gateway.stderr.includes('audit log head (start)') && Date.now() < started) await new Promise((r) => setTimeout(r, 100));
  const startLine = /audit log head \(start\): (?:seq (\d+) hash ([0-9a-f]{64})|no records yet)/.exec(gateway.stderr);
  t.ok(startLine, 'the head at start is in the operator log');
  t.notMatch(gateway.stderr, /hmacKeyFile is null/, 'a keyed server does not warn');

  const user = new SshUser(gateway, 'dev').sign();
  const work = join(tempDir(t), 'work');
  t.equal(user.git(['clone', '-q', gateway.url('team/app.git'), work]).status, 0);
  writeFileSync(join(work, 'README.md'), 'hello\n');
  user.git(['add', '-A'], { cwd: work });
  user.git(['commit', '-q', '-m', 'one'], { cwd: work });
  t.equal(user.git(['push', '-q', 'origin', 'HEAD:refs/heads/main'], { cwd: work }).status, 0);

  const headNow = (): Line => records(log).at(-1)!;
  const scraped = await scrapeUntil(gateway.httpUrl, (s) => valueOf(s, 'pushgate_audit_head_seq') === headNow().seq
    && s.some((x) => x.name === 'pushgate_audit_head_info' && x.labels.hash === headNow().hash), 30_000);
  const head = headNow();
  t.equal(valueOf(scraped.samples, 'pushgate_audit_head_seq'), head.seq, '/metrics has the seq of the last record');
  const info = scraped.samples.filter((s) => s.name === 'pushgate_audit_head_info');
  t.same(info.map((s) => [s.labels.hash, s.value]), [[head.hash, 1]], 'and its hash, as the only label');
  t.ok(valueOf(scraped.samples, 'pushgate_audit_head_timestamp_seconds') > 0);

  // What /metrics published is an anchor that verify checks.
  const anchor = `${valueOf(scraped.samples, 'pushgate_audit_head_seq')}:${info[0]!.labels.hash}`;
  t.equal(pushgateCli(['audit', 'verify', '--config', gateway.server.configPath, '--anchor', anchor]).status, 0);

  const moved = Date.now() + 30_000;
  while (!gateway.stderr.includes('audit log head (moved)') && Date.now() < moved) await new Promise((r) => setTimeout(r, 100));
  t.match(gateway.stderr, /audit log head \(moved\): seq \d+ hash [0-9a-f]{64}; check it later with: pushgate audit verify --anchor \d+:[0-9a-f]{64}/);
});

t.test('serve warns about an unkeyed chain', async (t) => {
  const gateway = await startGateway(t, { configure: (s) => s.setConfig(['audit', 'hmacKeyFile'], null) });
  const deadline = Date.now() + 30_000;
  while (!gateway.stderr.includes('hmacKeyFile is null') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.match(gateway.stderr, /audit\.hmacKeyFile is null/);
});
