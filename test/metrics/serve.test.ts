import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/tools.js';
import { SshUser, startGateway, type Ran } from '../gateway/harness.js';
import { checksummedToken, Rng } from '../scan/fixtures.js';
import { scrape, scrapeUntil, valueOf } from './scrape.js';

const gateway = await startGateway(t, { repos: ['team/app'] });
const url = gateway.url('team/app.git');

/** Commits `files` on top of the server's main (when it has one) and pushes to main. */
function pushOnMain(user: SshUser, work: string, files: Record<string, string>, message: string): Ran {
  user.git(['fetch', '-q', 'origin'], { cwd: work });
  if (user.git(['rev-parse', '-q', '--verify', 'origin/main'], { cwd: work }).status === 0) user.git(['reset', '-q', '--hard', 'origin/main'], { cwd: work });
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(work, file)), { recursive: true });
    writeFileSync(join(work, file), content);
  }
  if (user.git(['add', '-A'], { cwd: work }).status !== 0 || user.git(['commit', '-q', '-m', message], { cwd: work }).status !== 0) throw new Error('commit failed');
  return user.git(['push', 'origin', 'HEAD:refs/heads/main'], { cwd: work });
}

t.test('allowed, denied and parked pushes, a refused login: all in /metrics', async (t) => {
  const user = new SshUser(gateway, 'dev').sign();
  const work = join(tempDir(t), 'work');
  const cloned = user.git(['clone', '-q', url, work]);
  t.equal(cloned.status, 0, cloned.stderr);

  const allowed = pushOnMain(user, work, { 'README.md': 'hello\n' }, 'allowed');
  t.equal(allowed.status, 0, allowed.stderr);
  t.match(allowed.stderr, /pushgate-result: \{"decision":"allow"/);

  const token = checksummedToken(new Rng(4242), 'gh' + 'p_');
  const denied = pushOnMain(user, work, { 'deploy.env': `GITHUB_TOKEN=${token}\n` }, 'denied');
  t.not(denied.status, 0, 'the push with a token is refused');
  t.match(denied.stderr, /pushgate-result: \{"decision":"deny"/);
  t.match(denied.stderr, /secret\.github-token/);

  const parked = pushOnMain(user, work, { '.github/workflows/ci.yml': 'on: push\n' }, 'parked');
  t.not(parked.status, 0, 'a parked push is not applied');
  t.match(parked.stderr, /pushgate-result: \{"decision":"park"/);

  const expired = new SshUser(gateway, 'late').sign({ validity: '-2h:-1h' });
  const refused = expired.ssh(['git-upload-pack', "'team/app.git'"]);
  t.not(refused.status, 0, 'an expired certificate does not log in');
  await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'refused' && l.code === 'cert.expired');

  const health = await fetch(`${gateway.httpUrl}/healthz`);
  t.equal(health.status, 200);

  const result = await scrapeUntil(gateway.httpUrl, (s) => valueOf(s, 'pushgate_push_decisions_total', { decision: 'park' }) >= 1
    && valueOf(s, 'pushgate_push_decisions_total', { decision: 'deny' }) >= 1
    && valueOf(s, 'pushgate_push_decisions_total', { decision: 'allow' }) >= 1);
  t.equal(result.status, 200);
  t.match(result.contentType, /^text\/plain; version=0\.0\.4/);
  const { samples, text } = result;
  t.ok(valueOf(samples, 'pushgate_push_decisions_total', { decision: 'allow' }) >= 1, 'allow counted');
  t.ok(valueOf(samples, 'pushgate_push_decisions_total', { decision: 'deny' }) >= 1, 'deny counted');
  t.ok(valueOf(samples, 'pushgate_push_decisions_total', { decision: 'park' }) >= 1, 'park counted');
  t.ok(valueOf(samples, 'pushgate_push_findings_total', { rule: 'secret.github-token', decision: 'deny' }) >= 1, 'the secret finding counted by rule');
  t.ok(valueOf(samples, 'pushgate_push_findings_total', { rule: 'path.ci-workflow', decision: 'park' }) >= 1, 'the path finding counted by rule');
  t.ok(valueOf(samples, 'pushgate_scan_duration_seconds_count') >= 3, 'every check timed');
  t.ok(valueOf(samples, 'pushgate_scan_duration_seconds_sum') > 0);
  t.ok(valueOf(samples, 'pushgate_ssh_auth_failures_total', { reason: 'expired' }) >= 1, 'the expired login counted with its reason');
  t.ok(valueOf(samples, 'pushgate_ssh_sessions_total', { command: 'receive-pack' }) >= 3, 'push sessions counted');
  t.ok(valueOf(samples, 'pushgate_ssh_sessions_total', { command: 'upload-pack' }) >= 1, 'clone and fetch sessions counted');
  t.equal(valueOf(samples, 'pushgate_ssh_sessions_active'), 0, 'no session open once the clients are done');
  t.ok(valueOf(samples, 'pushgate_queue_entries', { state: 'pending' }) >= 1, 'the parked push is a pending entry');
  t.ok(valueOf(samples, 'pushgate_process_resident_memory_bytes') > 0, 'default process metrics, prefixed');
  t.notOk(text.includes(token), 'the token does not appear in the metrics');
  t.notOk(text.includes(token.slice(4, 20)), 'nor any part of it');
  t.notMatch(text, /pushgate_(ssh|push|queue)_\w+\{[^}]*(dev|team\/app|127\.0\.0\.1)/, 'no principal, repository or address in a label');
});

t.test('a refused command and a queue command are counted by kind', async (t) => {
  const user = new SshUser(gateway, 'cmd').sign();
  t.not(user.ssh(['rm', '-rf', '/']).status, 0);
  const before = valueOf((await scrape(gateway.httpUrl)).samples, 'pushgate_ssh_sessions_total', { command: 'queue' });
  user.ssh(['queue', 'list']);
  const after = await scrapeUntil(gateway.httpUrl, (s) => valueOf(s, 'pushgate_ssh_sessions_total', { command: 'queue' }) > before);
  t.equal(valueOf(after.samples, 'pushgate_ssh_sessions_total', { command: 'queue' }), before + 1);
  t.ok(valueOf(after.samples, 'pushgate_ssh_sessions_total', { command: 'refused' }) >= 1);
});

t.test('http.metrics false: /metrics is 404, health still answers; no issuer: issuance routes are 404', async (t) => {
  const quiet = await startGateway(t, { configure: (server) => server.setConfig(['http', 'metrics'], false) });
  t.match(quiet.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/, 'HTTP runs without an issuer');
  const metrics = await scrape(quiet.httpUrl);
  t.equal(metrics.status, 404);
  t.match(JSON.parse(metrics.text), { error: { code: 'not-found', message: /http\.metrics: false/ } });
  t.equal((await fetch(`${quiet.httpUrl}/healthz`)).status, 200);
  const issue = await fetch(`${quiet.httpUrl}/v1/certificates`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.equal(issue.status, 404);
  t.match(await issue.json(), { error: { code: 'issuance.disabled', message: /no identity issuer is configured/ } });
  const ca = await fetch(`${quiet.httpUrl}/v1/ca`);
  t.equal(ca.status, 404);
  t.match(await ca.json(), { error: { code: 'issuance.disabled' } });
  t.match(quiet.stderr, /"message":"http listening on 127\.0\.0\.1:\d+"/, 'the operator log says where HTTP listens');
});
