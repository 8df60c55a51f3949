/**
 * What `ssh git@host` with no command answers, through the gateway or
 * `pushgate shell` behind sshd: who the server took the caller for, their
 * roles, and the commands they may run. Like gitolite's and soft-serve's
 * greeting; the session then ends with exit status 1, as a refused command
 * does. Every name in it comes from the caller's certificate: escaped.
 */
import type { QueueConfig } from '../config/index.js';
import type { Identity } from '../identity/index.js';
import { escapeControl } from '../text/index.js';

/** Whether the roles hold a reviewer role of the queue's config (its default or any rule's). */
function mayReview(roles: readonly string[], queue: QueueConfig | undefined): boolean {
  if (queue === undefined) return false;
  const reviewerRoles = new Set([...queue.reviewerRoles, ...queue.rules.flatMap((r) => r.reviewerRoles ?? [])]);
  return roles.some((r) => reviewerRoles.has(r));
}

export function shellHelp(identity: Pick<Identity, 'principal' | 'roles'>, queue: QueueConfig | undefined, forceCommand?: string): string {
  const roles = identity.roles.length > 0 ? identity.roles.map(escapeControl).join(', ') : 'none';
  const lines = [`pushgate: hello ${escapeControl(identity.principal)}; roles: ${roles}.`, 'pushgate: there is no shell here; you may run:'];
  if (forceCommand !== undefined) {
    lines.push(`pushgate:   only ${escapeControl(forceCommand)} (your certificate forces this command)`);
  } else {
    lines.push('pushgate:   git clone / fetch / pull / push ssh://<this server>/<repository>.git (as the access rules allow)');
    if (queue !== undefined) {
      lines.push('pushgate:   ssh <this server> queue list | show ID | status ID | wait ID [--timeout 10m]   (or: pushgate queue … --remote origin)');
      if (mayReview(identity.roles, queue)) lines.push('pushgate:   ssh <this server> queue approve ID [--comment TEXT] | reject ID --reason TEXT | expire   (a reviewer)');
    }
  }
  return `${lines.join('\n')}\n`;
}
