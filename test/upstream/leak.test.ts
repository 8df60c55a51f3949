/**
 * pushgate's upstream credentials — an HTTP token read from tokenFile, a
 * token a credentialHelper hands out, an SSH deploy key — are used and
 * never shown: while agents clone, push, fetch, get refused by the upstream
 * and reviewers approve, every process's argument list and environment is
 * read, then every message, log line, audit record, queue record and file
 * pushgate wrote; none holds a token or the key's private bytes.
 *
 * Every git command here runs asynchronously: the HTTP upstream is served
 * by this process.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshUser, startGateway, type Ran } from '../gateway/harness.js';
import { ALICE, baseEnv, queueAsync, type CliRun } from '../queue/helpers.js';
import { pushgateBin, run, runAsync, tempDir } from '../helpers/tools.js';
import { startHttpUpstream } from '../helpers/upstream-http.js';
import { startSshUpstream, upstreamRepos } from '../helpers/upstream-sshd.js';

const secrets = tempDir(t, 'pushgate-leak-');
// Built at run time: random, so nothing but this run can hold them.
const token = `tk${randomBytes(18).toString('hex')}`;
const helperToken = `hk${randomBytes(18).toString('hex')}`;
const tokenFile = join(secrets, 'token');
const helperTokenFile = join(secrets, 'helper-token');
writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
writeFileSync(helperTokenFile, `${helperToken}\n`, { mode: 0o600 });

const ssh = await startSshUpstream(t);
const httpRepos = upstreamRepos(t);
const http = await startHttpUpstream(t, httpRepos, [['deploy', token], ['minted', helperToken]]);
const keyBody = readFileSync(ssh.deployKey, 'utf8').split('\n').filter((l) => !l.startsWith('-----')).join('');

/** What must appear nowhere, and a name for each that says which without showing it. */
const needles: Array<[string, string]> = [
  ['the tokenFile token', token],
  ['the credentialHelper token', helperToken],
  ['the Authorization header', Buffer.from(`deploy:${token}`).toString('base64')],
  // Past the key format's common header: bytes of this key's private part.
  ['the deploy key (private part)', keyBody.slice(-120, -80)],
  ['the deploy key (middle)', keyBody.slice(160, 200)],
];

for (const repo of ['ssh/app']) ssh.repos.create(repo);
for (const repo of ['http/app', 'helper/app']) httpRepos.create(repo);

const helper = `!f() { test "$1" = get || exit 0; echo username=minted; printf 'password=%s\\n' "$(cat '${helperTokenFile}')"; }; f`;
const gateway = await startGateway(t, {
  configure(server) {
    server.setConfig(['log', 'file'], join(server.dir, 'operator.log'));
    server.setConfig(['upstreams'], [
      { name: 'ssh', repositories: 'ssh/**', url: ssh.urlTemplate, sshKeyFile: ssh.deployKey, knownHostsFile: ssh.knownHosts, fetchInterval: '200ms', timeout: '30s' },
      { name: 'http', repositories: 'http/**', url: http.urlTemplate, username: 'deploy', tokenFile, fetchInterval: '200ms', timeout: '30s' },
      { name: 'helper', repositories: 'helper/**', url: http.urlTemplate, credentialHelper: helper, fetchInterval: '200ms', timeout: '30s' },
    ]);
  },
});
const agent = new SshUser(gateway, 'agent-leak').sign({ roles: ['agent'] } as never);

/** Reads every process's cmdline and environ until stopped; needles come on stdin, never in arguments. */
const POLLER = `
import { readdirSync, readFileSync } from 'node:fs';
const [needles, markers] = await new Promise((resolve) => {
  let text = '';
  process.stdin.setEncoding('utf8').on('data', function first(chunk) {
    text += chunk;
    if (text.includes('\\n')) { process.stdin.off('data', first); resolve(JSON.parse(text.slice(0, text.indexOf('\\n')))); }
  });
});
let stop = false;
process.stdin.on('data', () => { stop = true; });
const hits = new Set();
const seen = Object.fromEntries(markers.map((m) => [m, 0]));
let scans = 0;
while (!stop) {
  scans++;
  for (const pid of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(pid) || Number(pid) === process.pid) continue;
    for (const file of ['cmdline', 'environ']) {
      let text;
      try { text = readFileSync('/proc/' + pid + '/' + file).toString('latin1'); } catch { continue; }
      needles.forEach((needle, i) => { if (text.includes(needle)) hits.add(i + ' in /proc/' + pid + '/' + file); });
      for (const m of markers) if (text.includes(m)) seen[m]++;
    }
  }
  await new Promise((r) => setImmediate(r));
}
process.stdout.write(JSON.stringify({ scans, hits: [...hits], seen }));
`;

