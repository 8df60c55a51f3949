/**
 * Where the queue keeps things: never in the repository's own object store
 * or refs. Protocol v2 `upload-pack` serves any object of a repository's
 * store by id, reachable or not, hidden refs or not, and `upload-archive`
 * resolves hidden refs by name; so whatever the repository holds, every
 * reader of it can get. The queue lives beside it instead:
 *
 *   <gitDir>/.pushgate/queue.git            the records: a bare repository whose
 *                                           refs/pushgate/queue/<id> is the entry's
 *                                           record commit (masked text only)
 *   <gitDir>/.pushgate/parked/<id>.git      one bare repository per entry: the
 *                                           objects only that push brought, and
 *                                           refs/pushgate/pending/<id>/<ref>;
 *                                           objects/info/alternates points at the
 *                                           repository's objects, so it holds
 *                                           only what is new
 *
 * The leading dot keeps both out of every repository name a client can
 * ask for (the gateway refuses path components starting with "."), and
 * `findRepositories` skips them. Reviewers and the pusher reach an entry's
 * store only through the gateway's entry form (`<repo>.git/.queue/<id>`),
 * which checks who asks; the apply step copies the objects into the
 * repository once the push is approved; a rejected or expired entry's
 * store is deleted as a whole.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectFormat } from '../git/index.js';
import { ID_ALPHABET, ID_LENGTH } from './id.js';

export const QUEUE_DIR = '.pushgate';
const RECORDS = 'queue.git';
const PARKED = 'parked';

export function queueDir(gitDir: string): string {
  return join(gitDir, QUEUE_DIR);
}

/** The records' repository of `gitDir`. */
export function recordStore(gitDir: string): string {
  return join(gitDir, QUEUE_DIR, RECORDS);
}

export function parkedRoot(gitDir: string): string {
  return join(gitDir, QUEUE_DIR, PARKED);
}

/** The repository holding entry `id`'s parked objects. */
export function entryStore(gitDir: string, id: string): string {
  return join(gitDir, QUEUE_DIR, PARKED, `${id}.git`);
}

/** Whether a store was created completely (it is renamed into place only once it is). */
export function storeExists(path: string): boolean {
  return existsSync(join(path, 'HEAD'));
}

export function objectFormatOf(oid: string): ObjectFormat {
  return oid.length === 64 ? 'sha256' : 'sha1';
}

function configText(format: ObjectFormat): string {
  // gc.auto=0: nothing in these stores is ever garbage-collected behind the queue's back.
  return [
    '[core]',
    `\trepositoryformatversion = ${format === 'sha256' ? 1 : 0}`,
    '\tbare = true',
    ...(format === 'sha256' ? ['[extensions]', '\tobjectformat = sha256'] : []),
    '[gc]',
    '\tauto = 0',
    '[receive]',
    '\tdenyCurrentBranch = refuse',
    '',
  ].join('\n');
}

/**
 * Writes a minimal bare repository in a temporary directory beside `path`
 * and renames it into place, so a store is either absent or complete.
 * Written directly rather than with `git init`: no templates, no process.
 * Resolves to false when `path` already exists.
 */
async function createStore(path: string, parent: string, format: ObjectFormat, alternates?: string): Promise<boolean> {
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(join(tmp, 'objects', 'info'), { recursive: true });
    await mkdir(join(tmp, 'objects', 'pack'), { recursive: true });
    await mkdir(join(tmp, 'refs', 'heads'), { recursive: true });
    await mkdir(join(tmp, 'refs', 'tags'), { recursive: true });
    await writeFile(join(tmp, 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(tmp, 'config'), configText(format));
    if (alternates !== undefined) await writeFile(join(tmp, 'objects', 'info', 'alternates'), `${alternates}\n`);
    try {
      await rename(tmp, path);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
      throw error;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The records' repository, created on first use. */
export async function ensureRecordStore(gitDir: string, format: ObjectFormat): Promise<string> {
  const path = recordStore(gitDir);
  if (!storeExists(path)) await createStore(path, queueDir(gitDir), format);
  return path;
}

/**
 * A fresh, empty store for entry `id`, or null when the id is taken. Its
 * alternates name the repository's objects relatively
 * (`<gitDir>/.pushgate/parked/<id>.git/objects` → `<gitDir>/objects`), so
 * moving the repository keeps it working.
 */
export async function createEntryStore(gitDir: string, id: string, format: ObjectFormat): Promise<string | null> {
  const path = entryStore(gitDir, id);
  if (existsSync(path)) return null;
  return (await createStore(path, parkedRoot(gitDir), format, '../../../../objects')) ? path : null;
}

/** Deletes entry `id`'s store and every object in it; nothing else refers to them. */
export async function removeEntryStore(gitDir: string, id: string): Promise<boolean> {
  const path = entryStore(gitDir, id);
  if (!existsSync(path)) return false;
  // Renamed first so that a half-deleted store is never mistaken for one.
  const doomed = join(parkedRoot(gitDir), `.gone-${id}-${randomBytes(4).toString('hex')}`);
  try {
    await rename(path, doomed);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  await rm(doomed, { recursive: true, force: true });
  return true;
}

const STORE_NAME = new RegExp(`^([${ID_ALPHABET}]{${ID_LENGTH}})\\.git$`);

export interface StoreListing {
  /** Entry stores by id, with when they were last changed (ms). */
  stores: { id: string; path: string; mtimeMs: number }[];
  /** Leftovers of a create or delete that was cut off: temporary directories, with their age. */
  leftovers: { path: string; mtimeMs: number }[];
}

/** Every entry store of `gitDir` (and leftovers), from the directory alone. */
export function listEntryStores(gitDir: string): StoreListing {
  const out: StoreListing = { stores: [], leftovers: [] };
  const root = parkedRoot(gitDir);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(root, name);
    let mtimeMs: number;
    try {
      mtimeMs = lstatSync(path).mtimeMs;
    } catch {
      continue;
    }
    const match = STORE_NAME.exec(name);
    if (match) out.stores.push({ id: match[1]!, path, mtimeMs });
    else if (name.startsWith('.tmp-') || name.startsWith('.gone-')) out.leftovers.push({ path, mtimeMs });
  }
  return out;
}
