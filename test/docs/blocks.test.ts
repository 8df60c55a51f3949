import t from 'tap';
import { codeBlocks, examplesOf } from './blocks.js';

const fence = '```';

t.test('sh runs, sh norun: <reason> is shown only', async (t) => {
  const doc = [`${fence}sh`, 'pushgate scan', fence, '', `${fence}sh norun: needs systemd`, 'systemctl start pushgate', fence, `${fence}yaml`, 'a: 1', fence].join('\n');
  const found = examplesOf(doc);
  t.same(found.problems, []);
  t.same(found.examples, [
    { kind: 'run', line: 1, text: 'pushgate scan' },
    { kind: 'norun', line: 5, text: 'systemctl start pushgate', reason: 'needs systemd' },
  ]);
  t.same(found.others.map((b) => b.info), ['yaml']);
});

t.test('a shell block with any other tag is an error, never skipped', async (t) => {
  for (const info of ['sh norun:', 'sh norun', 'shell', 'bash', 'sh-session', 'sh norun:reason', 'zsh', '']) {
    const found = examplesOf(`${fence}${info}\necho hi\n${fence}\n`);
    t.equal(found.examples.length, 0, JSON.stringify(info));
    t.equal(found.problems.length, 1, `${JSON.stringify(info)} is reported`);
  }
});

t.test('fences: longer fences nest shorter ones; an unclosed block is reported', async (t) => {
  const nested = codeBlocks(['````markdown', `${fence}sh`, 'x', fence, '````'].join('\n'));
  t.same(nested.blocks.map((b) => b.info), ['markdown']);
  t.match(codeBlocks(`${fence}sh\necho\n`).problems[0], /never closed/);
});
