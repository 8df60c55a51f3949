import t from 'tap';
import { maskSecret, MAX_REVEALED_FRACTION, rules, SecretScanner } from '../../src/scan/index.js';
import { buildCorpus } from './corpus.js';

const { positives, negatives } = buildCorpus();
const scanner = new SecretScanner();

t.test('the corpus is large and mostly look-alikes', async (t) => {
  t.ok(positives.length + negatives.length >= 300, `${positives.length + negatives.length} lines`);
  t.ok(negatives.length >= (positives.length + negatives.length) / 2, `${negatives.length} look-alikes`);
  const covered = new Set(positives.map((sample) => sample.ruleId));
  const uncovered = rules.filter((rule) => !covered.has(rule.id)).map((rule) => rule.id);
  t.same(uncovered, [], 'every rule has at least one positive sample');
});

t.test('recall and false-positive rate', async (t) => {
  const missed: string[] = [];
  for (const sample of positives) {
    const findings = scanner.scanLine(sample.path, 1, sample.line);
    if (!findings.some((finding) => finding.ruleId === sample.ruleId)) missed.push(`${sample.ruleId}: ${findings.map((f) => f.ruleId).join(',')}`);
  }
  const noisy: string[] = [];
  for (const sample of negatives) {
    const findings = scanner.scanLine(sample.path, 1, sample.line);
    if (findings.length > 0) noisy.push(`${sample.note}: ${findings.map((f) => `${f.ruleId} ${f.masked}`).join(',')}`);
  }
  const recall = (positives.length - missed.length) / positives.length;
  const fpr = noisy.length / negatives.length;
  t.comment(`corpus: ${positives.length} positives, ${negatives.length} look-alikes`);
  t.comment(`recall ${recall.toFixed(4)}, false-positive rate ${fpr.toFixed(4)}`);
  t.ok(recall >= 0.95, `recall ${recall}`, { missed });
  t.ok(fpr <= 0.02, `false-positive rate ${fpr}`, { noisy });
});

t.test('recall holds across seeds', async (t) => {
  let found = 0;
  let total = 0;
  let noisy = 0;
  let quiet = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const corpus = buildCorpus(seed);
    for (const sample of corpus.positives) {
      total++;
      if (scanner.scanLine(sample.path, 1, sample.line).some((finding) => finding.ruleId === sample.ruleId)) found++;
    }
    for (const sample of corpus.negatives) {
      quiet++;
      if (scanner.scanLine(sample.path, 1, sample.line).length > 0) noisy++;
    }
  }
  t.comment(`20 seeds: recall ${(found / total).toFixed(4)}, false-positive rate ${(noisy / quiet).toFixed(4)}`);
  t.ok(found / total >= 0.95);
  t.ok(noisy / quiet <= 0.02);
});

t.test('findings never carry the plaintext and masks reveal at most a quarter', async (t) => {
  for (const sample of positives) {
    for (const finding of scanner.scanLine(sample.path, 1, sample.line)) {
      const secret = sample.line.slice(finding.start, finding.end);
      const serialised = JSON.stringify(finding);
      if (finding.encoded === undefined) {
        t.equal(finding.masked, maskSecret(secret), `${finding.ruleId}: masked with maskSecret`);
      }
      if (secret.length >= 8) t.notOk(serialised.includes(secret), `${finding.ruleId}: no plaintext in ${serialised}`);
      const shown = finding.masked === '****' ? 0 : finding.masked.replace('…', '').length;
      if (finding.encoded === undefined) {
        t.ok(shown <= Math.floor(secret.length * MAX_REVEALED_FRACTION), `${finding.ruleId}: ${finding.masked} reveals ${shown} of ${secret.length}`);
      } else {
        t.ok(shown <= 8, `${finding.ruleId}: ${finding.masked}`);
      }
    }
  }
});
