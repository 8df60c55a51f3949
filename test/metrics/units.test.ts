import t from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openAudit, type AuditEventInput } from '../../src/audit/index.js';
import type { AuditConfig } from '../../src/config/index.js';
import {
  authFailureReason, cachedQueueCounts, countDecisionLine, followDecisions, gatewayEventListener, PushgateMetrics, sessionCommandLabel,
} from '../../src/metrics/index.js';
import { run, tempDir } from '../helpers/tools.js';
import { parseMetrics, valueOf } from './scrape.js';

async function samples(metrics: PushgateMetrics) {
  return parseMetrics(await metrics.text());
}

t.test('session command labels', async (t) => {
  t.equal(sessionCommandLabel("git-receive-pack '/team/app.git'"), 'receive-pack');
  t.equal(sessionCommandLabel("git upload-pack 'team/app'"), 'upload-pack');
  t.equal(sessionCommandLabel("git-upload-archive 'x'"), 'upload-archive');
  t.equal(sessionCommandLabel('queue list --format json'), 'queue');
  t.equal(sessionCommandLabel("git-upload-pack 'a' (forced; requested: git-receive-pack 'b')"), 'upload-pack', 'a forced command counts as what ran');
  t.equal(sessionCommandLabel('something else'), 'other');
});

t.test('auth failure reasons', async (t) => {
  t.equal(authFailureReason('cert.expired'), 'expired');
  t.equal(authFailureReason('cert.untrusted-ca'), 'untrusted-ca');
  t.equal(authFailureReason('auth.plain-key'), 'not-a-certificate');
  t.equal(authFailureReason('auth.timeout'), 'timeout');
  t.equal(authFailureReason('krl.unusable'), 'krl-unusable');
  t.equal(authFailureReason(undefined), 'unknown');
});

t.test('gateway events: sessions by command, open sessions, failed logins', async (t) => {
  const metrics = new PushgateMetrics({ defaultMetrics: false });
  const listen = gatewayEventListener(metrics);
  const events: AuditEventInput[] = [
    { type: 'ssh.command', command: "git-receive-pack 'a'", result: 'started' },
    { type: 'ssh.command', command: 'queue list', result: 'started' },
    { type: 'ssh.session-end', command: 'queue list', result: '0' },
    { type: 'ssh.command', command: 'pty', result: 'refused', code: 'session.pty' },
    { type: 'ssh.auth', result: 'refused', code: 'cert.revoked' },
    { type: 'ssh.auth', result: 'ok' },
    { type: 'ssh.connect', result: 'ok' },
  ];
  for (const event of events) listen(event);
  const s = await samples(metrics);
  t.equal(valueOf(s, 'pushgate_ssh_sessions_total', { command: 'receive-pack' }), 1);
  t.equal(valueOf(s, 'pushgate_ssh_sessions_total', { command: 'queue' }), 1);
  t.equal(valueOf(s, 'pushgate_ssh_sessions_total', { command: 'refused' }), 1);
  t.equal(valueOf(s, 'pushgate_ssh_sessions_active'), 1, 'the push still runs');
  t.equal(valueOf(s, 'pushgate_ssh_auth_failures_total'), 1);
  t.equal(valueOf(s, 'pushgate_ssh_auth_failures_total', { reason: 'revoked' }), 1);
});

t.test('decision lines: decisions, findings by rule and outcome, durations; other lines ignored', async (t) => {
  const metrics = new PushgateMetrics({ defaultMetrics: false });
  const record = (fields: Record<string, unknown>): string => JSON.stringify({ v: 1, time: '2026-01-01T00:00:00.000Z', seq: 1, prev: '0'.repeat(64), hash: '1'.repeat(64), ...fields });
  countDecisionLine(metrics, record({
    type: 'push.decision', decision: 'deny', durationMs: 120,
    findings: [{ rule: 'secret.aws-access-key', action: 'deny', mode: 'enforce' }, { rule: 'limit.blob-size', action: 'park', mode: 'audit' }],
  }));
  countDecisionLine(metrics, record({ type: 'push.decision', decision: 'allow', durationMs: 3, findings: [] }));
  countDecisionLine(metrics, record({ type: 'ssh.command', decision: 'deny', reason: 'push.decision' }));
  countDecisionLine(metrics, '{"type":"push.decision" torn');
  countDecisionLine(metrics, JSON.stringify({ type: 'push.decision', decision: 'deny' }));
  const s = await samples(metrics);
  t.equal(valueOf(s, 'pushgate_push_decisions_total', { decision: 'deny' }), 1, 'only well-formed decision records count');
  t.equal(valueOf(s, 'pushgate_push_decisions_total', { decision: 'allow' }), 1);
  t.equal(valueOf(s, 'pushgate_push_findings_total', { rule: 'secret.aws-access-key', decision: 'deny' }), 1);
  t.equal(valueOf(s, 'pushgate_push_findings_total', { rule: 'limit.blob-size', decision: 'would-park' }), 1);
  t.equal(valueOf(s, 'pushgate_scan_duration_seconds_count'), 2);
  t.ok(Math.abs(valueOf(s, 'pushgate_scan_duration_seconds_sum') - 0.123) < 1e-9, 'durations in seconds');
  t.equal(valueOf(s, 'pushgate_scan_duration_seconds_bucket', { le: '0.01' }), 1);
});

