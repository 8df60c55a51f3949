/**
 * Which upstream a repository belongs to, and its URL there. Pure: the hook
 * asks this for every push, and a repository without an upstream must pay
 * nothing more than a glob match.
 */
import { minimatch } from 'minimatch';
import type { PushgateConfig, UpstreamConfig } from '../config/index.js';
import { UpstreamError } from './errors.js';

export interface UpstreamTarget {
  upstream: UpstreamConfig;
  /** The repository name (below reposRoot, without `.git`). */
  repository: string;
  /** The upstream's URL for it; never carries a credential (the config refuses one). */
  url: string;
}

/** Names that go into a URL unchanged: no percent-encoding question, no option-like or hidden parts. */
const URL_SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

/**
 * The upstream of `repository`, or undefined when it has none. A name that
 * two upstreams match is an error (no guessing where a push goes).
 */
export function upstreamFor(config: Pick<PushgateConfig, 'upstreams'>, repository: string): UpstreamTarget | undefined {
  if (config.upstreams.length === 0) return undefined;
  const matches = config.upstreams.filter((u) => minimatch(repository, u.repositories, { dot: false }));
  if (matches.length === 0) return undefined;
  if (matches.length > 1) {
    throw new UpstreamError('upstream.config', `repository ${repository} matches more than one upstream (${matches.map((u) => u.name).join(', ')}); an administrator must make upstreams[].repositories distinct`);
  }
  const upstream = matches[0]!;
  if (!URL_SAFE_NAME.test(repository)) {
    throw new UpstreamError('upstream.config', `repository name ${JSON.stringify(repository)} cannot be used in the URL of upstream ${upstream.name} (letters, digits, . _ - and / only)`);
  }
  return { upstream, repository, url: upstream.url.replaceAll('{repo}', repository) };
}

/** The upstream called `name`; undefined when there is none. */
export function upstreamNamed(config: Pick<PushgateConfig, 'upstreams'>, name: string): UpstreamConfig | undefined {
  return config.upstreams.find((u) => u.name === name);
}
