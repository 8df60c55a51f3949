import t from 'tap';
import { MAX_COMMAND_LENGTH, parseCommand, permissionFor, splitWords, sqDequote } from '../../src/gateway/command.js';

t.test('sqDequote follows git', async (t) => {
  t.equal(sqDequote("'team/app.git'"), 'team/app.git');
  t.equal(sqDequote("'a'\\''b'"), "a'b");
  t.equal(sqDequote("'a'\\!'b'"), 'a!b');
  t.equal(sqDequote("''"), '');
  t.equal(sqDequote('team/app.git'), null, 'unquoted');
  t.equal(sqDequote("'unterminated"), null);
  t.equal(sqDequote("'a' 'b'"), null, 'two words');
  t.equal(sqDequote("'a'\\x'b'"), null, 'only \\\' and \\! may be escaped');
  t.equal(sqDequote("'a'b"), null);
});

t.test('git commands', async (t) => {
  t.same(parseCommand("git-upload-pack '/team/app.git'"), { kind: 'git', service: 'git-upload-pack', path: '/team/app.git' });
  t.same(parseCommand("git-receive-pack 'team/app'"), { kind: 'git', service: 'git-receive-pack', path: 'team/app' });
  t.same(parseCommand("git upload-archive 'x'"), { kind: 'git', service: 'git-upload-archive', path: 'x' });
  t.same(parseCommand("  git-upload-pack   'x'  "), { kind: 'git', service: 'git-upload-pack', path: 'x' });
  t.equal(permissionFor('git-receive-pack'), 'write');
  t.equal(permissionFor('git-upload-pack'), 'read');
  t.equal(permissionFor('git-upload-archive'), 'read');
});

t.test('everything else is refused with a code', async (t) => {
  const cases: Array<[string, string]> = [
    ['', 'command.empty'],
    ['   ', 'command.empty'],
    ['sh', 'command.unknown'],
    ['git', 'command.unknown'],
    ['git status', 'command.unknown'],
    ["git-upload-pack 'x'; id", 'command.bad-argument'],
    ['git-upload-pack', 'command.bad-argument'],
    ["git-upload-pack ''", 'command.bad-argument'],
    ["git-upload-pack '-x'", 'command.bad-argument'],
    ["git-upload-pack 'a\nb'", 'command.bad-argument'],
    ["git-upload-pack 'a\0b'", 'command.bad-argument'],
    ['git-upload-pack "x"', 'command.bad-argument'],
    [`git-upload-pack '${'a'.repeat(MAX_COMMAND_LENGTH)}'`, 'command.too-long'],
    ["queue 'unbalanced", 'command.bad-argument'],
  ];
  for (const [line, code] of cases) {
    const parsed = parseCommand(line);
    t.equal(parsed.kind, 'error', JSON.stringify(line));
    if (parsed.kind === 'error') {
      t.equal(parsed.code, code, JSON.stringify(line));
      t.type(parsed.message, 'string');
    }
  }
});

t.test('queue commands are split into words, never run by a shell', async (t) => {
  t.same(parseCommand('queue list'), { kind: 'queue', argv: ['list'] });
  t.same(parseCommand('queue'), { kind: 'queue', argv: [] });
  t.same(parseCommand(`queue reject ab12 --reason 'too big'`), { kind: 'queue', argv: ['reject', 'ab12', '--reason', 'too big'] });
  t.same(parseCommand('queue approve ab12 --comment "looks \\"fine\\" \\\\ ok"'), { kind: 'queue', argv: ['approve', 'ab12', '--comment', 'looks "fine" \\ ok'] });
  t.same(parseCommand('queue show a\\ b $(id)'), { kind: 'queue', argv: ['show', 'a b', '$(id)'] });
  t.same(splitWords(`a''b "" ''`), ['ab', '', '']);
  t.equal(splitWords('"open'), null);
  t.equal(splitWords('trailing\\'), null);
});