t.test('the audit log is followed from its end, across rotation', async (t) => {
  const dir = tempDir(t);
  const config: AuditConfig = { file: join(dir, 'audit', 'audit.log'), hmacKeyFile: null, rotate: { size: 600, daily: false }, transports: [], headInterval: null, backgroundTimeout: 120_000 };
  const decision = (d: 'allow' | 'park' | 'deny'): AuditEventInput => ({ type: 'push.decision', repository: 'r', decision: d, findings: [], rules: [], durationMs: 10 });
  const log = openAudit(config, { stderr: false });
  await log.record(decision('deny'));
  const metrics = new PushgateMetrics({ defaultMetrics: false });
  const stop = new AbortController();
  const errors: Error[] = [];
  const following = followDecisions(config.file, metrics, { signal: stop.signal, intervalMs: 20, onError: (e) => errors.push(e) });
  await new Promise((resolve) => setTimeout(resolve, 100));
  for (let i = 0; i < 12; i++) await log.record(decision('allow'));
  await log.close(1000);
  t.ok(existsSync(`${config.file}`) && run('ls', [join(dir, 'audit')]).split('\n').filter((n) => n.startsWith('audit.log.')).length >= 2, 'the log rotated more than once');
  const deadline = Date.now() + 30_000;
  while (valueOf(await samples(metrics), 'pushgate_push_decisions_total', { decision: 'allow' }) < 12 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  stop.abort();
  await following;
  const s = await samples(metrics);
  t.equal(valueOf(s, 'pushgate_push_decisions_total', { decision: 'allow' }), 12, 'every record written after the start, none twice');
  t.equal(valueOf(s, 'pushgate_push_decisions_total', { decision: 'deny' }), 0, 'what was there before the start is not counted');
  t.same(errors, []);
});

t.test('queue counts: cached for a while; a repository that cannot be read is reported, not fatal', async (t) => {
  const root = tempDir(t);
  const gitDir = join(root, 'team', 'broken.git');
  mkdirSync(join(root, 'team'), { recursive: true });
  run('git', ['init', '-q', '--bare', gitDir]);
  const blob = run('git', ['--git-dir', gitDir, 'hash-object', '-w', '--stdin'], { input: 'not a record' }).trim();
  const tree = run('git', ['--git-dir', gitDir, 'mktree'], { input: `100644 blob ${blob}\tother.txt\n` }).trim();
  const env = { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@example.test', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@example.test' };
  const commit = run('git', ['--git-dir', gitDir, 'commit-tree', tree, '-m', 'x'], { env }).trim();
  run('git', ['--git-dir', gitDir, 'update-ref', 'refs/pushgate/queue/abcdefgh', commit]);
  let clock = 0;
  const problems: string[] = [];
  const counts = cachedQueueCounts({ reposRoot: () => root, onProblem: (repo, message) => problems.push(`${repo}: ${message}`), now: () => clock, ttlMs: 15_000 });
  const first = await counts();
  t.equal(first.get('pending'), 0, 'every state is present, zero when empty');
  t.equal(problems.length, 1);
  t.match(problems[0], /^team\/broken: queue entry abcdefgh: .*record\.json/);
  clock = 14_000;
  await counts();
  t.equal(problems.length, 1, 'a scrape within the interval reuses the reading');
  clock = 15_000;
  await counts();
  t.equal(problems.length, 2, 'after it, the repositories are read again');
});
