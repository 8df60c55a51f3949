/**
 * Every command of the real commander program says what it does and shows
 * an example: its --help has a description and an `Example` section.
 */
import type { Command } from 'commander';
import t from 'tap';
import { buildProgram } from '../../src/cli/main.js';
import { pushgateCli } from '../helpers/git-server.js';

function walk(command: Command, path: string[] = []): { path: string[]; command: Command }[] {
  return [{ path, command }, ...command.commands.flatMap((sub) => walk(sub, [...path, sub.name()]))];
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => { text += s; }, writeErr: (s) => { text += s; } });
  command.outputHelp();
  return text;
}

const commands = walk(await buildProgram({ code: 0 }));

t.test('the walk finds the whole command tree', async (t) => {
  const names = commands.map((c) => c.path.join(' '));
  for (const expected of ['init', 'serve', 'repo create', 'repo install-hooks', 'queue approve', 'queue wait', 'scan', 'login', 'ssh', 'audit verify', 'hook pre-receive', 'shell principals', 'dev secret']) {
    t.ok(names.includes(expected), `pushgate ${expected}`);
  }
  t.ok(commands.length >= 35, `${commands.length} commands`);
});

for (const { path, command } of commands) {
  const name = ['pushgate', ...path].join(' ');
  t.test(`${name} --help`, async (t) => {
    t.ok(command.description().trim().length > 10, 'has a description');
    const help = helpOf(command);
    t.match(help, /^Examples?( \([^)]*\))?:\n {2}\S/m, 'has an Example section with an indented command');
    const examples = help.slice(help.search(/^Examples?/m)).split('\n').slice(1).filter((l) => /^ {2,}\S/.test(l));
    t.ok(examples.some((line) => line.includes('pushgate') || line.includes('git ')), 'an example runs pushgate (or git through it)');
  });
}

t.test('the installed entry point prints the same help', async (t) => {
  for (const args of [['--help'], ['queue', 'approve', '--help'], ['hook', 'pre-receive', '--help']]) {
    const shown = pushgateCli(args);
    t.equal(shown.status, 0, args.join(' '));
    t.match(shown.stdout, /^Examples?( \([^)]*\))?:$/m, `${args.join(' ')} shows an example`);
  }
});

/** Shell words of one example line: quotes honoured, a trailing comment or a pipe, redirection or `&&` ends it. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unclosed quote in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (word === undefined && (c === '#' || c === '|' || c === '>' || c === '<' || c === '&' || c === ';')) {
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The `pushgate …` command lines of a help text's Example section, continuation lines joined. */
function exampleCommands(help: string): string[] {
  const section = help.slice(help.search(/^Examples?/m)).split('\n').slice(1).join('\n').replace(/\\\n\s*/g, '');
  return section.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('pushgate '));
}

t.test('every pushgate example in --help parses: its command, options and arguments exist', async (t) => {
  // A second program whose commands do nothing, so parsing checks the example without running it.
  const program = await buildProgram({ code: 0 });
  let errors = '';
  for (const { path, command } of walk(program)) {
    command.exitOverride();
    command.configureOutput({ writeOut: () => {}, writeErr: (s) => { errors += s; } });
    if (path.length > 0) command.action(() => {});
  }
  let checked = 0;
  for (const { path, command } of commands) {
    for (const example of exampleCommands(helpOf(command))) {
      const args = shellWords(example).slice(1);
      errors = '';
      let failure = '';
      try {
        await program.parseAsync(args, { from: 'user' });
      } catch (error) {
        failure = `${(error as Error).message} ${errors}`;
      }
      t.equal(failure, '', `pushgate ${path.join(' ')} --help: ${example}`);
      checked++;
    }
  }
  t.ok(checked >= commands.length, `${checked} examples parsed`);
});

t.test('a command line that names no command gets commander\'s own answer, whatever the word', async (t) => {
  for (const word of ['sevre', 'toString', '__proto__', 'constructor']) {
    const ran = pushgateCli([word]);
    t.equal(ran.status, 2, word);
    t.match(ran.stderr, `error: unknown command '${word}'`, word);
  }
  t.match(pushgateCli(['sevre']).stderr, /Did you mean serve\?/, 'a typo is answered with the closest command');
});
