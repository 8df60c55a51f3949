/** Gateway events (the ones it also writes to the audit log) → session and login metrics. */
import type { AuditEventInput } from '../audit/index.js';
import type { PushgateMetrics } from './registry.js';

const GIT_COMMANDS: Readonly<Record<string, string>> = {
  'git-receive-pack': 'receive-pack',
  'git-upload-pack': 'upload-pack',
  'git-upload-archive': 'upload-archive',
};

/**
 * The `command` label of a started session: the command's first word
 * (`git-receive-pack '…'`, `git receive-pack '…'`, `queue list`); a forced
 * command is recorded first, so it is the one that counts.
 */
export function sessionCommandLabel(command: string): string {
  const words = command.trim().split(/\s+/);
  const name = words[0] === 'git' ? `git-${words[1] ?? ''}` : (words[0] ?? '');
  if (name === 'queue') return 'queue';
  return GIT_COMMANDS[name] ?? 'other';
}

/** `cert.expired` → `expired`, `auth.timeout` → `timeout`; a plain key not on the break-glass list → `not-a-certificate`. */
export function authFailureReason(code: string | undefined): string {
  if (code === undefined || code === '') return 'unknown';
  if (code === 'auth.plain-key') return 'not-a-certificate';
  return code.replace(/^(cert|auth)\./, '').replace(/\./g, '-');
}

/** A listener for the gateway's events that keeps the SSH metrics. */
export function gatewayEventListener(metrics: PushgateMetrics): (event: Readonly<AuditEventInput>) => void {
  return (event) => {
    switch (event.type) {
      case 'ssh.command':
        if (event.result === 'started') {
          metrics.sshSessions.inc({ command: sessionCommandLabel(event.command ?? '') });
          metrics.sshSessionsActive.inc();
        } else if (event.result === 'refused') {
          metrics.sshSessions.inc({ command: 'refused' });
        }
        return;
      case 'ssh.session-end':
        metrics.sshSessionsActive.dec();
        return;
      case 'ssh.auth':
        if (event.result === 'refused') metrics.sshAuthFailures.inc({ reason: authFailureReason(event.code) });
        return;
      default:
    }
  };
}
