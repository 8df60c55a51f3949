import { runGit, runGitOrThrow } from './run.js';

/**
 * git's object checks on receive (`receive.fsckObjects`): with them on,
 * receive-pack refuses a pack holding a tree entry named `.git` in any
 * spelling a checkout would honour (`.GIT`, `.git.`, `git~1`, `.g\u200cit`),
 * `.`, `..`, a name with a slash, a `.gitmodules` with an option-like url,
 * path or name, a symlinked `.gitmodules`, and malformed objects — before the
 * hook runs. Checked in `--strict` mode, git's warnings are errors, so git's
 * defaults are strict enough; an explicit `receive.fsck.<id> = warn|ignore`
 * (in any config file git reads) weakens one check.
 */

/**
 * The checks that keep a repository clonable by fsck-enabled clients and
 * mirrors, and a checkout from writing outside the work tree (git's message
 * ids, lower-cased as `git config` reports them).
 */
export const CRITICAL_FSCK_MESSAGES = [
  'hasdot', 'hasdotdot', 'hasdotgit', 'fullpathname', 'emptyname', 'duplicateentries', 'treenotsorted', 'badtree', 'nullsha1',
  'gitmodulesblob', 'gitmoduleslarge', 'gitmodulesmissing', 'gitmodulesname', 'gitmodulespath', 'gitmodulessymlink',
  'gitmodulesupdate', 'gitmodulesurl',
] as const;

export interface FsckSettings {
  /** receive-pack checks received objects (receive.fsckObjects, else transfer.fsckObjects). */
  receive: boolean;
  /** fetch checks fetched objects (fetch.fsckObjects, else transfer.fsckObjects). */
  fetch: boolean;
  /** transfer.fsckObjects, the fallback for both. */
  transfer: boolean;
  /** Critical checks set to anything but `error` for receive-pack: `[message id, value]`. */
  weakened: Array<[string, string]>;
}

/** git's boolean: a key without `=` is true; yes/on/true/non-zero true; no/off/false/0/empty false. */
function gitBool(value: string | null): boolean | undefined {
  if (value === null) return true;
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'on'].includes(v)) return true;
  if (['false', 'no', 'off', ''].includes(v)) return false;
  return /^-?\d+[kmg]?$/.test(v) ? parseInt(v, 10) !== 0 : undefined;
}

/**
 * `git config --null --get-regexp` output (`key\nvalue\0`, or `key\0` for a
 * key without a value) → the settings receive-pack and fetch act on. The last
 * value of a key wins, as in git. A value git could not read as a boolean
 * counts as off: git itself would refuse to run.
 */
export function parseFsckConfig(output: string): FsckSettings {
  const last = new Map<string, string | null>();
  for (const entry of output.split('\0')) {
    if (entry === '') continue;
    const nl = entry.indexOf('\n');
    last.set((nl < 0 ? entry : entry.slice(0, nl)).toLowerCase(), nl < 0 ? null : entry.slice(nl + 1));
  }
  const bool = (key: string): boolean | undefined => (last.has(key) ? gitBool(last.get(key)!) ?? false : undefined);
  const transfer = bool('transfer.fsckobjects');
  const weakened: Array<[string, string]> = [];
  for (const id of CRITICAL_FSCK_MESSAGES) {
    const value = last.get(`receive.fsck.${id}`);
    if (value !== undefined && (value ?? '').trim().toLowerCase() !== 'error') weakened.push([id, value ?? '']);
  }
  return { receive: bool('receive.fsckobjects') ?? transfer ?? false, fetch: bool('fetch.fsckobjects') ?? transfer ?? false, transfer: transfer ?? false, weakened };
}

const FSCK_KEYS = '^(receive|transfer|fetch)\\.fsck';

/** The fsck settings git applies in `gitDir` (every config file git reads, `-c` included through the environment). */
export async function readFsckSettings(gitDir: string, env?: NodeJS.ProcessEnv): Promise<FsckSettings> {
  const { code, stdout, stderr } = await runGit(['config', '--null', '--get-regexp', FSCK_KEYS], { gitDir, ...(env ? { env } : {}) });
  // 1: no key matched, which means every check is off.
  if (code !== 0 && code !== 1) throw new Error(`git config failed: ${stderr.trim().split('\n').at(-1) ?? code}`);
  return parseFsckConfig(code === 0 ? stdout : '');
}

/**
 * Turns git's object checks on in `gitDir`, for receiving and for fetching
 * (as GitHub and GitLab run them), and sets every weakened critical check
 * back to `error` in the repository's own config, which git reads last.
 * Writes only what is missing; returns the keys it set.
 */
export async function enableFsck(gitDir: string): Promise<string[]> {
  const current = await readFsckSettings(gitDir);
  const wanted: Array<[string, string]> = [];
  if (!current.receive) wanted.push(['receive.fsckObjects', 'true']);
  if (!current.fetch) wanted.push(['fetch.fsckObjects', 'true']);
  if (!current.transfer) wanted.push(['transfer.fsckObjects', 'true']);
  for (const [id] of current.weakened) wanted.push([`receive.fsck.${id}`, 'error']);
  for (const [key, value] of wanted) await runGitOrThrow(['config', '--replace-all', key, value], { gitDir });
  return wanted.map(([key]) => key);
}