function startPoller(markers: string[]): { stop(): Promise<{ scans: number; hits: string[]; seen: Record<string, number> }> } {
  const script = join(secrets, 'poller.mjs');
  writeFileSync(script, POLLER);
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stdin.write(`${JSON.stringify([needles.map(([, n]) => n), markers])}\n`);
  return {
    stop: () => new Promise((resolve) => {
      child.once('close', () => resolve(JSON.parse(out)));
      child.stdin.end('stop\n');
    }),
  };
}

const said: Array<[string, string]> = [];
function heard(what: string, result: Ran | CliRun): Ran | CliRun {
  said.push([what, `${result.stdout}\n${result.stderr}`]);
  return result;
}

const git = async (what: string, args: string[], cwd?: string): Promise<Ran> => heard(what, await agent.gitAsync(args, cwd !== undefined ? { cwd } : {})) as Ran;

async function commit(dir: string, file: string, content: string): Promise<void> {
  run('sh', ['-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', file], { cwd: dir, input: content });
  await agent.gitAsync(['add', '-A'], { cwd: dir });
  await agent.gitAsync(['commit', '-q', '-m', `add ${file}`], { cwd: dir });
}

async function approve(what: string, id: string): Promise<CliRun> {
  return heard(what, await queueAsync(gateway.server, ['approve', id], ALICE).done) as CliRun;
}

function refuseWith(root: string, repo: string, text: string): void {
  writeFileSync(join(root, `${repo}.git`, 'hooks', 'pre-receive'), `#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' '${text}' >&2\nexit 1\n`, { mode: 0o755 });
}
function acceptAll(root: string, repo: string): void {
  run('rm', ['-f', join(root, `${repo}.git`, 'hooks', 'pre-receive')]);
}

