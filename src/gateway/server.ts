/**
 * The SSH gateway: a TCP listener that applies connection limits before the
 * SSH handshake, ssh2 for the protocol, and the lifecycle (reload, drain).
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { nullAudit, type AuditSink } from '../audit/index.js';
import type { ConfigSource, PushgateConfig } from '../config/index.js';
import { normalizeAddress } from '../sshcert/index.js';
import { GatewayConnection, type ConnectionHost, type Runtime } from './connection.js';
import { EventRecorder, UNKNOWN_PRINCIPAL, type GatewayEventListener } from './events.js';
import { connectionRefusal, KeyedCounter, startupDropChance } from './limits.js';
import { silentLog, type OperatorLog } from './log.js';
import type { QueueCommandHandler } from './session.js';
import { Trust } from './trust.js';

const { Server } = ssh2;

/**
 * How long an unauthenticated connection may leave the server waiting (or,
 * before its SSH identification line, exist) before a full limit may close it
 * to make room. An OpenSSH client sends its identification line at once and
 * answers each step of the handshake at once.
 */
export const STALL_GRACE_MS = 2000;

export class GatewayError extends Error {
  override name = 'GatewayError';
}

export interface GatewayOptions {
  /** The config to start with; with `configSource`, its current config. */
  config?: PushgateConfig;
  /** Where `reload()` reads the config again. */
  configSource?: ConfigSource;
  audit?: AuditSink;
  log?: OperatorLog;
  /** Runs `queue …` commands over SSH; without it they are refused. */
  queueHandler?: QueueCommandHandler;
  /** Sees every session, command and login event the gateway records. */
  onEvent?: GatewayEventListener;
}

export type ReloadResult = { ok: true; warnings: string[] } | { ok: false; error: string };

function readHostKeys(paths: readonly string[]): Buffer[] {
  return paths.map((path) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new GatewayError(`host key ${path}: ${(error as Error).message}`);
    }
  });
}

function buildTrust(config: PushgateConfig): Trust {
  try {
    return new Trust(config);
  } catch (error) {
    throw new GatewayError((error as Error).message);
  }
}

export class Gateway {
  readonly #source: ConfigSource | undefined;
  readonly #log: OperatorLog;
  readonly #audit: AuditSink;
  readonly #events: EventRecorder;
  readonly #queueHandler: QueueCommandHandler | undefined;
  #runtime: Runtime;
  readonly #ssh: ssh2.Server;
  readonly #net: NetServer;
  readonly #connections = new Set<GatewayConnection>();
  /** Connections not authenticated yet, oldest first (a Set keeps insertion order). */
  readonly #startups = new Set<GatewayConnection>();
  /** Accepted sockets waiting for ssh2 to read the client's version line. */
  readonly #pending = new Map<string, GatewayConnection>();
  readonly #perAddress = new KeyedCounter();
  readonly #sessions = new KeyedCounter();
  #draining = false;
  #drained: Promise<void> | undefined;
  #allClosed: (() => void) | undefined;

