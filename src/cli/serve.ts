import type { Command } from 'commander';
import { ConfigError, ConfigSource, findConfigPath } from '../config/index.js';
import { CONFIG_OPTION_HELP } from './config-file.js';
import { CliError } from './exit.js';
import type { CommandResult } from './main.js';
import { serveUntilSignal, startServing } from './serving.js';

function openSource(path: string): ConfigSource {
  try {
    return new ConfigSource(path);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`configuration ${path} is not usable:\n${error.format()}`);
    throw error;
  }
}

export function registerServeCommand(program: Command, result: CommandResult): void {
  program.command('serve')
    .description('Run the SSH gateway (certificate logins, git commands only, access rules, audit) and the HTTP service (certificates, health, metrics).')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', [
      '',
      'Prints "pushgate: listening ssh=HOST:PORT http=HOST:PORT" on stderr when ready (port 0 in the config picks a free port;',
      'no http= part when http.enabled is false).',
      'HTTP (http.enabled, on http.listen): GET /healthz answers 200 while the server runs; GET /metrics is the',
      'Prometheus text format while http.metrics is true (see docs/metrics.md); POST /v1/certificates and GET /v1/ca',
      'issue certificates when identity.issuers names an issuer, and answer 404 otherwise.',
      'SIGHUP reloads the config, CA keys and KRL (an unusable config keeps the running one).',
      'SIGTERM stops accepting and lets running git commands finish, up to ssh.limits.drainTimeout.',
      '',
      'Example:',
      '  pushgate serve --config /etc/pushgate/pushgate.yaml',
    ].join('\n'))
    .action(async (options: { config?: string }) => {
      const serving = await startServing(openSource(findConfigPath(options.config)));
      process.stderr.write(`pushgate: listening ${serving.listening}\n`);
      await serveUntilSignal(serving, {
        onStop: (signal) => serving.log.info(`${signal}: no longer accepting connections; waiting for running commands`),
      });
      result.code = 0;
    });
}
