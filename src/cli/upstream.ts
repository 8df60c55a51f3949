import type { Command } from 'commander';
import { openAudit } from '../audit/index.js';
import type { PushgateConfig } from '../config/index.js';
import { resolveRepository } from '../gateway/repo-path.js';
import { escapeControl } from '../text/index.js';
import { checkUpstream, isUpstreamError, prepareSession, refreshFailureEvent, refreshMirror, upstreamFor, upstreamNamed } from '../upstream/index.js';
import { CONFIG_OPTION_HELP, loadCliConfig } from './config-file.js';
import { CliError, EXIT_ERROR, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';

function upstreamsToCheck(config: PushgateConfig, name: string | undefined): PushgateConfig['upstreams'] {
  if (config.upstreams.length === 0) throw new CliError('the configuration names no upstreams (see upstreams in docs/config.md)', EXIT_REFUSED);
  if (name === undefined) return config.upstreams;
  const found = upstreamNamed(config, name);
  if (found === undefined) throw new CliError(`no upstream is named ${JSON.stringify(name)}; the configuration has ${config.upstreams.map((u) => u.name).join(', ')}`, EXIT_REFUSED);
  return [found];
}

export function registerUpstreamCommands(program: Command, result: CommandResult): void {
  const upstream = program.command('upstream')
    .description('Check the Git servers pushgate mirrors and forwards to, and refresh mirrors on demand.')
    .addHelpText('after', [
      '',
      'In upstream mode a repository whose name matches upstreams[].repositories is served from a local mirror',
      'and every allowed push is forwarded to the upstream with pushgate\'s own credential before it applies here.',
      '',
      'Examples:',
      '  pushgate upstream check',
      '  pushgate upstream check gitlab --repo team/app --write',
      '  pushgate upstream sync team/app team/lib',
    ].join('\n'));

  upstream.command('check')
    .description('Try each upstream (or the one named): credential files, reachability and host key, the credential, a read, and with --write a dry-run push.')
    .argument('[name]', 'the upstream to check (default: all)')
    .option('--repo <name>', 'a repository to try (default: the repositories pattern when it names one repository)')
    .option('--write', 'also try a dry-run push (nothing is sent or changed upstream)')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExit status: 0 all good, 1 a check failed (each failure says what to fix), 2 could not run.\n\nExample:\n  pushgate upstream check gitlab --repo team/app --write')
    .action(async (name: string | undefined, options: { repo?: string; write?: boolean; config?: string }) => {
      const config = loadCliConfig(options.config);
      let failed = false;
      for (const entry of upstreamsToCheck(config, name)) {
        const steps = await checkUpstream(config, entry, { ...(options.repo !== undefined ? { repository: options.repo.replace(/\.git$/, '') } : {}), write: options.write === true });
        for (const step of steps) {
          process.stdout.write(`${entry.name}: ${step.ok ? 'ok' : 'FAILED'} ${step.step}: ${escapeControl(step.message)}\n`);
          if (!step.ok) failed = true;
        }
      }
      result.code = failed ? EXIT_REFUSED : 0;
    });

  upstream.command('sync')
    .description('Refresh the mirrors of the named repositories from their upstreams now (creating them if needed).')
    .argument('<repo...>', 'repository names, e.g. team/app')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExample:\n  pushgate upstream sync team/app')
    .action(async (repos: string[], options: { config?: string }) => {
      const config = loadCliConfig(options.config);
      const audit = openAudit(config.audit, { stderr: false });
      let failed = 0;
      try {
        for (const requested of repos) {
          const name = requested.replace(/^\/+/, '').replace(/\.git$/, '');
          try {
            if (upstreamFor(config, name) === undefined) throw new CliError(`${name} matches no upstream`, EXIT_REFUSED);
          } catch (error) {
            if (isUpstreamError(error)) throw new CliError(error.message, EXIT_REFUSED);
            throw error;
          }
          const resolved = await resolveRepository(config.reposRoot, name);
          const record = (event: Parameters<typeof audit.record>[0]): void => void audit.record(event).catch(() => undefined);
          if (resolved.ok) {
            const target = upstreamFor(config, name)!;
            try {
              await refreshMirror(resolved.path, target, { force: true });
            } catch (error) {
              record(refreshFailureEvent(target, (error as Error).message));
              process.stderr.write(`pushgate: ${name}: ${escapeControl((error as Error).message)}\n`);
              failed++;
              continue;
            }
            process.stdout.write(`${name}: refreshed\n`);
            continue;
          }
          const prepared = await prepareSession({ config, repository: name, gitDir: undefined, write: false, record });
          if (prepared.kind !== 'ready') {
            process.stderr.write(`pushgate: ${name}: ${escapeControl(prepared.kind === 'refused' ? prepared.reason : 'matches no upstream')}\n`);
            failed++;
            continue;
          }
          process.stdout.write(`${name}: mirror created\n`);
        }
      } finally {
        await audit.close();
      }
      result.code = failed === 0 ? 0 : EXIT_ERROR;
    });
}
