import t from 'tap';
import { readFileSync } from 'node:fs';
import { metricsReferenceMarkdown, PushgateMetrics } from '../../src/metrics/index.js';

const docPath = new URL('../../../docs/metrics.md', import.meta.url).pathname;

t.test('docs/metrics.md is the generated reference', async (t) => {
  const text = readFileSync(docPath, 'utf8');
  t.equal(text, metricsReferenceMarkdown(), 'regenerate with: npx tsc -p tsconfig.json && node -e "import(\'./build/src/metrics/index.js\').then(m => process.stdout.write(m.metricsReferenceMarkdown()))" > docs/metrics.md');
  t.notMatch(text, /^```sh/m, 'the reference holds no example commands');
});

t.test('the metric names, types and labels others rely on', async (t) => {
  const metrics = new PushgateMetrics({ defaultMetrics: false });
  const expected: [string, string, string[]][] = [
    ['pushgate_ssh_sessions_total', 'counter', ['command']],
    ['pushgate_ssh_sessions_active', 'gauge', []],
    ['pushgate_ssh_auth_failures_total', 'counter', ['reason']],
    ['pushgate_push_decisions_total', 'counter', ['decision']],
    ['pushgate_push_findings_total', 'counter', ['rule', 'decision']],
    ['pushgate_scan_duration_seconds', 'histogram', []],
    ['pushgate_queue_entries', 'gauge', ['state']],
    ['pushgate_certificates_issued_total', 'counter', ['issuer']],
    ['pushgate_certificate_requests_refused_total', 'counter', ['reason']],
    ['pushgate_audit_head_seq', 'gauge', []],
    ['pushgate_audit_head_info', 'gauge', ['hash']],
    ['pushgate_audit_head_timestamp_seconds', 'gauge', []],
    ['pushgate_upstream_forwards_total', 'counter', ['upstream', 'result']],
    ['pushgate_upstream_refresh_duration_seconds', 'histogram', ['upstream', 'result']],
    ['pushgate_upstream_mirror_age_seconds', 'gauge', ['upstream']],
  ];
  const actual = metrics.registry.getMetricsAsArray().map((m) => [m.name, m.type, (m as unknown as { labelNames: string[] }).labelNames]);
  t.same(actual, expected);
  for (const [name, type, labels] of expected) {
    t.match(metricsReferenceMarkdown(), `| \`${name}\` | ${type} | ${labels.length === 0 ? '—' : labels.map((l) => `\`${l}\``).join(', ')} |`);
  }
});

t.test('two servers in one process keep separate counts', async (t) => {
  const a = new PushgateMetrics();
  const b = new PushgateMetrics();
  a.pushDecisions.inc({ decision: 'deny' });
  t.match(await a.text(), 'pushgate_push_decisions_total{decision="deny"} 1');
  t.notMatch(await b.text(), 'pushgate_push_decisions_total{decision="deny"}');
  t.match(await b.text(), /^pushgate_process_cpu_seconds_total /m, 'each registry has the default metrics');
});
