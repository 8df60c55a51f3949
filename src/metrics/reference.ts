/**
 * docs/metrics.md, generated from the registry: the name, type and help
 * string of every pushgate metric. A test keeps the file equal to this text.
 */
import { PushgateMetrics } from './registry.js';

export const METRICS_DOC_PATH = 'docs/metrics.md';

function labelsOf(metrics: PushgateMetrics, name: string): readonly string[] {
  // prom-client keeps the constructor's labelNames on the metric; its typings do not say so.
  const metric = metrics.registry.getSingleMetric(name) as unknown as { labelNames?: readonly string[] } | undefined;
  return metric?.labelNames ?? [];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function metricsReferenceMarkdown(): string {
  const metrics = new PushgateMetrics({ defaultMetrics: false });
  const rows = metrics.registry.getMetricsAsArray().map((m) => {
    const labels = labelsOf(metrics, m.name);
    return `| \`${m.name}\` | ${m.type} | ${labels.length === 0 ? '—' : labels.map((l) => `\`${l}\``).join(', ')} | ${cell(m.help)} |`;
  });
  return [
    '# Metrics reference',
    '',
    '<!-- Generated from the metric help strings in src/metrics/registry.ts; do not edit by hand. -->',
    '',
    '`pushgate serve` answers `GET /metrics` on its HTTP listener (`http.listen`) in the Prometheus text format while `http.metrics` is true (the default); with `http.metrics: false` the path answers 404. Scrapes are not rate-limited.',
    '',
    '| name | type | labels | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
    'Besides these, prom-client\'s default process and Node.js metrics are exported with the same `pushgate_` prefix (for example `pushgate_process_cpu_seconds_total`, `pushgate_process_resident_memory_bytes`, `pushgate_nodejs_eventloop_lag_seconds`, `pushgate_nodejs_heap_size_used_bytes`).',
    '',
    'Counters start at zero when the server starts. Push decisions, findings and check durations are read from the audit log as the hook writes it (from its end at start, following rotation), so they include pushes made through sshd or on the server itself, and only those made while `pushgate serve` runs. Label values are bounded: commands, refusal codes, decisions and states are fixed sets, rule ids come from the configured rules, issuers from `identity.issuers`, upstreams from `upstreams[].name` (any other name counts as `other`). No label carries a principal, a repository, an address or any part of a finding.',
    '',
  ].join('\n');
}