  /** Throws GatewayError when the host keys or trusted CA keys cannot be used. */
  constructor(options: GatewayOptions) {
    const config = options.config ?? options.configSource?.current;
    if (config === undefined) throw new GatewayError('a config or a config source is required');
    this.#source = options.configSource;
    this.#log = options.log ?? silentLog;
    this.#audit = options.audit ?? nullAudit;
    this.#events = new EventRecorder(this.#audit, this.#log, options.onEvent, () => {
      const { limits } = this.#runtime.config.ssh;
      return { interval: limits.preAuthSummaryInterval, detailed: limits.preAuthDetailedRecords };
    });
    this.#queueHandler = options.queueHandler;
    this.#runtime = { config, trust: buildTrust(config) };
    for (const problem of this.#runtime.trust.check()) this.#log.warn(problem);
    let ssh: ssh2.Server;
    try {
      ssh = new Server({
        hostKeys: readHostKeys(config.ssh.hostKeys),
        ident: 'pushgate',
        algorithms: { cipher: [...config.ssh.ciphers] as ssh2.CipherAlgorithm[] },
      });
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      throw new GatewayError(`SSH server: ${(error as Error).message}`);
    }
    this.#ssh = ssh;
    ssh.on('connection', (client: ssh2.Connection, info: ssh2.ClientInfo) => this.#onSsh(client, info));
    ssh.on('error', (error: Error) => this.#log.error('ssh server error', { error: error.message }));
    this.#net = createServer({ noDelay: true }, (socket) => this.#onSocket(socket));
  }

  get config(): PushgateConfig {
    return this.#runtime.config;
  }

  /** Open connections (after the limits let them in). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Starts listening on `ssh.listen` (port 0 picks a free port) and resolves
   * to the bound address, once the start is in the audit log: a server that
   * cannot audit does not serve.
   */
  async listen(): Promise<AddressInfo> {
    const { host, port } = this.#runtime.config.ssh.listen;
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      const onError = (error: Error): void => reject(new GatewayError(`cannot listen on ${host}:${port}: ${error.message}`));
      this.#net.once('error', onError);
      this.#net.listen({ host, port }, () => {
        this.#net.off('error', onError);
        this.#net.on('error', (error) => this.#log.error('listener error', { error: error.message }));
        resolve(this.#net.address() as AddressInfo);
      });
    });
    this.#events.preAuth?.start();
    try {
      await this.#audit.record({ type: 'server.start', result: 'ok', reason: `ssh listening on ${address.address}:${address.port}` });
    } catch (error) {
      await new Promise<void>((resolve) => this.#net.close(() => resolve()));
      throw new GatewayError(`the audit log cannot be written: ${(error as Error).message}`);
    }
    return address;
  }

  address(): AddressInfo | null {
    const address = this.#net.address();
    return typeof address === 'object' ? address : null;
  }

  #host(): ConnectionHost {
    return {
      runtime: () => this.#runtime,
      events: this.#events,
      log: this.#log,
      sessionsPerIdentity: this.#sessions,
      queueHandler: this.#queueHandler,
      draining: () => this.#draining,
      closed: (connection) => this.#onClosed(connection),
      authenticated: (connection) => {
        this.#startups.delete(connection);
      },
      commandsSettled: (connection) => {
        if (this.#draining && !connection.busy) connection.end();
      },
    };
  }

  #onSocket(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const address = normalizeAddress(socket.remoteAddress ?? '');
    const refusal = this.#draining ? 'server.draining' : this.#admit(address);
    if (refusal !== null) {
      const kind = refusal === 'limit.startups' ? 'dropped' : 'refused';
      this.#events.preAuthEvent(address, kind, { type: 'ssh.connect', identity: { principal: UNKNOWN_PRINCIPAL, clientAddress: address }, result: 'refused', code: refusal });
      socket.destroy();
      return;
    }
    this.#perAddress.tryAcquire(address, Number.POSITIVE_INFINITY);
    const connection = new GatewayConnection(socket, this.#host());
    this.#connections.add(connection);
    this.#startups.add(connection);
    const key = `${socket.remoteAddress}|${socket.remotePort}`;
    this.#pending.set(key, connection);
    socket.once('close', () => {
      if (this.#pending.get(key) === connection) this.#pending.delete(key);
    });
    this.#events.preAuthEvent(address, 'connections', { type: 'ssh.connect', session: connection.id, identity: { principal: UNKNOWN_PRINCIPAL, clientAddress: address }, result: 'ok', reason: `port ${connection.port}` });
    this.#ssh.injectSocket(socket);
  }

  /**
   * Whether a new connection from `address` may come in. A full limit first
   * makes room by closing the oldest connection that stalls before
   * authenticating (from the same address for the per-address limit); only
   * when none stalls is the new one turned away. Connections that are
   * authenticated, or handshaking, are never closed to make room.
   */
  #admit(address: string): string | null {
    const { limits } = this.#runtime.config.ssh;
    for (;;) {
      const refusal = connectionRefusal(this.#perAddress, address, limits);
      if (refusal === null) break;
      if (!this.#evictStalled(refusal === 'limit.connections-per-address' ? address : undefined)) return refusal;
    }
    const chance = startupDropChance(this.#startups.size, limits.maxStartups);
    if (chance > 0 && !this.#evictStalled(undefined) && randomInt(100) < chance) return 'limit.startups';
    return null;
  }

  /** Closes the oldest stalled unauthenticated connection (of `address`, when given); false when there is none. */
  #evictStalled(address: string | undefined): boolean {
    const now = Date.now();
    for (const connection of this.#startups) {
      if (address !== undefined && connection.address !== address) continue;
      if (!connection.stalled(now, STALL_GRACE_MS)) continue;
      connection.evict();
      // Released now, not when the socket's close event comes round: the new connection takes its place.
      this.#onClosed(connection);
      return true;
    }
    return false;
  }

  #onSsh(client: ssh2.Connection, info: ssh2.ClientInfo): void {
    const key = `${info.ip}|${info.port}`;
    const connection = this.#pending.get(key);
    if (connection === undefined) {
      client.end();
      return;
    }
    this.#pending.delete(key);
    connection.attach(client, info.header);
  }

  #onClosed(connection: GatewayConnection): void {
    this.#startups.delete(connection);
    if (!this.#connections.delete(connection)) return;
    this.#perAddress.release(connection.address);
    if (this.#connections.size === 0) this.#allClosed?.();
  }

  /**
   * Reads the config again (SIGHUP) with its CA keys, KRL and break-glass
   * list. Anything unusable keeps the running config, and says why.
   */
  reload(): ReloadResult {
    if (this.#source === undefined) return { ok: false, error: 'no config file to reload' };
    const problem = this.#source.reload();
    if (problem !== null) return this.#reloadFailed(`configuration ${this.#source.path} is not usable:\n${problem.format()}`);
    const config = this.#source.current;
    let trust: Trust;
    try {
      trust = new Trust(config);
    } catch (error) {
      return this.#reloadFailed((error as Error).message);
    }
    const previous = this.#runtime.config;
    const warnings: string[] = [];
    if (previous.ssh.listen.host !== config.ssh.listen.host || previous.ssh.listen.port !== config.ssh.listen.port) warnings.push('ssh.listen changes take effect after a restart');
    if (previous.ssh.hostKeys.join('\n') !== config.ssh.hostKeys.join('\n')) warnings.push('ssh.hostKeys changes take effect after a restart');
    if (previous.ssh.ciphers.join(',') !== config.ssh.ciphers.join(',')) warnings.push('ssh.ciphers changes take effect after a restart');
    warnings.push(...trust.check());
    this.#runtime = { config, trust };
    for (const warning of warnings) this.#log.warn(warning);
    this.#log.info('configuration reloaded', { path: this.#source.path });
    this.#events.record({ type: 'config.reload', result: 'ok', ...(warnings.length > 0 ? { reason: warnings.join('; ') } : {}) });
    return { ok: true, warnings };
  }

  #reloadFailed(error: string): ReloadResult {
    this.#log.error(`reload failed, keeping the running configuration: ${error}`);
    this.#events.record({ type: 'config.reload', result: 'error', code: 'config.invalid', reason: error.slice(0, 4000) });
    return { ok: false, error };
  }

  /**
   * Stops accepting, lets running commands finish for up to
   * `ssh.limits.drainTimeout`, then ends what is left.
   */
  shutdown(): Promise<void> {
    this.#drained ??= this.#drain();
    return this.#drained;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    const started = Date.now();
    const closedListener = new Promise<void>((resolve) => this.#net.close(() => resolve()));
    const allClosed = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
      if (this.#connections.size === 0) resolve();
    });
    for (const connection of this.#connections) if (!connection.running) connection.end();
    const { drainTimeout } = this.#runtime.config.ssh.limits;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), drainTimeout);
    });
    if ((await Promise.race([allClosed, deadline])) === 'timeout') {
      this.#log.warn('drain timeout: stopping the commands still running', { running: [...this.#connections].filter((c) => c.running).length });
      for (const connection of this.#connections) connection.stopCommands();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, 3000).unref());
      await Promise.race([allClosed, grace]);
      for (const connection of this.#connections) connection.socket.destroy();
    }
    clearTimeout(timer);
    await closedListener;
    this.#events.preAuth?.stop();
    this.#events.record({ type: 'server.stop', result: 'ok', durationMs: Date.now() - started });
  }
}
