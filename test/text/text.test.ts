import t from 'tap';
import { escapeControl, escapeControlKeepNewlines, hasControl, maskText, safeBlock, safeLine, terminalSafeJson } from '../../src/text/index.js';
import { gh, Rng } from '../scan/fixtures.js';

t.test('escapeControl shows every control character visibly', async (t) => {
  const esc = String.fromCharCode(27);
  t.equal(escapeControl(`a${esc}[8mhidden${esc}[0m`), 'a\\e[8mhidden\\e[0m');
  t.equal(escapeControl(`${esc}]52;c;ZXZpbA==\u0007`), '\\e]52;c;ZXZpbA==\\x07');
  t.equal(escapeControl('line\r\nnext\ttab'), 'line\\r\\nnext\\ttab');
  t.equal(escapeControl('\u009b31m'), '\\x9b31m', 'C1 CSI');
  t.equal(escapeControl('\u007f'), '\\x7f');
  t.equal(escapeControl('abc\u202edcba'), 'abc\\u{202e}dcba', 'bidi override');
  t.equal(escapeControl('plain ünïcode ✓'), 'plain ünïcode ✓');
  t.equal(escapeControlKeepNewlines(`a\nb${esc}c`), 'a\nb\\ec');
  t.ok(hasControl(`x${esc}`));
  t.notOk(hasControl('x'));
  t.notOk(hasControl('y'), 'no state kept between calls');
});

t.test('maskText masks what the content rules find', async (t) => {
  const token = gh(new Rng(7));
  const masked = maskText(`deploy with ${token} now`);
  t.notMatch(masked, token);
  t.match(masked, /^deploy with .*… now$|^deploy with .*…/);
  t.equal(maskText('nothing here'), 'nothing here');
  t.equal(maskText(''), '');
  const block = safeBlock(`first\nsecond ${token}\u001b[2J`);
  t.notMatch(block, token);
  t.match(block, /^first\nsecond .*\\e\[2J$/);
  t.notMatch(safeLine(`a\n${token}`), /\n/);
});

t.test('terminalSafeJson writes what JSON.stringify leaves raw as escapes, keeping the value', async (t) => {
  const value = { a: `x\u009b31m\u202ey\u2028z\u200bw\u007f`, b: 'plain ✓' };
  const json = terminalSafeJson(JSON.stringify(value));
  t.notMatch(json, /[\u007f-\u009f\u202e\u2028\u200b]/, 'none of them raw');
  t.match(json, '\\u009b');
  t.same(JSON.parse(json), value, 'the same JSON value');
  t.match(json, '✓', 'other characters kept');
});
