import { Command, CommanderError } from 'commander';
import { CertError } from '../sshcert/index.js';
import { packageVersion } from './version.js';
import { CliError, EXIT_ERROR, EXIT_OK } from './exit.js';

/** Holds the exit code an action decided, since commander's actions return nothing. */
export interface CommandResult {
  code: number;
}

type Register = (program: Command, result: CommandResult) => void;

/**
 * Each top-level command's module, in the order `--help` lists them. Loaded
 * on demand: together they pull in ssh2, zod, winston, yaml, jose and the
 * rest (about 300 ms), while `pushgate ssh` runs before every git command and
 * `pushgate shell` on every sshd connection.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  init: async () => (await import('./init.js')).registerInitCommand,
  config: async () => (await import('./config.js')).registerConfigCommands,
  repo: async () => (await import('./repo.js')).registerRepoCommands,
  queue: async () => (await import('./queue.js')).registerQueueCommands,
  hook: async () => (await import('./hook.js')).registerHookCommands,
  scan: async () => (await import('./scan.js')).registerScanCommand,
  ca: async () => (await import('./ca.js')).registerCaCommands,
  cert: async () => (await import('./cert.js')).registerCertCommands,
  serve: async () => (await import('./serve.js')).registerServeCommand,
  shell: async () => (await import('./shell.js')).registerShellCommand,
  login: async () => (await import('./login.js')).registerLoginCommand,
  ssh: async () => (await import('./ssh.js')).registerSshCommand,
  audit: async () => (await import('./audit.js')).registerAuditCommands,
  dev: async () => (await import('./dev.js')).registerDevCommand,
  policy: async () => (await import('./policy.js')).registerPolicyCommands,
  upstream: async () => (await import('./upstream.js')).registerUpstreamCommands,
};

/**
 * The commander program. With `only` naming a top-level command, just that
 * command is registered (what `main` does when the command line names one);
 * otherwise all of them, for the full help and for suggestions on a typo.
 */
export async function buildProgram(result: CommandResult, only?: string): Promise<Command> {
  const program = new Command('pushgate')
    .description('Guardrails for git push over SSH: certificate-only access, pre-receive policy and secret scanning, reviewed pending pushes.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', [
      '',
      'Run `pushgate <command> --help` for what a command does, with an example.',
      'Guides: README.md and docs/ (admin, agent, reviewer, operations, config).',
      '',
      'Examples:',
      '  pushgate init --dir /srv/pushgate && pushgate serve --config /srv/pushgate/pushgate.yaml',
      '  pushgate scan main..HEAD',
    ].join('\n'))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((name) => COMMANDS[name]!()))) register(program, result);
  return program;
}

function applyExitOverride(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) applyExitOverride(sub);
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const result: CommandResult = { code: EXIT_OK };
  const program = await buildProgram(result, argv[2]);
  applyExitOverride(program);
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_ERROR;
    }
    if (error instanceof CliError) {
      process.stderr.write(`pushgate: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof CertError) {
      process.stderr.write(`pushgate: ${error.code}: ${error.message}\n`);
      return EXIT_ERROR;
    }
    throw error;
  }
}
