/**
 * One client connection: authentication with attempt and time limits, the
 * idle timeout, the channel limit, and refusal of everything but sessions.
 */
import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { AuditEventInput } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import type { Identity } from '../identity/index.js';
import { normalizeAddress } from '../sshcert/index.js';
import { escapeControl } from '../text/index.js';
import { authenticate, type AuthDecision, type KeyOffer } from './auth.js';
import { auditIdentity, newSessionId, UNKNOWN_PRINCIPAL, type EventRecorder } from './events.js';
import type { KeyedCounter } from './limits.js';
import type { OperatorLog } from './log.js';
import { handleSession, type QueueCommandHandler, type SessionHost } from './session.js';
import type { Trust } from './trust.js';

const { utils } = ssh2;

export interface Runtime {
  config: PushgateConfig;
  trust: Trust;
}

export interface ConnectionHost {
  runtime(): Runtime;
  readonly events: EventRecorder;
  readonly log: OperatorLog;
  readonly sessionsPerIdentity: KeyedCounter;
  readonly queueHandler: QueueCommandHandler | undefined;
  draining(): boolean;
  /** The connection's socket closed. */
  closed(connection: GatewayConnection): void;
  /** The connection authenticated: it no longer counts as a startup. */
  authenticated(connection: GatewayConnection): void;
  /** A command ended while draining, or the connection became idle of commands. */
  commandsSettled(connection: GatewayConnection): void;
}

interface CommandControl {
  stop: () => void;
  abort: () => void;
}

type Reply = (() => void) | undefined;

function call(reply: Reply): void {
  if (typeof reply === 'function') reply();
}

export class GatewayConnection {
  readonly id = newSessionId();
  readonly address: string;
  readonly port: number;
  readonly openedAt = Date.now();
  identity: Identity | undefined;
  forceCommand: string | undefined;
  #client: ssh2.Connection | undefined;
  /** The client's SSH identification line arrived (ssh2 parsed it). */
  #identified = false;
  /** The client's identification line (`SSH-2.0-OpenSSH_9.2`), escaped: it is the client's own text. */
  #clientVersion: string | undefined;
  /** When the client last sent anything, and when the server last wrote after that. */
  #clientDataAt = Date.now();
  #serverWroteAt = Date.now();
  #authFailures = 0;
  #channels = 0;
  #sessions = 0;
  readonly #running = new Set<CommandControl>();
  readonly #authTimer: NodeJS.Timeout;
  readonly #identTimer: NodeJS.Timeout;
  readonly #idleTimer: NodeJS.Timeout;
  #closed = false;
  #evicted = false;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.address = normalizeAddress(socket.remoteAddress ?? '');
    this.port = socket.remotePort ?? 0;
    const { limits } = host.runtime().config.ssh;
    this.#authTimer = setTimeout(() => this.#authTimedOut(), limits.authTimeout);
    this.#identTimer = setTimeout(() => this.#identTimedOut(), Math.min(limits.identificationTimeout, limits.authTimeout));
    this.#idleTimer = setTimeout(() => this.#idleTimedOut(), limits.idleTimeout);
    this.#authTimer.unref();
    this.#identTimer.unref();
    this.#idleTimer.unref();
    socket.once('close', () => this.#onClose());
    socket.on('data', this.#onClientData);
    // When the server last sent something: a peer that leaves it unanswered is stalling.
    const write = socket.write;
    const connection = this;
    socket.write = function patchedWrite(this: Socket, ...args: Parameters<Socket['write']>): boolean {
      connection.#serverWroteAt = Date.now();
      return write.apply(this, args);
    } as Socket['write'];
  }

  readonly #onClientData = (): void => {
    this.#clientDataAt = Date.now();
  };

