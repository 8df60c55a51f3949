#!/usr/bin/env node
// Prints the failed assertions of the last `tap` run, with the subtests they
// sit in and their diagnostics, read from tap's saved results
// (.tap/test-results/*.tap). `npm test` runs it after a failed run, so the
// failure is the last thing a log shows, even where only its tail is kept.
// tap's own summary reporters redraw a progress display many times a second,
// which floods a log that is not a terminal; this reads the raw TAP instead.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.argv[2] ?? '.tap/test-results';
const MAX_DIAG_LINES = 60;

function files(dir) {
  let out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(files(path));
    else if (name.endsWith('.tap')) out.push(path);
  }
  return out.sort();
}

const indentOf = (line) => line.length - line.trimStart().length;
const result = /^(not ok|ok)\b\s*\d*\s*(?:-\s*)?(.*?)(?:\s+#\s+(?:time=|SKIP|TODO).*)?$/;

let failures = 0;
for (const path of files(root)) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const stack = []; // { name, indent, failed }
  let sawPlan = false;
  const printed = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const indent = indentOf(line);
    const text = line.trim();
    if (text.startsWith('# Subtest: ')) {
      stack.push({ name: text.slice('# Subtest: '.length), indent, failed: false });
      continue;
    }
    if (indent === 0 && /^1\.\.\d+/.test(text)) sawPlan = true;
    if (text.startsWith('Bail out!')) printed.push(`  ${text}`);
    const m = result.exec(text);
    if (!m) continue;
    const [, status, name] = m;
    const top = stack[stack.length - 1];
    const closes = top !== undefined && top.indent === indent && top.name === name;
    if (closes) stack.pop();
    if (status !== 'not ok') continue;
    for (const s of stack) s.failed = true;
    if (closes && top.failed) continue; // a parent of a failure already printed
    failures++;
    const where = [...stack.map((s) => s.name), name].join(' > ');
    const diag = [];
    if (lines[i + 1]?.trim() === '---') {
      for (let j = i + 2; j < lines.length && lines[j].trim() !== '...'; j++) diag.push(lines[j].slice(indent + 2));
    }
    const shown = diag.slice(0, MAX_DIAG_LINES);
    if (diag.length > shown.length) shown.push(`… ${diag.length - shown.length} more lines`);
    printed.push(`✖ ${where}`, ...shown.map((l) => `    ${l}`));
  }
  if (!sawPlan) printed.push('  (the file did not finish: it crashed, hung or timed out; its last lines:)', ...lines.slice(-15).map((l) => `    ${l}`));
  if (printed.length > 0) {
    console.log(`\n# ${relative('.', path)}`);
    for (const l of printed) console.log(l);
  }
}
console.log(failures > 0 ? `\n# ${failures} failed assertion(s), listed above` : '\n# no failed assertion in the saved results');
