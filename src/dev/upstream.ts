/**
 * The demo's upstream: the Git server pushgate sits in front of. By default a
 * second bare repository under the demo directory, reached by file://, with
 * the demo's history; or the upstream named by `--upstream URL` with the
 * credential options its scheme needs, exactly as `upstreams` in the config
 * takes them. The walkthrough looks at the upstream to show a push landing
 * there: with `git --git-dir` when it is a local directory, with
 * `git ls-remote` through pushgate's own upstream credential environment
 * otherwise.
 */
import { accessSync, constants, existsSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpstreamConfig } from '../config/index.js';
import { upstreamScheme } from '../config/schema.js';
import { shellWord } from '../self/index.js';
import { CliError, EXIT_REFUSED } from '../cli/exit.js';

export const DEV_UPSTREAM_NAME = 'demo-upstream';

/** `pushgate dev`'s upstream options, as commander hands them over. */
export interface DevUpstreamOptions {
  /** A URL, or false for `--no-upstream` (pushgate hosts the demo repository itself). */
  upstream?: string | boolean;
  upstreamSshKey?: string;
  upstreamKnownHosts?: string;
  upstreamUsername?: string;
  upstreamTokenFile?: string;
  upstreamCredentialHelper?: string;
  upstreamCaFile?: string;
}

/** Option → config key: the config's own checks then speak of the option the user typed. */
export const CREDENTIAL_OPTIONS = {
  upstreamSshKey: ['--upstream-ssh-key', 'sshKeyFile'],
  upstreamKnownHosts: ['--upstream-known-hosts', 'knownHostsFile'],
  upstreamUsername: ['--upstream-username', 'username'],
  upstreamTokenFile: ['--upstream-token-file', 'tokenFile'],
  upstreamCredentialHelper: ['--upstream-credential-helper', 'credentialHelper'],
  upstreamCaFile: ['--upstream-ca-file', 'caFile'],
} as const;

const FILE_OPTIONS = new Set<keyof DevUpstreamOptions>(['upstreamSshKey', 'upstreamKnownHosts', 'upstreamTokenFile', 'upstreamCaFile']);

/** A repository name as upstream URLs take it (the same rule upstream matching applies). */
const LOCAL_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export interface DevUpstreamPlan {
  /** The `upstreams` entry written into the demo config. */
  entry: Record<string, string>;
  /** The repository's name at pushgate. */
  repository: string;
  /** A bare repository the demo creates with its history when it does not exist yet (file:// only). */
  seed?: string;
}

/** Where the walkthrough looks to see what landed upstream. */
export interface DevUpstreamView {
  name: string;
  /** The repository's URL upstream (no credential: the config refuses one). */
  url: string;
  /** A local bare repository: `git --git-dir` reads it. */
  gitDir?: string;
  /** Otherwise: a sourceable file with pushgate's credential environment for this upstream (names files, holds no secret). */
  envFile?: string;
}

/**
 * The upstream entry for the demo, or undefined with `--no-upstream`.
 * `--upstream` takes a URL template with `{repo}` (the demo repository,
 * demo/app, goes there) or the URL of one repository, whose last path
 * segment then becomes the name pushgate serves it under.
 */
