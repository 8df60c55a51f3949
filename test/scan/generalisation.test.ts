import t from 'tap';
import { lineMayHoldSecret, SecretScanner } from '../../src/scan/index.js';
import { Rng } from './fixtures.js';
import { contexts, credentials, lookalikes, pemKeys, pemMentions } from './grid.js';

/*
 * Generalisation: credentials of every supported kind and look-alikes,
 * generated from a fixed seed and placed into a grid of contexts (file
 * types × forms of assignment) that test/scan/grid.ts builds without
 * looking at the rules. Lines go through the same cheap filter and scanner,
 * in order, as the pre-receive hook feeds them.
 */

const SEED = 0x5eed17;
const ROUNDS = 3;
const MIN_RECALL = 0.97;
const MAX_FPR = 0.01;

const scanner = new SecretScanner();

/** The file's lines, filtered and scanned in order from one buffer, as the hook reads a blob or a diff. */
function flags(path: string, lines: readonly string[]): string[] {
  const found: string[] = [];
  const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  let start = 0;
  lines.forEach((line, index) => {
    const end = bytes.indexOf(0x0a, start);
    const pass = lineMayHoldSecret(bytes, start, end);
    start = end + 1;
    if (!pass) return;
    for (const finding of scanner.scanLine(path, index + 1, line)) found.push(finding.ruleId);
  });
  return found;
}

interface Tally {
  found: number;
  positives: number;
  noisy: number;
  negatives: number;
  missed: string[];
  wrong: string[];
}

t.test('recall and false-positive rate per context', async (t) => {
  const rng = new Rng(SEED);
  const tallies = new Map<string, Tally>();
  for (let round = 0; round < ROUNDS; round++) {
    const positives = credentials(rng);
    const negatives = lookalikes(rng);
    for (const context of contexts) {
      const tally = tallies.get(context.name) ?? { found: 0, positives: 0, noisy: 0, negatives: 0, missed: [], wrong: [] };
      tallies.set(context.name, tally);
      for (const credential of positives) {
        const lines = context.render(credential.words, credential.value, rng);
        if (lines === null) continue;
        tally.positives++;
        if (flags(context.path, lines).length > 0) tally.found++;
        else tally.missed.push(`${credential.kind}: ${lines.join(' ⏎ ')}`);
      }
      for (const lookalike of negatives) {
        if (lookalike.byName === true && context.fixedName === true) continue;
        const lines = context.render(lookalike.words, lookalike.value, rng);
        if (lines === null) continue;
        tally.negatives++;
        const found = flags(context.path, lines);
        if (found.length > 0) {
          tally.noisy++;
          tally.wrong.push(`${lookalike.kind} (${found.join(',')}): ${lines.join(' ⏎ ')}`);
        }
      }
    }
  }
  const rows = ['| context | credentials | recall | look-alikes | false-positive rate |', '|---|---|---|---|---|'];
  let found = 0;
  let positives = 0;
  let noisy = 0;
  let negatives = 0;
  for (const [name, tally] of tallies) {
    const recall = tally.positives === 0 ? 1 : tally.found / tally.positives;
    const fpr = tally.negatives === 0 ? 0 : tally.noisy / tally.negatives;
    rows.push(`| ${name} | ${tally.positives} | ${recall.toFixed(3)} | ${tally.negatives} | ${fpr.toFixed(3)} |`);
    found += tally.found;
    positives += tally.positives;
    noisy += tally.noisy;
    negatives += tally.negatives;
  }
  rows.push(`| all ${tallies.size} contexts | ${positives} | ${(found / positives).toFixed(4)} | ${negatives} | ${(noisy / negatives).toFixed(4)} |`);
  t.comment(`\n${rows.join('\n')}`);
  t.ok(positives >= 1000 && negatives >= 1000, `${positives} credentials and ${negatives} look-alikes placed`);
  for (const [name, tally] of tallies) {
    // A context that places nothing would pass the two ratios below without measuring anything.
    t.ok(tally.positives > 0 && tally.negatives > 0, `${name}: ${tally.positives} credentials and ${tally.negatives} look-alikes placed`);
    t.ok(tally.positives > 0 && tally.found / tally.positives >= MIN_RECALL, `${name}: recall ${tally.found}/${tally.positives}`, { missed: tally.missed });
    t.ok(tally.negatives > 0 && tally.noisy / tally.negatives <= MAX_FPR, `${name}: false positives ${tally.noisy}/${tally.negatives}`, { wrong: tally.wrong });
  }
});

t.test('private keys: a body after the header is a key, a header named in code or prose is not', async (t) => {
  const rng = new Rng(SEED + 1);
  for (const key of pemKeys(rng)) t.ok(flags(key.path, key.lines).includes('secret.private-key'), key.path);
  for (const mention of pemMentions()) t.same(flags(mention.path, mention.lines), [], mention.path);
});