t.test('no credential in any process, message, log, record or file', async (t) => {
  const poller = startPoller([ssh.deployKey, 'remote-http']);
  const upstreams = [
    { prefix: 'ssh', root: ssh.repos.root, echo: `UPSTREAM-SAYS: denied for key ${keyBody.slice(0, 20)}` },
    // An upstream that echoes the credential it was given: masked before anyone sees it.
    { prefix: 'http', root: httpRepos.root, echo: `UPSTREAM-SAYS: denied for token ${token} at http://deploy:${token}@127.0.0.1/x` },
    { prefix: 'helper', root: httpRepos.root, echo: `UPSTREAM-SAYS: denied for http://minted:${helperToken}@127.0.0.1/x` },
  ];
  for (const { prefix, root, echo } of upstreams) {
    const repo = `${prefix}/app`;
    const dir = join(tempDir(t), 'work');
    const cloned = await git(`${prefix} clone`, ['clone', '-q', gateway.url(`${repo}.git`), dir]);
    t.equal(cloned.status, 0, `${prefix}: cloned through pushgate\n${cloned.stderr}`);

    await commit(dir, 'a.txt', 'a\n');
    const pushed = await git(`${prefix} push`, ['push', 'origin', 'HEAD:main'], dir);
    t.equal(pushed.status, 0, `${prefix}: an allowed push lands\n${pushed.stderr}`);
    const head = (await agent.gitAsync(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
    t.equal(run('git', ['--git-dir', join(root, `${repo}.git`), 'rev-parse', 'refs/heads/main']).trim(), head, `${prefix}: upstream has it`);

    const fetched = await git(`${prefix} fetch`, ['fetch', '-q', 'origin'], dir);
    t.equal(fetched.status, 0, fetched.stderr);

    await agent.gitAsync(['branch', 'side'], { cwd: dir });
    await commit(dir, '.github/workflows/ci.yml', 'on: push\n');
    const parked = await git(`${prefix} parked push`, ['push', 'origin', 'HEAD:main'], dir);
    const id = /"queueId":"([^"]+)"/.exec(parked.stderr)?.[1];
    t.ok(id, `${prefix}: parked\n${parked.stderr}`);

    refuseWith(root, repo, echo);
    const refusedApproval = await approve(`${prefix} approval the upstream refuses`, id!);
    t.equal(refusedApproval.status, 1, `${prefix}: the reviewer is told the upstream refused\n${refusedApproval.stderr}`);
    t.match(refusedApproval.stderr, /UPSTREAM-SAYS/);
    await agent.gitAsync(['switch', '-q', 'side'], { cwd: dir });
    await commit(dir, 'b.txt', 'b\n');
    const refused = await git(`${prefix} push the upstream refuses`, ['push', 'origin', 'side:refs/heads/other'], dir);
    t.match(refused.stderr, /upstream\.rejected/, `${prefix}: the agent is told\n${refused.stderr}`);
    t.match(refused.stderr, /UPSTREAM-SAYS/, 'with the upstream\'s words');
    acceptAll(root, repo);

    const approved = await approve(`${prefix} approval`, id!);
    t.equal(approved.status, 0, `${prefix}: approved and forwarded\n${approved.stderr}`);

    const check = heard(`${prefix} upstream check`, await runAsync(process.execPath, [pushgateBin, 'upstream', 'check', prefix, '--repo', repo, '--write', '--config', gateway.server.configPath], { env: baseEnv() }));
    t.equal(check.status, 0, `${prefix}: upstream check passes\n${check.stdout}${check.stderr}`);
  }
  const polled = await poller.stop();
  t.ok(polled.scans > 1, 'the process table was read while the commands ran');
  t.ok(polled.seen[ssh.deployKey]! > 0, 'the poller saw the ssh processes pushgate started (so it can see where a key would show)');
  t.ok(polled.seen['remote-http']! > 0, 'and the HTTP transport\'s');
  t.same(polled.hits, [], 'no credential in any process\'s arguments or environment');
  t.ok(http.counts.accepted > 0 && http.counts.refused > 0, 'the HTTP upstream asked for the credential and accepted it');

  const refusals = gateway.audit().filter((l) => l.type === 'upstream.forward' && l.upstream === 'http' && l.result === 'rejected');
  t.ok(refusals.length >= 2, 'the upstream\'s refusals are in the audit log');
  t.ok(refusals.some((l) => /denied for token \*\*\*/.test(l.reason ?? '')), 'with the echoed token masked');

  for (const [where, text] of said) {
    for (const [name, needle] of needles) t.notOk(text.includes(needle), `${name} not in what ${where} printed`);
  }
  for (const [name, needle] of needles) t.notOk(gateway.stderr.includes(needle), `${name} not in the server's stderr`);

  // Every file pushgate wrote, and every object of every repository under its directory (queue records included).
  const files: string[] = [];
  const gitDirs: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat === undefined) continue;
      if (stat.isDirectory()) {
        if (entry === 'objects' && statSync(join(dir, 'HEAD'), { throwIfNoEntry: false }) !== undefined) gitDirs.push(dir);
        walk(path);
      } else if (stat.isFile()) files.push(path);
    }
  };
  walk(gateway.dir);
  t.ok(files.some((f) => f.endsWith('audit.log')) && files.some((f) => f.endsWith('operator.log')), 'the audit and operator logs are among the files read');
  t.ok(gitDirs.some((d) => d.endsWith('queue.git')), 'queue records are among the repositories read');
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(file).toString('latin1');
    for (const [name, needle] of needles) if (text.includes(needle)) found.push(`${name} in ${file}`);
  }
  for (const gitDir of gitDirs) {
    const objects = spawnSync('git', ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch', '--unordered'], { encoding: 'latin1', maxBuffer: 256 * 1024 * 1024 }).stdout;
    for (const [name, needle] of needles) if (objects.includes(needle)) found.push(`${name} in an object of ${gitDir}`);
  }
  t.same(found, [], 'no credential in any file or object under the server\'s directory');
});
