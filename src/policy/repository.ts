import type { FsckSettings } from '../git/fsck.js';
import type { Finding } from './types.js';

/**
 * Checks of the repository the push goes into, rather than of the push.
 *
 * git's object checks (`receive.fsckObjects`) run before the hook, inside
 * receive-pack; the hook cannot redo them cheaply, but it can tell whether
 * they ran. A repository where they are off (made without pushgate, or whose
 * config was edited) would accept a tree with a `.git` entry or a
 * `.gitmodules` with an option-like url unseen, so every push into it is
 * refused until an administrator turns them on.
 */
export const FSCK_RULE = {
  id: 'object.fsck-disabled',
  title: 'this repository does not check received objects (git\'s receive.fsckObjects is off)',
  fix: 'An administrator must run `pushgate repo install-hooks` on this repository: it turns git\'s object checks on. Push again afterwards.',
} as const;

export const REPOSITORY_RULE_IDS = [FSCK_RULE.id];

export function checkRepository(fsck: FsckSettings): Finding[] {
  if (fsck.receive && fsck.weakened.length === 0) return [];
  const title = fsck.receive
    ? `this repository has weakened git's object checks (${fsck.weakened.map(([id]) => `receive.fsck.${id}`).join(', ')} not "error")`
    : FSCK_RULE.title;
  return [{ ruleId: FSCK_RULE.id, title, action: 'deny', mode: 'enforce', fix: FSCK_RULE.fix }];
}
