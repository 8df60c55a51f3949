/**
 * `pushgate shell`: sshd's ForceCommand. The session is already
 * authenticated by sshd; this decides again who it is (pushgate's CAs, KRL,
 * identity and roles), applies the gateway's command filter, repository
 * resolution and access rules to `$SSH_ORIGINAL_COMMAND`, and runs git with
 * the same PUSHGATE_* environment, its stdio being the SSH channel.
 */
import { randomBytes } from 'node:crypto';
import type { StdioOptions } from 'node:child_process';
import { userInfo } from 'node:os';
import { nullAudit, type AuditEventInput, type AuditSink } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import { auditIdentity, EventRecorder, UNKNOWN_PRINCIPAL } from '../gateway/events.js';
import { gitChildEnv } from '../gateway/git-env.js';
import { silentLog, type OperatorLog } from '../gateway/operator-log.js';
import type { Refusal } from '../gateway/plan.js';
import { planSession, type PlannedSession } from '../gateway/upstream-plan.js';
import { shellHelp } from '../gateway/shell-help.js';
import { Trust } from '../gateway/trust.js';
import type { Identity } from '../identity/index.js';
import { escapeControl } from '../text/index.js';
import { readAuthInfo } from './auth-info.js';
import { clientAddressOf } from './connection.js';
import { decideLogin } from './login.js';
import { queueInvocation, type Invocation, type QueueInvocation } from './queue.js';
import { runChild } from './spawn.js';

export const SHELL_REFUSED = 1;
export const SHELL_ERROR = 2;

export interface ShellOptions {
  /** The session's environment as sshd set it (SSH_USER_AUTH, SSH_CONNECTION, SSH_ORIGINAL_COMMAND, GIT_PROTOCOL, …). */
  env: NodeJS.ProcessEnv;
  config: PushgateConfig;
  audit?: AuditSink;
  log?: OperatorLog;
  /** The Unix account of the session; default: this process's user. */
  user?: string;
  /** The git child's stdio; default: inherited (the SSH channel). */
  stdio?: StdioOptions;
  /** Where pushgate's own messages go: the client's stderr. */
  stderr?: (text: string) => void;
  /** Whether stdin is a terminal (a pty was allocated). */
  tty?: boolean;
  now?: Date;
  /** Pass SIGHUP/SIGINT/SIGTERM on to the child. */
  forwardSignals?: boolean;
  /** How `queue …` runs; default: this pushgate's `queue` command with the same config. */
  queue?: (argv: string[]) => QueueInvocation | undefined;
  session?: string;
}

interface Context {
  options: ShellOptions;
  events: EventRecorder;
  session: string;
  say: (text: string) => void;
}

function newSessionId(): string {
  return `${randomBytes(6).toString('hex')}-1`;
}

function loginUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}

function refuseAuth(context: Context, code: string, message: string, identity: AuditEventInput['identity'], clientMessage = message): number {
  context.events.record({ type: 'ssh.auth', session: context.session, identity, result: 'refused', code, reason: `sshd session: ${message}` });
  context.say(`pushgate: ${escapeControl(clientMessage)}\n`);
  return SHELL_REFUSED;
}

function refuseCommand(context: Context, identity: Identity, command: string, refusal: Pick<Refusal, 'code' | 'message' | 'reason' | 'repository'>): number {
  context.events.record({
    type: 'ssh.command', session: context.session, identity: auditIdentity(identity), command: command.slice(0, 1024),
    ...(refusal.repository !== undefined ? { repository: refusal.repository } : {}),
    result: 'refused', code: refusal.code, reason: refusal.reason,
  });
  context.say(`pushgate: ${escapeControl(refusal.message)}\n`);
  return SHELL_REFUSED;
}

/** Runs one sshd session to its end and resolves to the exit code for sshd. */
export async function runShell(options: ShellOptions): Promise<number> {
  const log = options.log ?? silentLog;
  const context: Context = {
    options,
    events: new EventRecorder(options.audit ?? nullAudit, log),
    session: options.session ?? newSessionId(),
    say: options.stderr ?? ((text) => void process.stderr.write(text)),
  };
  const { env, config } = options;
  const clientAddress = clientAddressOf(env.SSH_CONNECTION);
  const unknown = { principal: UNKNOWN_PRINCIPAL, ...(clientAddress !== undefined ? { clientAddress } : {}) };
  const info = readAuthInfo(env.SSH_USER_AUTH);
  if (!info.ok) return refuseAuth(context, info.code, info.message, unknown);
  if (clientAddress === undefined) {
    return refuseAuth(context, 'shell.no-connection', 'SSH_CONNECTION is not set: pushgate shell runs only as the ForceCommand of sshd', unknown);
  }
  let trust: Trust;
  try {
    trust = new Trust(config);
  } catch (error) {
    log.error('trusted CA keys unusable', { error: (error as Error).message });
    refuseAuth(context, 'shell.trust', (error as Error).message, unknown, 'the server cannot check certificates: its trusted CA keys are unusable');
    return SHELL_ERROR;
  }
  const user = options.user ?? loginUser();
  const decision = decideLogin(info.key, { config, trust, user, clientAddress, ...(options.now !== undefined ? { now: options.now } : {}) });
  if (!decision.ok) {
    const offered = decision.offered;
    return refuseAuth(context, decision.code, decision.message, {
      principal: offered.principal ?? UNKNOWN_PRINCIPAL, clientAddress,
      ...(offered.keyId !== undefined ? { keyId: offered.keyId } : {}),
      ...(offered.certSerial !== undefined ? { certSerial: offered.certSerial } : {}),
      ...(offered.keyFingerprint !== undefined ? { keyFingerprint: offered.keyFingerprint } : {}),
    }, `access refused (${decision.code}): ${decision.message}`);
  }
  const { identity, forceCommand } = decision;
  context.events.record({
    type: 'ssh.auth', session: context.session, identity: auditIdentity(identity), result: 'ok',
    reason: identity.source === 'break-glass' ? 'break-glass key, via sshd' : `certificate via sshd, logged in as ${user}`,
    ...(forceCommand !== undefined ? { command: forceCommand } : {}),
  });
  return runCommand(context, identity, forceCommand);
}

