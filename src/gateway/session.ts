/**
 * One SSH session channel: only `exec` of an allowed command runs; every
 * other request is refused. git runs as a child with an argument array and
 * its own minimal environment, streamed both ways with backpressure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type ssh2 from 'ssh2';
import type { AccessRule, QueueConfig, UpstreamConfig } from '../config/index.js';
import { shellHelp } from './shell-help.js';
import type { Identity } from '../identity/index.js';
import { escapeControl } from '../text/index.js';
import { auditIdentity, type EventRecorder } from './events.js';
import { gitChildEnv, isValidGitProtocol } from './git-env.js';
import type { KeyedCounter } from './limits.js';
import type { OperatorLog } from './log.js';
import type { GitPlan, Refusal } from './plan.js';
import { planSession, type PlannedSession } from './upstream-plan.js';

/** Streams of a command run on behalf of a client. */
export interface CommandIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Aborted when the client goes away or the drain deadline passes. */
  signal: AbortSignal;
}

/** Runs `queue …` for an authenticated caller and resolves to its exit code. */
export type QueueCommandHandler = (argv: string[], identity: Identity, io: CommandIO, session: string) => Promise<number>;

/** What a session needs from its connection and server. */
export interface SessionHost {
  readonly identity: Identity;
  readonly forceCommand: string | undefined;
  readonly events: EventRecorder;
  readonly log: OperatorLog;
  readonly sessionsPerIdentity: KeyedCounter;
  readonly queueHandler: QueueCommandHandler | undefined;
  settings(): { reposRoot: string; access: readonly AccessRule[]; maxSessionsPerIdentity: number; queue?: QueueConfig; upstreams: UpstreamConfig[]; configPath: string | null };
  draining(): boolean;
  /** `<connection id>-<n>`: this session channel, as the hook and the audit log see it. */
  readonly sessionId: string;
  /** Marks the connection as active (idle timeout). */
  touch(): void;
  /**
   * A command started (drain waits for it): `stop` ends it at the drain
   * deadline, `abort` when the client is gone. Returns what to call when it ended.
   */
  commandStarted(control: { stop: () => void; abort: () => void }): () => void;
}

type Reply = (() => void) | undefined;

function call(reply: Reply): void {
  if (typeof reply === 'function') reply();
}

/** Waits until everything written so far has been handed to the SSH layer (or the channel is gone). */
function flushed(channel: ssh2.ServerChannel): Promise<void> {
  return new Promise((resolve) => {
    let pending = 2;
    const one = (): void => {
      if (--pending === 0) resolve();
    };
    channel.once('close', resolve);
    if (!channel.writable) return resolve();
    channel.write(Buffer.alloc(0), one);
    if (channel.stderr.writable) channel.stderr.write(Buffer.alloc(0), one);
    else one();
  });
}

/** Sends the exit status, then EOF and CLOSE, after any output still queued. */
async function finish(channel: ssh2.ServerChannel, code: number | null, signal?: NodeJS.Signals | null): Promise<void> {
  await flushed(channel);
  if (code !== null) channel.exit(code);
  else channel.exit((signal ?? 'KILL').replace(/^SIG/, ''), false, '');
  channel.end();
}

