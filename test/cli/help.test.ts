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

const commands = walk(buildProgram({ code: 0 }));

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
