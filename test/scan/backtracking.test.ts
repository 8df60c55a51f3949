import t from 'tap';
import { rules, SecretScanner } from '../../src/scan/index.js';

// Long, adversarial lines (keywords followed by long runs of the characters
// the patterns accept) must scan in linear-ish time.
const fillers = ['a', 'A', '0', '-', '_', '.', 'aA0', 'a.', 'a-', 'A_', '=', '/', '+', 'ab:', '%', ' '];

t.test('no rule backtracks catastrophically', async (t) => {
  const scanner = new SecretScanner();
  let worst = 0;
  let worstCase = '';
  for (const rule of rules) {
    const regex = new RegExp(rule.regex.source, `${rule.regex.flags}g`);
    for (const keyword of rule.keywords) {
      for (const filler of fillers) {
        const line = `${keyword} = "${filler.repeat(Math.ceil(20_000 / filler.length))}`;
        const started = performance.now();
        regex.lastIndex = 0;
        while (regex.exec(line) !== null);
        scanner.scanLine('x.env', 1, line);
        const elapsed = performance.now() - started;
        if (elapsed > worst) {
          worst = elapsed;
          worstCase = `${rule.id} / ${keyword} / ${JSON.stringify(filler)}`;
        }
      }
    }
  }
  t.comment(`slowest 20 kB line: ${worst.toFixed(1)} ms (${worstCase})`);
  // Catastrophic backtracking on 20 kB takes minutes; a loaded machine takes milliseconds.
  t.ok(worst < 3000, worstCase);
});

t.test('a long line of keywords and assignments', async (t) => {
  const scanner = new SecretScanner();
  const line = 'password=token=secret=auth=apikey='.repeat(3000);
  const started = performance.now();
  scanner.scanLine('x.env', 1, line);
  t.ok(performance.now() - started < 5000);
});