  /**
   * Not authenticated, and stalling: it has not sent its SSH identification
   * line within `grace` ms of connecting (an idle socket, or one that trickles
   * bytes), or it has left the server waiting on it for `grace` ms. A client
   * that is busy handshaking is never stalled: it answers at once, and when
   * the server is the slow one (under load) it is the server that owes a reply.
   */
  stalled(now: number, grace: number): boolean {
    if (this.authenticated || this.#closed) return false;
    if (!this.#identified) return now - this.openedAt >= grace;
    return this.#serverWroteAt > this.#clientDataAt && now - this.#serverWroteAt >= grace;
  }

  /** Closes a stalled unauthenticated connection to make room for a new one. */
  evict(): void {
    if (this.#closed) return;
    this.#evicted = true;
    this.socket.destroy();
  }

  /** Running a command. */
  get running(): boolean {
    return this.#running.size > 0;
  }

  /** Running a command, or still closing a session channel: a draining server waits for these. */
  get busy(): boolean {
    return this.#running.size > 0 || this.#sessions > 0;
  }

  get authenticated(): boolean {
    return this.identity !== undefined;
  }

  touch(): void {
    this.#idleTimer.refresh();
  }

  /** Disconnects politely when the SSH layer is up, else drops the socket. */
  end(): void {
    if (this.#client !== undefined) this.#client.end();
    else this.socket.destroy();
    // A peer that never answers the disconnect does not hold the server.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  /** Ends running commands (drain deadline). */
  stopCommands(): void {
    for (const control of this.#running) control.stop();
  }

  /** `header`: the client's SSH identification as ssh2 parsed it. */
  attach(client: ssh2.Connection, header?: { identRaw?: string }): void {
    this.#client = client;
    this.#identified = true;
    if (typeof header?.identRaw === 'string') this.#clientVersion = escapeControl(header.identRaw.slice(0, 128));
    clearTimeout(this.#identTimer);
    client.on('error', (error: Error) => {
      // Before authentication an error is anyone's noise: counted, not logged one by one.
      if (!this.authenticated) this.host.events.preAuthEvent(this.address, 'errors', { type: 'ssh.disconnect', session: this.id, ...this.#audit(), result: 'error', code: 'connection.error' });
      else this.host.log.debug('connection error', { connection: this.id, error: escapeControl(error.message) });
    });
    client.on('authentication', (ctx: ssh2.AuthContext) => this.#onAuthentication(ctx));
    client.on('session', (accept: () => ssh2.Session, reject: Reply) => this.#onSession(accept, reject));
    client.on('tcpip', (accept: unknown, reject: Reply, info: ssh2.TcpipRequestInfo) => {
      this.#refuseForwarding(reject, `direct-tcpip ${info.destIP}:${info.destPort}`, 'forward.tcpip');
    });
    client.on('openssh.streamlocal', (accept: unknown, reject: Reply, info: ssh2.SocketRequestInfo) => {
      this.#refuseForwarding(reject, `direct-streamlocal ${String(info.socketPath).slice(0, 128)}`, 'forward.streamlocal');
    });
    client.on('request', (accept: unknown, reject: Reply, name: string) => {
      this.#refuseForwarding(reject, `global request ${String(name).slice(0, 64)}`, 'forward.request');
    });
  }

  #audit(): { identity: ReturnType<typeof auditIdentity> } {
    return { identity: this.identity !== undefined ? auditIdentity(this.identity) : { principal: UNKNOWN_PRINCIPAL, clientAddress: this.address } };
  }

  #refuseForwarding(reject: Reply, what: string, code: string): void {
    call(reject);
    this.touch();
    this.host.events.record({ type: 'ssh.command', session: this.id, ...this.#audit(), command: what, result: 'refused', code, reason: 'forwarding is refused; this server runs git commands only' });
  }

  #authTimedOut(): void {
    if (this.authenticated || this.#closed) return;
    if (!this.#identified) return this.#identTimedOut();
    clearTimeout(this.#identTimer);
    this.host.events.preAuthEvent(this.address, 'timeouts', { type: 'ssh.auth', session: this.id, ...this.#audit(), result: 'refused', code: 'auth.timeout', reason: 'not authenticated in time' });
    this.end();
  }

  #identTimedOut(): void {
    if (this.#identified || this.#closed) return;
    clearTimeout(this.#authTimer);
    clearTimeout(this.#identTimer);
    this.host.events.preAuthEvent(this.address, 'timeouts', { type: 'ssh.auth', session: this.id, ...this.#audit(), result: 'refused', code: 'auth.identification-timeout', reason: 'no SSH identification line in time' });
    this.socket.destroy();
  }

  #idleTimedOut(): void {
    if (this.#closed) return;
    this.host.log.info('closing idle connection', { connection: this.id, address: this.address });
    this.host.events.record({ type: 'ssh.disconnect', session: this.id, ...this.#audit(), result: 'idle', code: 'limit.idle-timeout', durationMs: Date.now() - this.openedAt });
    this.end();
  }

  #onAuthentication(ctx: ssh2.AuthContext): void {
    this.touch();
    const { config } = this.host.runtime();
    if (this.host.draining()) {
      ctx.reject([]);
      this.end();
      return;
    }
    if (ctx.method !== 'publickey') {
      // `none` is how every client starts; it is not a failed attempt.
      if (ctx.method !== 'none') this.#failed(config, ctx.method, { ok: false, code: 'auth.method', message: `${ctx.method} authentication is not offered`, offered: {} });
      ctx.reject(['publickey']);
      return;
    }
    const offer: KeyOffer = {
      user: ctx.username,
      algorithm: ctx.key.algo,
      keyBlob: ctx.key.data,
      clientAddress: this.address,
      signed: ctx.signature !== undefined && ctx.blob !== undefined
        ? { data: ctx.blob, signature: ctx.signature, verifyPlain: () => verifyPlainWithSsh2(ctx) }
        : undefined,
    };
    let decision: AuthDecision;
    try {
      decision = authenticate(offer, this.host.runtime());
    } catch (error) {
      this.host.log.error('authentication failed unexpectedly', { connection: this.id, error: (error as Error).stack ?? String(error) });
      decision = { ok: false, code: 'auth.internal', message: 'internal error', offered: {} };
    }
    if (!decision.ok) {
      ctx.reject(['publickey']);
      this.#failed(config, 'publickey', decision);
      return;
    }
    if (offer.signed === undefined) {
      // The query: the key is acceptable, now prove possession.
      ctx.accept();
      return;
    }
    this.identity = decision.identity;
    this.forceCommand = decision.forceCommand;
    clearTimeout(this.#authTimer);
    clearTimeout(this.#identTimer);
    this.host.authenticated(this);
    ctx.accept();
    const from = `from port ${this.port} after ${Date.now() - this.openedAt} ms${this.#clientVersion !== undefined ? `, client ${this.#clientVersion}` : ''}`;
    this.host.events.record({
      type: 'ssh.auth', session: this.id, identity: auditIdentity(decision.identity), result: 'ok',
      reason: decision.identity.source === 'break-glass' ? `break-glass key, ${from}` : `certificate, logged in as ${escapeControl(ctx.username.slice(0, 64))}, ${from}`,
      ...(decision.forceCommand !== undefined ? { command: decision.forceCommand } : {}),
    });
  }

  #failed(config: PushgateConfig, method: string, decision: Extract<AuthDecision, { ok: false }>): void {
    this.#authFailures += 1;
    const offered = decision.offered;
    const event: AuditEventInput = {
      type: 'ssh.auth', session: this.id,
      identity: {
        principal: offered.principal ?? UNKNOWN_PRINCIPAL, clientAddress: this.address,
        ...(offered.keyId !== undefined ? { keyId: offered.keyId } : {}),
        ...(offered.certSerial !== undefined ? { certSerial: offered.certSerial } : {}),
        ...(offered.keyFingerprint !== undefined ? { keyFingerprint: offered.keyFingerprint } : {}),
      },
      result: 'refused', code: decision.code, reason: `${escapeControl(method.slice(0, 64))}: ${decision.message}`,
    };
    // A certificate the trusted CA signed is recorded once per certificate and
    // reason; keys and certificates anyone can make up only within the sample.
    this.host.events.preAuthAttempt(this.address, event, offered.trusted === true
      ? { kind: 'once', key: `${offered.keyFingerprint ?? ''}|${offered.certSerial ?? ''}|${decision.code}` }
      : { kind: 'sample' });
    if (this.#authFailures >= config.ssh.limits.maxAuthAttempts) {
      this.host.events.preAuthEvent(this.address, 'refused', { type: 'ssh.disconnect', session: this.id, ...this.#audit(), result: 'refused', code: 'auth.too-many-attempts', reason: `${this.#authFailures} failed attempts` });
      this.end();
    }
  }

  #onSession(accept: () => ssh2.Session, reject: Reply): void {
    this.touch();
    const { limits } = this.host.runtime().config.ssh;
    if (this.identity === undefined || this.host.draining() || this.#sessions >= limits.maxChannelsPerConnection) {
      call(reject);
      if (this.#sessions >= limits.maxChannelsPerConnection) {
        this.host.events.record({ type: 'ssh.command', session: this.id, ...this.#audit(), command: 'session', result: 'refused', code: 'limit.channels', reason: `at most ${limits.maxChannelsPerConnection} channels per connection` });
      }
      return;
    }
    this.#sessions += 1;
    this.#channels += 1;
    const session = accept();
    session.once('close', () => {
      this.#sessions -= 1;
      this.host.commandsSettled(this);
    });
    handleSession(session, this.#sessionHost(this.identity, `${this.id}-${this.#channels}`));
  }

  #sessionHost(identity: Identity, sessionId: string): SessionHost {
    const connection = this;
    const host = this.host;
    return {
      identity,
      forceCommand: this.forceCommand,
      events: host.events,
      log: host.log,
      sessionsPerIdentity: host.sessionsPerIdentity,
      queueHandler: host.queueHandler,
      settings() {
        const { config } = host.runtime();
        return { reposRoot: config.reposRoot, access: config.access, maxSessionsPerIdentity: config.ssh.limits.maxSessionsPerIdentity, queue: config.queue, upstreams: config.upstreams, configPath: config.configPath };
      },
      draining: () => host.draining(),
      sessionId,
      touch: () => connection.touch(),
      commandStarted(control) {
        connection.#running.add(control);
        return () => {
          connection.#running.delete(control);
          host.commandsSettled(connection);
        };
      },
    };
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#authTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#identTimer);
    for (const control of this.#running) control.abort();
    const event: AuditEventInput = { type: 'ssh.disconnect', session: this.id, ...this.#audit(), durationMs: Date.now() - this.openedAt };
    if (this.authenticated) this.host.events.record(event);
    else if (this.#evicted) this.host.events.preAuthEvent(this.address, 'evicted', { ...event, result: 'refused', code: 'limit.evicted' });
    else this.host.events.preAuthEvent(this.address, 'closed-before-auth', event);
    this.host.closed(this);
  }
}

/** ssh2 unwraps a plain key's signature before handing it over; its own key parser verifies it then. */
function verifyPlainWithSsh2(ctx: ssh2.PublicKeyAuthContext): boolean {
  if (ctx.key.algo === 'ssh-rsa' && ctx.hashAlgo === undefined) return false;
  const key = utils.parseKey(ctx.key.data);
  if (key instanceof Error || ctx.signature === undefined || ctx.blob === undefined) return false;
  const parsed = Array.isArray(key) ? key[0] : key;
  return parsed?.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
}
