import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { findConfigPath, type PushgateConfig } from '../config/index.js';
import { runGitOrThrow } from '../git/index.js';
import { HookInstallError, installHooks, type InstallResult } from '../hook/install.js';
import { isUpstreamError, upstreamFor } from '../upstream/index.js';
import { CONFIG_OPTION_HELP, loadCliConfig } from './config-file.js';
import { CliError, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';

const NAME = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** What is wrong with a refused repository name, rather than the whole rule. */
function repoNameProblem(bare: string): string {
  const foreign = [...new Set([...bare].filter((c) => !/[A-Za-z0-9._/-]/.test(c)))];
  if (bare === '') return 'it is empty';
  if (foreign.length > 0) return `${foreign.slice(0, 8).map((c) => JSON.stringify(c)).join(', ')} ${foreign.length === 1 ? 'is' : 'are'} not allowed; use letters, digits, ".", "_", "-" and "/" between parts`;
  if (bare.split('/').some((part) => part === '')) return 'it has an empty part (a leading, trailing or doubled "/")';
  return 'a part starts with "." (hidden names, "." and ".." are not allowed)';
}

/** `team/app` or `team/app.git` → the bare repository's path under reposRoot. */
export function repoPathFor(reposRoot: string, name: string): string {
  const bare = name.replace(/\.git$/, '');
  if (!NAME.test(bare) || bare.split('/').some((part) => part === '.' || part === '..' || part.startsWith('.'))) {
    throw new CliError(`${JSON.stringify(name)} is not a repository name: ${repoNameProblem(bare)}`, EXIT_REFUSED);
  }
  return join(reposRoot, `${bare}.git`);
}

function describe(result: InstallResult): string {
  const parts = [
    result.written.length ? `installed ${result.written.join(', ')}` : '',
    result.unchanged.length ? `${result.unchanged.join(', ')} already current` : '',
    result.chained.length ? `kept the existing ${result.chained.join(', ')} to run after pushgate` : '',
    result.configured.length ? `set ${result.configured.join(', ')}` : '',
  ].filter((p) => p !== '');
  return `${result.repo}: ${parts.join('; ')}`;
}

async function install(path: string, configPath: string, chain: boolean): Promise<InstallResult> {
  try {
    return await installHooks(path, { configPath, chain });
  } catch (error) {
    if (error instanceof HookInstallError) throw new CliError(error.message, EXIT_REFUSED);
    throw error;
  }
}

/**
 * Upstream mode: a name an upstream covers is that upstream's repository.
 * An empty local one would be served in its place and pushes would be
 * forwarded into an upstream it does not mirror.
 */
function refuseMirrorName(config: PushgateConfig, repository: string): void {
  let upstream: string | undefined;
  try {
    upstream = upstreamFor(config, repository)?.upstream.name;
  } catch (error) {
    if (isUpstreamError(error)) throw new CliError(error.message, EXIT_REFUSED);
    throw error;
  }
  if (upstream === undefined) return;
  throw new CliError(`${repository} belongs to upstream ${upstream} (upstreams[].repositories): pushgate serves it from a mirror of the upstream, created on first use or by \`pushgate upstream sync ${repository}\`; create the repository on the upstream server instead`, EXIT_REFUSED);
}

export function registerRepoCommands(program: Command, result: CommandResult): void {
  const repo = program.command('repo').description('Create protected repositories and install pushgate\'s hooks into existing ones.')
    .addHelpText('after', '\nExamples:\n  pushgate repo create team/app\n  pushgate repo install-hooks --chain /srv/git/legacy.git');

  repo.command('create')
    .description('Create a bare repository under reposRoot with pushgate\'s hooks installed.')
    .argument('<name>', 'repository name, e.g. team/app')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExample:\n  pushgate repo create team/app --config /etc/pushgate/pushgate.yaml')
    .action(async (name: string, options: { config?: string }) => {
      const config = loadCliConfig(options.config);
      const path = repoPathFor(config.reposRoot, name);
      if (config.upstreams.length > 0) refuseMirrorName(config, name.replace(/\.git$/, ''));
      if (existsSync(path)) throw new CliError(`${path} already exists`, EXIT_REFUSED);
      mkdirSync(dirname(path), { recursive: true });
      await runGitOrThrow(['init', '--quiet', '--bare', '--initial-branch=main', path], { cwd: dirname(path) });
      const installed = await install(path, findConfigPath(options.config), false);
      process.stdout.write(`${describe(installed)}\n`);
      result.code = 0;
    });

  repo.command('install-hooks')
    .description('Install (or update) pushgate\'s pre-receive and post-receive hooks in bare repositories.')
    .argument('<path...>', 'bare repositories')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .option('--chain', 'keep an existing foreign hook and run it after pushgate\'s checks pass')
    .addHelpText('after', '\nInstalling twice changes nothing. A hook that is not pushgate\'s is never overwritten.\n\nExample:\n  pushgate repo install-hooks /srv/git/*.git --config /etc/pushgate/pushgate.yaml')
    .action(async (paths: string[], options: { config?: string; chain?: boolean }) => {
      const configPath = findConfigPath(options.config);
      loadCliConfig(configPath);
      let failed = 0;
      for (const path of paths) {
        try {
          process.stdout.write(`${describe(await install(resolve(path), configPath, options.chain === true))}\n`);
        } catch (error) {
          if (!(error instanceof CliError)) throw error;
          process.stderr.write(`pushgate: ${error.message}\n`);
          failed++;
        }
      }
      result.code = failed === 0 ? 0 : EXIT_REFUSED;
    });
}
