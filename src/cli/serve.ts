import type { Command } from 'commander';
import { auditConfigWarnings, publishAuditHead } from '../audit/index.js';
import { ConfigError, ConfigSource, findConfigPath } from '../config/index.js';
import { createOperatorLog, Gateway, GatewayError, spawnQueueCommand, ThreadedAudit } from '../gateway/index.js';
import { HttpServiceError, startHttpService, type HttpService } from '../http/index.js';
import { CONFIG_OPTION_HELP } from './config-file.js';
import { CliError, EXIT_ERROR } from './exit.js';
import type { CommandResult } from './main.js';

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

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
      const source = openSource(findConfigPath(options.config));
      const config = source.current;
      const log = createOperatorLog(config.log);
      // Appends block on fsync: they run on a thread of their own, off the SSH data path.
      const audit = new ThreadedAudit(config.audit);
      try {
        await audit.ready();
      } catch (error) {
        await audit.close();
        throw new CliError(`the audit log cannot be opened: ${(error as Error).message}`, EXIT_ERROR);
      }
      // Metrics only where they can be scraped; prom-client loads with them.
      const metrics = config.http.enabled ? (await import('../metrics/index.js')).createServeMetrics(() => gateway.config, log) : undefined;
      let gateway: Gateway;
      let http: HttpService | undefined;
      // The audit log's head in the operator log: at start, when it moved, at stop.
      let auditHead: ReturnType<typeof publishAuditHead> | undefined;
      try {
        gateway = new Gateway({
          configSource: source, audit, log, queueHandler: spawnQueueCommand({ configPath: source.path }),
          ...(metrics !== undefined ? { onEvent: metrics.onGatewayEvent } : {}),
        });
        const address = await gateway.listen();
        try {
          if (config.http.enabled) {
            http = await startHttpService({
              config: () => gateway.config, audit, log,
              ...(metrics !== undefined ? { routes: metrics.routes, issuance: metrics.issuance } : {}),
            });
            log.info(`http listening on ${hostPort(http.address.address, http.address.port)}`, {
              issuance: config.identity.issuers.length > 0, metrics: config.http.metrics,
            });
          }
        } catch (error) {
          await gateway.shutdown();
          throw error;
        }
        metrics?.start();
        for (const warning of auditConfigWarnings(config.audit)) log.warn(warning);
        auditHead = publishAuditHead({ file: config.audit.file, log, intervalMs: config.audit.headInterval });
        const httpPart = http === undefined ? '' : ` http=${hostPort(http.address.address, http.address.port)}`;
        process.stderr.write(`pushgate: listening ssh=${hostPort(address.address, address.port)}${httpPart}\n`);
      } catch (error) {
        await audit.close();
        if (error instanceof GatewayError || error instanceof HttpServiceError) throw new CliError(error.message, EXIT_ERROR);
        throw error;
      }
      await new Promise<void>((resolve) => {
        const reload = (): void => {
          gateway.reload();
        };
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) {
            log.warn(`${signal} again: exiting without waiting for running commands`);
            process.exit(EXIT_ERROR);
          }
          stopping = true;
          log.info(`${signal}: no longer accepting connections; waiting for running commands`);
          void Promise.all([gateway.shutdown(), http?.close(), metrics?.stop()]).then(() => {
            process.off('SIGHUP', reload);
            process.off('SIGTERM', stop);
            process.off('SIGINT', stop);
            resolve();
          });
        };
        process.on('SIGHUP', reload);
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      await audit.close();
      await auditHead?.stop();
      await log.close?.();
      result.code = 0;
    });
}
