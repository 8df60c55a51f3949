/**
 * Whether a repository is a mirror of an upstream: its marker file, written
 * when the mirror is created. Kept apart from mirror.ts so the hook and the
 * queue can ask without loading the mirror code.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const MARKER_FILE = 'pushgate-upstream';

/** Whether `gitDir` was created as a mirror of an upstream. */
export function isMirror(gitDir: string): boolean {
  return existsSync(join(gitDir, MARKER_FILE));
}