export function handleSession(session: ssh2.Session, host: SessionHost): void {
  let gitProtocol: string | undefined;
  const ignoredEnv: string[] = [];
  const refuseRequest = (what: string, code: string) => (accept: Reply, reject: Reply): void => {
    call(reject);
    host.events.record({ type: 'ssh.command', session: host.sessionId, identity: auditIdentity(host.identity), command: what, result: 'refused', code, reason: `${what} requests are refused; this server runs git commands only` });
  };

  session.on('env', (accept: Reply, reject: Reply, info: ssh2.SetEnvInfo) => {
    if (info.key === 'GIT_PROTOCOL' && isValidGitProtocol(info.val)) {
      gitProtocol = info.val;
      call(accept);
      return;
    }
    if (ignoredEnv.length < 32) ignoredEnv.push(escapeControl(String(info.key).slice(0, 64)));
    call(reject);
  });
  session.on('pty', refuseRequest('pty', 'session.pty'));
  session.on('x11', refuseRequest('x11', 'session.x11'));
  session.on('auth-agent', refuseRequest('auth-agent', 'session.agent-forwarding'));
  // No command: a short help (who you are, your roles, what you may run) and exit 1, as gitolite does.
  session.on('shell', (accept: () => ssh2.ServerChannel, reject: Reply) => {
    const channel = host.draining() ? undefined : (accept() as ssh2.ServerChannel | undefined);
    host.events.record({ type: 'ssh.command', session: host.sessionId, identity: auditIdentity(host.identity), command: 'shell', result: 'refused', code: 'session.shell', reason: 'shell requests are refused; this server runs git commands only' });
    if (channel === undefined) {
      call(reject);
      return;
    }
    channel.stderr.write(shellHelp(host.identity, host.settings().queue, host.forceCommand));
    void finish(channel, 1);
  });
  session.on('sftp', refuseRequest('sftp', 'session.subsystem'));
  session.on('subsystem', (accept: Reply, reject: Reply, info: ssh2.SubsystemInfo) => {
    refuseRequest(`subsystem ${String(info.name).slice(0, 64)}`, 'session.subsystem')(accept, reject);
  });
  session.on('signal', (accept: Reply, reject: Reply) => call(reject));
  session.on('window-change', (accept: Reply, reject: Reply) => call(reject));
  session.on('exec', (accept: () => ssh2.ServerChannel, reject: Reply, info: ssh2.ExecInfo) => {
    if (host.draining()) {
      call(reject);
      return;
    }
    // Accepted at once: data the client sends before the accept would be lost.
    const channel = accept() as ssh2.ServerChannel | undefined;
    // ssh2 returns nothing for a second exec (or shell) on the same session.
    if (channel === undefined) return;
    host.touch();
    void runExec(channel, String(info.command), { gitProtocol, ignoredEnv: [...ignoredEnv] }, host).catch((error: unknown) => {
      host.log.error('session failed', { error: (error as Error).stack ?? String(error) });
      if (channel.writable) {
        channel.stderr.write('pushgate: internal error\n');
        void finish(channel, 2);
      }
    });
  });
}

interface ExecContext {
  gitProtocol: string | undefined;
  ignoredEnv: string[];
}

async function refuseExec(channel: ssh2.ServerChannel, host: SessionHost, session: string, command: string, refusal: Pick<Refusal, 'code' | 'message' | 'reason' | 'repository'>): Promise<void> {
  host.events.record({
    type: 'ssh.command', session, identity: auditIdentity(host.identity), command: command.slice(0, 1024),
    ...(refusal.repository !== undefined ? { repository: refusal.repository } : {}),
    result: 'refused', code: refusal.code, reason: refusal.reason,
  });
  channel.stderr.write(`pushgate: ${escapeControl(refusal.message)}\n`);
  await finish(channel, 1);
}

async function runExec(channel: ssh2.ServerChannel, command: string, context: ExecContext, host: SessionHost): Promise<void> {
  const session = host.sessionId;
  const settings = host.settings();
  const { plan, warning, release } = await planSession(command, host.identity, {
    reposRoot: settings.reposRoot, access: settings.access, forceCommand: host.forceCommand, queue: settings.queue,
    config: settings, record: (event) => host.events.record(event), auditFields: { session, identity: auditIdentity(host.identity) },
  });
  try {
    await runPlanned(channel, command, context, host, plan, warning);
  } finally {
    // A push to a mirror: refreshes of it wait until git has applied it.
    release?.();
  }
}

async function runPlanned(channel: ssh2.ServerChannel, command: string, context: ExecContext, host: SessionHost, plan: PlannedSession['plan'], warning: string | undefined): Promise<void> {
  const session = host.sessionId;
  const settings = host.settings();
  if (warning !== undefined && plan.kind === 'git') channel.stderr.write(`pushgate: ${escapeControl(warning)}\n`);
  const shown = host.forceCommand !== undefined ? `${host.forceCommand} (forced; requested: ${command})` : command;
  if (plan.kind === 'refused') return refuseExec(channel, host, session, shown, plan);
  const principal = host.identity.principal;
  if (!host.sessionsPerIdentity.tryAcquire(principal, settings.maxSessionsPerIdentity)) {
    return refuseExec(channel, host, session, shown, {
      code: 'limit.sessions-per-identity',
      message: `too many sessions of ${principal} at once (at most ${settings.maxSessionsPerIdentity}); try again shortly`,
      reason: `${principal} already runs ${settings.maxSessionsPerIdentity} sessions`,
    });
  }
  try {
    if (plan.kind === 'queue') {
      if (host.queueHandler === undefined) {
        return await refuseExec(channel, host, session, shown, { code: 'command.unavailable', message: 'queue commands are not available on this server', reason: 'no queue handler' });
      }
      return await runQueue(channel, plan.argv, host, session, shown);
    }
    await runGit(channel, plan, context, host, session, shown);
  } finally {
    host.sessionsPerIdentity.release(principal);
  }
}

