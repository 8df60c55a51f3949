import type { Command } from 'commander';
import { openAudit } from '../audit/index.js';
import { UNKNOWN_PRINCIPAL } from '../gateway/events.js';
import { silentLog } from '../gateway/operator-log.js';
import { Trust, TrustError } from '../gateway/trust.js';
import { describeOffer, principalsFor, runShell } from '../shell/index.js';
import { loadCliConfigCached } from './config-cached.js';
import { CONFIG_OPTION_HELP } from './config-option.js';
import { CliError, EXIT_ERROR, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';

export function registerShellCommand(program: Command, result: CommandResult): void {
  const shell = program.command('shell')
    .description('Run as sshd\'s ForceCommand: re-check the certificate in $SSH_USER_AUTH, then run the git command in $SSH_ORIGINAL_COMMAND under the gateway\'s rules.')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', [
      '',
      'sshd must run it with ExposeAuthInfo yes (see docs/sshd.md); without $SSH_USER_AUTH,',
      '$SSH_CONNECTION and a certificate it refuses to run. It never starts a shell.',
      '',
      'Example (sshd_config):',
      '  Match User git',
      '      ExposeAuthInfo yes',
      '      ForceCommand /usr/local/bin/pushgate shell --config /etc/pushgate/pushgate.yaml',
    ].join('\n'))
    .action(async (options: { config?: string }) => {
      const config = await loadCliConfigCached(options.config);
      // Without a log file the operator log would go to stderr, which is the client's.
      const log = config.log.file !== null ? (await import('../gateway/log.js')).createOperatorLog(config.log) : silentLog;
      const audit = openAudit(config.audit, { stderr: false });
      try {
        result.code = await runShell({ env: process.env, config, audit, log, tty: process.stdin.isTTY === true, forwardSignals: true });
      } finally {
        await audit.close();
        await log.close?.();
      }
    });

  shell.command('principals')
    .description('AuthorizedPrincipalsCommand for sshd: print the principal a certificate may log in as, when pushgate accepts it.')
    .argument('<user>', 'the login name (%u)')
    .argument('<type>', 'the key or certificate type (%t)')
    .argument('<key>', 'the base64 certificate (%k)')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', [
      '',
      'Prints nothing and exits 1 for a certificate pushgate refuses (untrusted CA, revoked by ca.krl,',
      'expired, unknown critical option) or a login other than the service user.',
      '',
      'Example (sshd_config):',
      '  AuthorizedPrincipalsCommand /usr/local/bin/pushgate shell principals --config /etc/pushgate/pushgate.yaml %u %t %k',
      '  AuthorizedPrincipalsCommandUser git',
    ].join('\n'))
    .action(async (user: string, type: string, key: string, options: { config?: string }) => {
      const config = await loadCliConfigCached(options.config ?? shell.opts<{ config?: string }>().config);
      let trust: Trust;
      try {
        trust = new Trust(config);
      } catch (error) {
        if (error instanceof TrustError) throw new CliError(error.message, EXIT_ERROR);
        throw error;
      }
      const decision = principalsFor({ user, type, key }, { config, trust });
      if (decision.ok) {
        process.stdout.write(`${decision.principal}\n`);
        result.code = 0;
        return;
      }
      const audit = openAudit(config.audit, { stderr: false });
      const offered = describeOffer(decision.certificate);
      try {
        await audit.record({
          type: 'ssh.auth', identity: { principal: UNKNOWN_PRINCIPAL, ...offered }, result: 'refused', code: decision.code,
          reason: `sshd AuthorizedPrincipalsCommand for ${user.slice(0, 64)}: ${decision.message}`,
        });
      } catch (error) {
        process.stderr.write(`pushgate: the audit log cannot be written: ${(error as Error).message}\n`);
      } finally {
        await audit.close();
      }
      process.stderr.write(`pushgate: ${decision.code}: ${decision.message}\n`);
      result.code = EXIT_REFUSED;
    });
}
