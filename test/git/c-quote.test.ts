import t from 'tap';
import { unquoteGitPath } from '../../src/git/index.js';

t.test('git C-quoted paths are read back to the original name', async (t) => {
  t.equal(unquoteGitPath('plain name.txt'), 'plain name.txt', 'unquoted text is verbatim');
  t.equal(unquoteGitPath('"a\\tb\\nc\\"d\\\\e"'), 'a\tb\nc"d\\e');
  t.equal(unquoteGitPath('"\\a\\b\\v\\f\\r"'), '\x07\b\v\f\r');
  t.equal(unquoteGitPath('"\\303\\274ber \\346\\226\\207"'), 'über 文', 'octal bytes form UTF-8');
  t.equal(unquoteGitPath('"say \\"hi\\" ü 😀.txt"'), 'say "hi" ü 😀.txt', 'raw non-ASCII inside quotes (core.quotePath=false)');
  t.equal(unquoteGitPath('"odd\\qescape"'), 'odd\\qescape', 'an unknown escape keeps its backslash');
  t.equal(unquoteGitPath('"unterminated'), 'unterminated');
});