async function runQueue(channel: ssh2.ServerChannel, argv: string[], host: SessionHost, session: string, shown: string): Promise<void> {
  const started = Date.now();
  host.events.record({ type: 'ssh.command', session, identity: auditIdentity(host.identity), command: shown.slice(0, 1024), result: 'started' });
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const ended = host.commandStarted({ stop: abort, abort });
  channel.once('close', abort);
  let code: number;
  try {
    code = await host.queueHandler!(argv, host.identity, { stdin: channel, stdout: channel, stderr: channel.stderr, signal: controller.signal }, session);
  } catch (error) {
    host.log.error('queue command failed', { session, error: (error as Error).stack ?? String(error) });
    if (channel.writable) channel.stderr.write('pushgate: internal error\n');
    code = 2;
  }
  host.events.record({ type: 'ssh.session-end', session, identity: auditIdentity(host.identity), command: shown.slice(0, 1024), result: String(code), durationMs: Date.now() - started });
  await finish(channel, code);
  ended();
}

function runGit(channel: ssh2.ServerChannel, plan: GitPlan, context: ExecContext, host: SessionHost, session: string, shown: string): Promise<void> {
  const started = Date.now();
  const env = gitChildEnv({ identity: host.identity, session, gitProtocol: context.gitProtocol });
  const child: ChildProcess = spawn('git', plan.args, { env, cwd: plan.path, stdio: ['pipe', 'pipe', 'pipe'] });
  host.events.record({
    type: 'ssh.command', session, identity: auditIdentity(host.identity), command: shown.slice(0, 1024), repository: plan.repository, result: 'started',
    ...(context.ignoredEnv.length > 0 ? { reason: `environment not passed: ${context.ignoredEnv.join(', ')}` } : {}),
  });
  let bytesIn = 0;
  let bytesOut = 0;
  const stdin = child.stdin!;
  const stdout = child.stdout!;
  const stderr = child.stderr!;
  channel.on('data', (chunk: Buffer) => {
    bytesIn += chunk.length;
    host.touch();
  });
  stdout.on('data', (chunk: Buffer) => {
    bytesOut += chunk.length;
    host.touch();
  });
  stderr.on('data', (chunk: Buffer) => {
    bytesOut += chunk.length;
  });
  channel.pipe(stdin);
  stdout.pipe(channel, { end: false });
  stderr.pipe(channel.stderr, { end: false });
  // git may exit before reading everything the client sent.
  stdin.on('error', () => {});
  let exited = false;
  const stop = (): void => {
    if (!exited) child.kill('SIGTERM');
  };
  // The client went away: close git's pipes so it sees EOF and a broken pipe, as under sshd.
  const abort = (): void => {
    if (exited) return;
    channel.unpipe(stdin);
    stdin.destroy();
    stdout.destroy();
    stderr.destroy();
  };
  const ended = host.commandStarted({ stop, abort });
  channel.once('close', abort);
  return new Promise((resolve) => {
    let settled = false;
    const done = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (settled) return;
      settled = true;
      exited = true;
      if (error !== undefined) {
        host.log.error('could not start git', { error: error.message });
        if (channel.writable) channel.stderr.write('pushgate: the git command could not be started\n');
      }
      const result = code !== null ? String(code) : `signal ${signal ?? 'unknown'}`;
      host.events.record({
        type: 'ssh.session-end', session, identity: auditIdentity(host.identity), command: shown.slice(0, 1024), repository: plan.repository,
        result, bytesIn, bytesOut, durationMs: Date.now() - started,
      });
      // Only once the exit status is out may a draining server close the connection.
      const settle = (): void => {
        ended();
        resolve();
      };
      void finish(channel, error !== undefined ? 2 : code, signal).then(settle, settle);
    };
    child.once('error', (error) => done(null, null, error));
    child.once('close', (code, signal) => done(code, signal));
  });
}
