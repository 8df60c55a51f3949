/**
 * Words and arguments pushgate prints for sh come back from sh exactly as
 * they were, whatever they hold.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { shellArgument, shellWord } from '../../src/self/index.js';
import { Rng } from '../scan/fixtures.js';

const SAMPLES = ['plain', '/usr/bin/node', 'a b', "it's", '"q"', '$HOME', '`id`', '!x', 'a\\b', '*', '~', '', "'", '%d', 'tab\there', 'x;y', '&', '|', '(', '#c', '=v'];

function viaSh(line: string): string {
  return spawnSync('sh', ['-c', `printf '%s' ${line}`], { encoding: 'utf8' }).stdout;
}

t.test('shellWord: sh reads back the same word', async (t) => {
  const rng = new Rng(3);
  const alphabet = ` \t'"\\$\`!*?~#&|;<>(){}[]=%,.:/-_aZ09é`;
  const random = Array.from({ length: 200 }, () => Array.from({ length: 1 + rng.int(12) }, () => alphabet[rng.int(alphabet.length)]).join(''));
  for (const word of [...SAMPLES, ...random]) t.equal(viaSh(shellWord(word)), word, JSON.stringify(word));
  t.equal(shellWord('/usr/bin/node'), '/usr/bin/node', 'plain words stay as they are');
});

t.test('shellArgument: double quotes when nothing inside expands, and the same value back', async (t) => {
  t.equal(shellArgument('pushgate ssh'), '"pushgate ssh"');
  t.equal(shellArgument("pushgate ssh --dir '/a b'"), `"pushgate ssh --dir '/a b'"`);
  for (const value of [...SAMPLES, "pushgate ssh --dir '/x/$HOME'"]) t.equal(viaSh(shellArgument(value)), value, JSON.stringify(value));
});
