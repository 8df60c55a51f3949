import { Command, CommanderError } from 'commander';
import { CertError } from '../sshcert/index.js';
import { registerAuditCommands } from './audit.js';
import { registerCaCommands } from './ca.js';
import { registerCertCommands } from './cert.js';
import { registerConfigCommands } from './config.js';
import { registerDevCommand } from './dev.js';
import { registerHookCommands } from './hook.js';
import { registerInitCommand } from './init.js';
import { registerLoginCommand } from './login.js';
import { registerQueueCommands } from './queue.js';
import { registerRepoCommands } from './repo.js';
import { registerServeCommand } from './serve.js';
import { registerShellCommand } from './shell.js';
import { registerSshCommand } from './ssh.js';
import { registerScanCommand } from './scan.js';
import { packageVersion } from './version.js';
import { CliError, EXIT_ERROR, EXIT_OK } from './exit.js';

/** Holds the exit code an action decided, since commander's actions return nothing. */
export interface CommandResult {
  code: number;
}

export function buildProgram(result: CommandResult): Command {
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
  registerInitCommand(program, result);
  registerConfigCommands(program, result);
  registerRepoCommands(program, result);
  registerQueueCommands(program, result);
  registerHookCommands(program, result);
  registerScanCommand(program, result);
  registerCaCommands(program, result);
  registerCertCommands(program, result);
  registerServeCommand(program, result);
  registerShellCommand(program, result);
  registerLoginCommand(program, result);
  registerSshCommand(program, result);
  registerAuditCommands(program, result);
  registerDevCommand(program, result);
  return program;
}

function applyExitOverride(command: Command): void {
  command.exitOverride();
  for (const sub of command.commands) applyExitOverride(sub);
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const result: CommandResult = { code: EXIT_OK };
  const program = buildProgram(result);
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
