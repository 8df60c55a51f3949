/**
 * Per-user cache directories for the hooks' short-lived processes:
 * `<tmpdir>/pushgate-<uid>/<kind>`. A directory is used only when it and its
 * parent belong to the current user and are closed to others, since what is
 * cached there is trusted when read back.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The default directory for `kind`, or null on a platform without user ids. */
export function defaultUserCacheDir(kind: string): string | null {
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  return join(tmpdir(), `pushgate-${uid}`, kind);
}

/** Creates `dir` (0700) if needed; true only when it and its parent belong to us alone. */
export function isPrivateDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return [dir, dirname(dir)].every((path) => {
      const stat = lstatSync(path);
      return stat.isDirectory() && stat.uid === process.getuid?.() && (stat.mode & 0o077) === 0;
    });
  } catch {
    return false;
  }
}

/** Best effort and atomic: readers see the old file or the new one; a cache that cannot be written only costs time. */
export function writeCacheFile(path: string, data: string | Uint8Array): void {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    writeFileSync(temp, data, { mode: 0o600 });
    renameSync(temp, path);
  } catch {
    rmSync(temp, { force: true });
  }
}