export function planDevUpstream(dir: string, options: DevUpstreamOptions, demoRepo: string): DevUpstreamPlan | undefined {
  const given = Object.entries(CREDENTIAL_OPTIONS).filter(([key]) => options[key as keyof DevUpstreamOptions] !== undefined).map(([, [flag]]) => flag);
  if (options.upstream === false) {
    if (given.length > 0) throw new CliError(`${given.join(', ')} only go with --upstream URL, not with --no-upstream`, EXIT_REFUSED);
    return undefined;
  }
  if (options.upstream === undefined || options.upstream === true) {
    if (given.length > 0) throw new CliError(`${given.join(', ')} only go with --upstream URL (the default upstream is a local directory and needs no credential)`, EXIT_REFUSED);
    return { entry: { name: DEV_UPSTREAM_NAME, repositories: demoRepo, url: `file://${join(dir, 'upstream')}/{repo}.git` }, repository: demoRepo, seed: join(dir, 'upstream', `${demoRepo}.git`) };
  }
  const url = options.upstream;
  // Checked before anything is written: the config file would otherwise hold the token.
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(url)) {
    throw new CliError('--upstream: the URL carries a password or token; give the token in a file with --upstream-token-file (and --upstream-username), never in the URL', EXIT_REFUSED);
  }
  if (upstreamScheme(url) === undefined) {
    throw new CliError(`--upstream ${JSON.stringify(url.replace(/:\/\/[^/@]*@/, '://…@'))}: expected an ssh://, https:// or file:// URL (or user@host:path), such as file:///srv/git/{repo}.git`, EXIT_REFUSED);
  }
  let template = url;
  let repository = demoRepo;
  if (!url.includes('{repo}')) {
    // The URL of one repository: its last path segment names it here, and becomes {repo} in the template.
    const match = /^(.*[/:])([^/:]+?)(\.git)?\/?$/.exec(url);
    const name = match?.[2];
    if (match === null || name === undefined || !LOCAL_NAME.test(name)) {
      throw new CliError(`--upstream ${JSON.stringify(url)}: cannot tell the repository's name from the URL; give a URL ending in NAME.git, or a template with {repo} (the demo repository ${demoRepo} goes there)`, EXIT_REFUSED);
    }
    repository = name;
    template = `${match[1]}{repo}${match[3] ?? ''}`;
  }
  const entry: Record<string, string> = { name: DEV_UPSTREAM_NAME, repositories: repository, url: template };
  for (const [key, [, configKey]] of Object.entries(CREDENTIAL_OPTIONS)) {
    const value = options[key as keyof DevUpstreamOptions];
    if (typeof value !== 'string') continue;
    if (FILE_OPTIONS.has(key as keyof DevUpstreamOptions)) {
      const path = resolve(value);
      if (!readableFile(path)) throw new CliError(`${CREDENTIAL_OPTIONS[key as keyof typeof CREDENTIAL_OPTIONS][0]} ${JSON.stringify(path)}: not a file this user can read`, EXIT_REFUSED);
      entry[configKey] = path;
    } else {
      entry[configKey] = value;
    }
  }
  let seed: string | undefined;
  if (upstreamScheme(template) === 'file') {
    const path = localPath(template.replaceAll('{repo}', repository));
    if (path === undefined) throw new CliError(`--upstream ${JSON.stringify(url)}: a file:// URL needs an absolute path (file:///srv/git/{repo}.git)`, EXIT_REFUSED);
    // The demo directory is replaced at every start: an upstream inside it would be lost.
    const inside = relative(realDir(dir), realDir(path));
    if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
      throw new CliError(`--upstream ${JSON.stringify(url)} lies inside the demo directory ${dir}, which every start replaces; put the upstream elsewhere`, EXIT_REFUSED);
    }
    if (!existsSync(path)) seed = path;
  }
  return { entry, repository, ...(seed !== undefined ? { seed } : {}) };
}

function readableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path of a file:// URL, or undefined when it has none. */
function localPath(url: string): string | undefined {
  try {
    return fileURLToPath(url);
  } catch {
    return undefined;
  }
}

/** `path` with its longest existing prefix resolved through symlinks. */
function realDir(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : join(realDir(parent), relative(parent, absolute));
}

/**
 * How the walkthrough looks upstream. For a remote upstream, `envFile` gets
 * the environment pushgate's own git processes use for it (`upstreamEnv`
 * without the inherited part): the deploy key or the token file is named,
 * never copied.
 */
export function devUpstreamView(upstream: UpstreamConfig, repository: string, envFile: string, env: NodeJS.ProcessEnv): DevUpstreamView {
  const url = upstream.url.replaceAll('{repo}', repository);
  if (upstreamScheme(url) === 'file') {
    const gitDir = localPath(url);
    if (gitDir !== undefined) return { name: upstream.name, url, gitDir };
  }
  const lines = Object.entries(env).map(([name, value]) => `export ${name}=${shellWord(value ?? '')}`);
  writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o644 });
  return { name: upstream.name, url, envFile };
}
