/**
 * Maps the path a client names to a bare repository under reposRoot without
 * ever looking outside it: the name is checked as text first, then resolved
 * one component at a time with lstat/readlink, so a symlink that leads out
 * is refused before anything beyond the root is read.
 */
import { lstat, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';

export const MAX_REPO_PATH = 1024;
const MAX_COMPONENT = 255;
const MAX_SYMLINK_HOPS = 40;

export type RepoRefusalCode = 'repo.invalid-path' | 'repo.not-found' | 'repo.symlink-escape' | 'repo.not-bare';

export interface RepoRefusal {
  ok: false;
  code: RepoRefusalCode;
  /** For the audit log and operators; clients get one message for every refusal. */
  reason: string;
}

export interface RepoName {
  ok: true;
  /** Relative to reposRoot, without `.git`: what access rules match. */
  name: string;
}

export interface ResolvedRepo {
  ok: true;
  /** Canonical name of the repository actually found (after symlinks), without `.git`. */
  name: string;
  /** Absolute real path of the bare repository. */
  path: string;
}

/** Printable characters only; no backslash; no U+FFFD (what undecodable bytes became). */
const BAD_CHARS = /[\0-\x1f\x7f\\\ufffd]/;

function refuse(code: RepoRefusalCode, reason: string): RepoRefusal {
  return { ok: false, code, reason };
}

/**
 * The repository name in a requested path: a leading `/` or `~/` and a
 * trailing `.git` are optional; an absolute path is accepted when it lies
 * under reposRoot, and otherwise read relative to it.
 */
export function repoNameFromPath(requested: string, reposRoot: string): RepoName | RepoRefusal {
  if (requested.length === 0) return refuse('repo.invalid-path', 'empty repository path');
  if (Buffer.byteLength(requested) > MAX_REPO_PATH) return refuse('repo.invalid-path', `repository path longer than ${MAX_REPO_PATH} bytes`);
  if (BAD_CHARS.test(requested)) return refuse('repo.invalid-path', 'repository path contains control characters, a backslash or bytes that are not UTF-8');
  let path = requested;
  const root = reposRoot.replace(/\/+$/, '');
  if (path.startsWith(`${root}/`)) path = path.slice(root.length + 1);
  else if (path.startsWith('~/')) path = path.slice(2);
  path = path.replace(/^\/+/, '').replace(/\/$/, '');
  const name = path.endsWith('.git') ? path.slice(0, -'.git'.length) : path;
  if (name === '') return refuse('repo.invalid-path', 'repository path names no repository');
  for (const part of name.split('/')) {
    if (part === '') return refuse('repo.invalid-path', 'repository path has an empty component');
    if (part.startsWith('.')) return refuse('repo.invalid-path', 'repository path has a component starting with "." (.., ., or hidden)');
    if (Buffer.byteLength(part) > MAX_COMPONENT) return refuse('repo.invalid-path', `repository path component longer than ${MAX_COMPONENT} bytes`);
  }
  return { ok: true, name };
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root + sep);
}

type Walk = { ok: true; path: string } | RepoRefusal;

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

/** Resolves `relativePath` under `root` (a real path), following symlinks only while they stay inside. */
async function walkInside(root: string, relativePath: string): Promise<Walk> {
  let current = root;
  const parts = relativePath.split('/');
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = join(current, '..');
      if (!inside(root, current)) return refuse('repo.symlink-escape', 'a symlink leads outside reposRoot');
      continue;
    }
    const next = join(current, part);
    let entry;
    try {
      entry = await lstat(next);
    } catch (error) {
      return refuse('repo.not-found', `${next}: ${errnoOf(error) ?? 'cannot be read'}`);
    }
    if (!entry.isSymbolicLink()) {
      current = next;
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) return refuse('repo.not-found', `${next}: too many symlinks`);
    const target = await readlink(next);
    if (isAbsolute(target)) {
      const normalized = normalize(target);
      if (!inside(root, normalized)) return refuse('repo.symlink-escape', `${next} leads outside reposRoot (${target})`);
      current = root;
      parts.unshift(...relative(root, normalized).split(sep));
    } else {
      parts.unshift(...target.split('/'));
    }
  }
  return { ok: true, path: current };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * git's own test for a git directory (HEAD, objects/, refs/), plus
 * `core.bare` not false: read from the files, since a git process per
 * connection costs more than the whole check.
 */
export async function isBareRepository(path: string): Promise<boolean> {
  try {
    const head = await readFile(join(path, 'HEAD'), 'utf8');
    if (!/^(ref: refs\/|[0-9a-f]{40})/.test(head)) return false;
  } catch {
    return false;
  }
  if (!(await isDirectory(join(path, 'objects'))) || !(await isDirectory(join(path, 'refs')))) return false;
  let config = '';
  try {
    config = await readFile(join(path, 'config'), 'utf8');
  } catch {
    return true;
  }
  let inCore = false;
  for (const raw of config.split('\n')) {
    const line = raw.trim();
    const section = /^\[\s*([A-Za-z0-9.-]+)/.exec(line);
    if (section) inCore = section[1]!.toLowerCase() === 'core';
    else if (inCore && /^bare\s*=\s*(false|no|off|0)\s*(?:[#;].*)?$/i.test(line)) return false;
  }
  return true;
}

/** Finds the bare repository `name` (`<name>.git`, else `<name>`) under reposRoot. */
export async function resolveRepository(reposRoot: string, name: string): Promise<ResolvedRepo | RepoRefusal> {
  let root: string;
  try {
    root = await realpath(reposRoot);
  } catch (error) {
    return refuse('repo.not-found', `reposRoot ${reposRoot}: ${errnoOf(error) ?? 'cannot be read'}`);
  }
  let refusal: RepoRefusal = refuse('repo.not-found', `no ${name}.git or ${name} under ${root}`);
  for (const candidate of [`${name}.git`, name]) {
    const walked = await walkInside(root, candidate);
    if (!walked.ok) {
      if (walked.code === 'repo.symlink-escape') return walked;
      continue;
    }
    if (walked.path === root) continue;
    if (!(await isBareRepository(walked.path))) {
      refusal = refuse('repo.not-bare', `${walked.path} is not a bare repository`);
      continue;
    }
    const rel = relative(root, walked.path).split(sep).join('/');
    return { ok: true, path: walked.path, name: rel.endsWith('.git') ? rel.slice(0, -'.git'.length) : rel };
  }
  return refusal;
}
