import { escapeControl } from '../text/escape.js';
import type { AuditRecord } from './types.js';

export interface RuleCounts {
  rule: string;
  /** Pushes in which the rule had an enforced deny finding. */
  deny: number;
  park: number;
  /** Pushes in which an audit-only finding of the rule would have denied / parked. */
  wouldDeny: number;
  wouldPark: number;
  /** Every finding of the rule, however many per push. */
  findings: number;
}

export interface DecisionReport {
  /** `push.decision` records counted. */
  pushes: number;
  decisions: { allow: number; park: number; deny: number };
  /** Most active first. */
  rules: RuleCounts[];
}

type Column = 'deny' | 'park' | 'wouldDeny' | 'wouldPark';

function column(action: string, mode: string): Column | undefined {
  const audit = mode === 'audit';
  if (action === 'deny') return audit ? 'wouldDeny' : 'deny';
  if (action === 'park') return audit ? 'wouldPark' : 'park';
  return undefined;
}

/** What each rule decided, or would have decided, over the `push.decision` records given. */
export async function decisionReport(records: AsyncIterable<AuditRecord> | Iterable<AuditRecord>): Promise<DecisionReport> {
  const report: DecisionReport = { pushes: 0, decisions: { allow: 0, park: 0, deny: 0 }, rules: [] };
  const byRule = new Map<string, RuleCounts>();
  for await (const record of records) {
    if (record.type !== 'push.decision') continue;
    report.pushes++;
    if (record.decision === 'allow' || record.decision === 'park' || record.decision === 'deny') report.decisions[record.decision]++;
    const seen = new Set<string>();
    for (const finding of record.findings ?? []) {
      let counts = byRule.get(finding.rule);
      if (counts === undefined) {
        counts = { rule: finding.rule, deny: 0, park: 0, wouldDeny: 0, wouldPark: 0, findings: 0 };
        byRule.set(finding.rule, counts);
      }
      counts.findings++;
      const col = column(finding.action, finding.mode);
      if (col !== undefined && !seen.has(`${finding.rule}\0${col}`)) {
        seen.add(`${finding.rule}\0${col}`);
        counts[col]++;
      }
    }
  }
  const total = (c: RuleCounts): number => c.deny + c.park + c.wouldDeny + c.wouldPark;
  report.rules = [...byRule.values()].sort((a, b) => total(b) - total(a) || b.findings - a.findings || (a.rule < b.rule ? -1 : 1));
  return report;
}

/** The report as an aligned table. */
export function formatReportText(report: DecisionReport, period: string): string {
  const { allow, park, deny } = report.decisions;
  const out = [`${report.pushes} push decisions ${period}: ${allow} allowed, ${park} parked, ${deny} denied`];
  if (report.rules.length === 0) return `${out[0]}\nno findings`;
  const header = ['rule', 'deny', 'park', 'would deny', 'would park', 'findings'];
  // A rule id is read from the log like everything else in it: shown escaped.
  const rows = report.rules.map((r) => [escapeControl(r.rule), r.deny, r.park, r.wouldDeny, r.wouldPark, r.findings].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  out.push('', fmt(header), ...rows.map(fmt));
  return out.join('\n');
}
