import { basename, resolve } from 'node:path';
import type { PushgateConfig } from '../config/index.js';

/** Repository name as people know it: the path below reposRoot, else the directory name. */
export function repositoryName(gitDir: string, config?: PushgateConfig): string {
  const absolute = resolve(gitDir);
  const name = config && absolute.startsWith(`${config.reposRoot}/`) ? absolute.slice(config.reposRoot.length + 1) : basename(absolute);
  return name.replace(/\.git$/, '');
}
