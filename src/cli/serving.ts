/**
 * One running server: the SSH gateway, the HTTP service with its metrics, the
 * audit writer and the operator log, started and stopped in one order. Both
 * `pushgate serve` and `pushgate dev` run exactly this, so the demo serves what
 * the product serves (GET /metrics included) and stops the way it does.
 */
import { auditConfigWarnings, publishAuditHead } from '../audit/index.js';
import type { ConfigSource } from '../config/index.js';
import { createOperatorLog, Gateway, GatewayError, spawnQueueCommand, ThreadedAudit, type OperatorLog } from '../gateway/index.js';
import { HttpServiceError, startHttpService, type HttpService } from '../http/index.js';
import { CliError, EXIT_ERROR } from './exit.js';

export interface Serving {
  readonly gateway: Gateway;
  readonly ssh: { address: string; port: number };
  readonly http: HttpService | undefined;
  readonly log: OperatorLog;
  /** `ssh=HOST:PORT http=HOST:PORT` (no http= part when http.enabled is false). */
  readonly listening: string;
  reload(): void;
  /** Stops accepting, lets running git commands finish (up to ssh.limits.drainTimeout), then closes the logs. */
  stop(): Promise<void>;
}

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Starts everything the config asks for; on failure, whatever had started is stopped again. */
export async function startServing(source: ConfigSource, options: { log?: OperatorLog } = {}): Promise<Serving> {
  const config = source.current;
  const log = options.log ?? createOperatorLog(config.log);
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
  let ssh: { address: string; port: number };
  try {
    gateway = new Gateway({
      configSource: source, audit, log, queueHandler: spawnQueueCommand({ configPath: source.path }),
      ...(metrics !== undefined ? { onEvent: metrics.onGatewayEvent } : {}),
    });
    ssh = await gateway.listen();
    try {
      if (config.http.enabled) {
        // The review console, under /console/ (it answers 404 while console.enabled is false).
        const reviewConsole = (await import('../console/index.js')).createConsole({ config: () => gateway.config, audit, log });
        http = await startHttpService({
          config: () => gateway.config, audit, log, mounts: [reviewConsole],
          ...(metrics !== undefined ? { routes: metrics.routes, issuance: metrics.issuance } : {}),
        });
        log.info(`http listening on ${hostPort(http.address.address, http.address.port)}`, {
          issuance: config.identity.issuers.length > 0, metrics: config.http.metrics, console: config.console.enabled,
        });
      }
    } catch (error) {
      await gateway.shutdown();
      throw error;
    }
    metrics?.start();
  } catch (error) {
    await audit.close();
    if (error instanceof GatewayError || error instanceof HttpServiceError) throw new CliError(error.message, EXIT_ERROR);
    throw error;
  }
  for (const warning of auditConfigWarnings(config.audit)) log.warn(warning);
  // The audit log's head in the operator log: at start, when it moved, at stop.
  const auditHead = publishAuditHead({ file: config.audit.file, log, intervalMs: config.audit.headInterval });
  const started = gateway;
  const httpPart = http === undefined ? '' : ` http=${hostPort(http.address.address, http.address.port)}`;
  return {
    gateway: started,
    ssh: { address: ssh.address, port: ssh.port },
    http,
    log,
    listening: `ssh=${hostPort(ssh.address, ssh.port)}${httpPart}`,
    reload: () => started.reload(),
    async stop() {
      await Promise.all([started.shutdown(), http?.close(), metrics?.stop()]);
      await audit.close();
      await auditHead.stop();
      await log.close?.();
    },
  };
}

/**
 * Runs until SIGINT or SIGTERM, then stops `serving` and whatever `alsoStop`
 * names; SIGHUP reloads the config. A second SIGINT or SIGTERM while stopping
 * exits at once with status 2.
 */
export function serveUntilSignal(serving: Serving, options: { onStop?(signal: NodeJS.Signals): void; alsoStop?(): Promise<void> } = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const reload = (): void => serving.reload();
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        serving.log.warn(`${signal} again: exiting without waiting for running commands`);
        process.exit(EXIT_ERROR);
      }
      stopping = true;
      options.onStop?.(signal);
      void Promise.all([serving.stop(), options.alsoStop?.()]).then(() => {
        process.off('SIGHUP', reload);
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      }, reject);
    };
    process.on('SIGHUP', reload);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