async function runCommand(context: Context, identity: Identity, forceCommand: string | undefined): Promise<number> {
  const { env, config } = context.options;
  const requested = env.SSH_ORIGINAL_COMMAND;
  const shown = forceCommand !== undefined ? `${forceCommand} (forced; requested: ${requested ?? 'a shell'})` : requested ?? 'shell';
  // No command (with a terminal or without): a short help and exit 1, as through the gateway.
  if (requested === undefined && forceCommand === undefined) {
    context.events.record({ type: 'ssh.command', session: context.session, identity: auditIdentity(identity), command: shown.slice(0, 1024), result: 'refused', code: 'session.shell', reason: 'shell requests are refused; this server runs git commands only' });
    context.say(shellHelp(identity, config.queue));
    return SHELL_REFUSED;
  }
  if (context.options.tty === true || (env.SSH_TTY ?? '') !== '') {
    return refuseCommand(context, identity, shown, { code: 'session.pty', message: 'terminals are refused; this server runs git commands only', reason: 'pty requests are refused; this server runs git commands only' });
  }
  const { plan, warning, release } = await planSession(requested ?? '', identity, {
    reposRoot: config.reposRoot, access: config.access, forceCommand, queue: config.queue,
    config, record: (event) => context.events.record(event), auditFields: { session: context.session, identity: auditIdentity(identity) },
  });
  try {
    return await runPlanned(context, identity, shown, plan, warning, env, config);
  } finally {
    // A push to a mirror: refreshes of it wait until git has applied it.
    release?.();
  }
}

async function runPlanned(context: Context, identity: Identity, shown: string, plan: PlannedSession['plan'], warning: string | undefined, env: NodeJS.ProcessEnv, config: PushgateConfig): Promise<number> {
  if (warning !== undefined && plan.kind === 'git') context.say(`pushgate: ${escapeControl(warning)}\n`);
  if (plan.kind === 'refused') return refuseCommand(context, identity, shown, plan);
  const childEnv = gitChildEnv({ identity, session: context.session, gitProtocol: env.GIT_PROTOCOL, base: env });
  let program: Invocation;
  let repository: string | undefined;
  if (plan.kind === 'queue') {
    const invocation = (context.options.queue ?? ((argv) => queueInvocation(argv, config)))(plan.argv);
    if (invocation === undefined) {
      return refuseCommand(context, identity, shown, { code: 'command.unavailable', message: 'queue commands are not available on this server', reason: 'no config file to run queue commands with' });
    }
    if ('refused' in invocation) return refuseCommand(context, identity, shown, invocation.refused);
    program = invocation;
  } else {
    program = { command: 'git', args: plan.args, cwd: plan.path };
    repository = plan.repository;
  }
  return runProgram(context, identity, shown, program, childEnv, repository);
}

async function runProgram(context: Context, identity: Identity, shown: string, program: Invocation, env: NodeJS.ProcessEnv, repository: string | undefined): Promise<number> {
  const started = Date.now();
  const audited = { session: context.session, identity: auditIdentity(identity), command: shown.slice(0, 1024), ...(repository !== undefined ? { repository } : {}) };
  context.events.record({ type: 'ssh.command', ...audited, result: 'started' });
  const ran = await runChild(program.command, program.args, {
    env, stdio: context.options.stdio ?? 'inherit', forwardSignals: context.options.forwardSignals === true,
    ...(program.cwd !== undefined ? { cwd: program.cwd } : {}),
  });
  if (ran.error !== undefined) {
    (context.options.log ?? silentLog).error('could not start the command', { session: context.session, error: ran.error.message });
    context.say('pushgate: the command could not be started\n');
  }
  context.events.record({ type: 'ssh.session-end', ...audited, result: ran.result, durationMs: Date.now() - started });
  return ran.code;
}
