import type { SecretFinding } from '../scan/index.js';

/** A finding with where it was found: a commit for history scans, nothing for files. */
export interface ScanResult extends SecretFinding {
  commit?: string;
}

export function formatText(results: readonly ScanResult[]): string {
  if (results.length === 0) return 'pushgate scan: no secrets found\n';
  const lines = results.map((r) => {
    const where = r.line > 0 ? `${r.path}:${r.line}:${r.column}` : r.path;
    return `${where}: ${r.ruleId}: ${r.title}: ${r.masked}${r.commit ? ` (commit ${r.commit.slice(0, 12)})` : ''}${r.encoded ? ` [${r.encoded}]` : ''}\n    fix: ${r.fix}`;
  });
  return `${lines.join('\n')}\npushgate scan: ${results.length} finding${results.length === 1 ? '' : 's'}\n`;
}

export function formatJson(results: readonly ScanResult[]): string {
  return `${JSON.stringify({
    findings: results.map((r) => ({
      rule: r.ruleId, title: r.title, path: r.path, line: r.line, column: r.column, excerpt: r.masked,
      fingerprint: r.fingerprint, confidence: r.confidence, fix: r.fix,
      ...(r.commit ? { commit: r.commit } : {}), ...(r.encoded ? { encoded: r.encoded } : {}),
    })),
  }, null, 2)}\n`;
}

/** SARIF 2.1.0, the format GitHub code scanning accepts. */
export function formatSarif(results: readonly ScanResult[], version: string): string {
  const ruleIds = [...new Set(results.map((r) => r.ruleId))].sort();
  const byId = new Map(results.map((r) => [r.ruleId, r]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'pushgate',
          version,
          rules: ruleIds.map((id) => ({
            id,
            name: id,
            shortDescription: { text: byId.get(id)!.title },
            help: { text: byId.get(id)!.fix },
            defaultConfiguration: { level: 'error' },
          })),
        },
      },
      results: results.map((r) => ({
        ruleId: r.ruleId,
        ruleIndex: ruleIds.indexOf(r.ruleId),
        level: 'error',
        message: { text: `${r.title}: ${r.masked}${r.commit ? ` in commit ${r.commit}` : ''}` },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: r.path.split('/').map(encodeURIComponent).join('/') },
            ...(r.line > 0 ? { region: { startLine: r.line, startColumn: Math.max(1, r.column) } } : {}),
          },
        }],
        partialFingerprints: { 'pushgate/v1': r.fingerprint },
      })),
    }],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
