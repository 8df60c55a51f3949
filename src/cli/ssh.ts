import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { TokenSourceError } from '../identity/token-source.js';
// The agent's side only: the issuance index also loads the server's signing
// service and its config schema, which `pushgate ssh` (run before every git
// command) would pay for each time.
import { AgentState, defaultStateDir } from '../issuance/agent-state.js';
import { ensureFreshCertificate } from '../issuance/renewal.js';
import { sshArguments } from '../issuance/ssh-command.js';
import type { CommandResult } from './main.js';

/** What ssh itself exits with when it cannot connect or authenticate. */
export const SSH_FAILURE = 255;
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

function renewalProblem(error: unknown, state: AgentState): string {
  if (error instanceof TokenSourceError && error.code === 'login.interactive') return `pushgate: the certificate in ${state.dir} expired and ${error.message}`;
  return `pushgate: could not renew the certificate in ${state.dir}: ${(error as Error).message}`;
}

/**
 * Node cannot exec: ssh runs as a child sharing our stdio, signals sent to us
 * are passed on, and we end the way ssh ended (same code, or same signal).
 */
function runSsh(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.env.PUSHGATE_SSH ?? 'ssh', args, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    const done = (code: number): void => {
      for (const signal of FORWARDED) process.off(signal, forward);
      resolve(code);
    };
    child.once('error', (error) => {
      process.stderr.write(`pushgate: cannot run ssh: ${error.message}\n`);
      done(SSH_FAILURE);
    });
    child.once('exit', (code, signal) => {
      if (signal !== null) {
        for (const forwarded of FORWARDED) process.off(forwarded, forward);
        process.kill(process.pid, signal);
        // A signal Node ignores (SIGPIPE) returns here: report it the way a shell would.
        resolve(128 + (constants.signals[signal] ?? 0));
        return;
      }
      done(code ?? SSH_FAILURE);
    });
  });
}

export function registerSshCommand(program: Command, result: CommandResult): void {
  program.command('ssh')
    .description('OpenSSH with your pushgate key and certificate, renewed first when missing or about to expire. Use as core.sshCommand or GIT_SSH_COMMAND.')
    .option('--dir <dir>', 'state directory (default: $PUSHGATE_HOME, then ~/.pushgate)')
    .argument('[ssh-args...]', 'passed to ssh unchanged: options, destination, command')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', [
      '',
      'Renewal uses the login remembered by `pushgate login` (client credentials or a token file) and asks nobody;',
      'a device login cannot renew itself: run `pushgate login --device` again when told to.',
      'Extra ssh options: PUSHGATE_SSH_OPTIONS="-o UserKnownHostsFile=…", or place them after `--`.',
      'Exit status: ssh\'s own; 255 when the certificate could not be renewed (as ssh does when it cannot connect).',
      '',
      'Examples:',
      '  git config core.sshCommand "pushgate ssh"',
      '  GIT_SSH_COMMAND="pushgate ssh" git push origin HEAD',
      '  pushgate ssh -p 2222 git@git.example.com queue list',
    ].join('\n'))
    .action(async (args: string[], options: { dir?: string }) => {
      const state = new AgentState(options.dir ?? defaultStateDir());
      // git runs `<ssh command> -G host` to recognise OpenSSH; that needs no certificate.
      const probing = args.includes('-G');
      try {
        const fresh = probing ? { renewed: false as const } : await ensureFreshCertificate(state);
        if (fresh.renewed && process.env.PUSHGATE_DEBUG) {
          process.stderr.write(`pushgate: renewed the certificate for ${fresh.issued.principal} until ${fresh.issued.validBefore}\n`);
        }
      } catch (error) {
        process.stderr.write(`${renewalProblem(error, state)}\n`);
        result.code = SSH_FAILURE;
        return;
      }
      result.code = await runSsh(sshArguments(state, args));
    });
}
