import type { Command } from 'commander';
import type { CommandResult } from './main.js';

/**
 * `pushgate hook …` is what the shims in a repository's hooks/ run. The
 * entry point sends these straight to the hook module (start-up time counts
 * on every push); this registration gives them --help and a fallback.
 */
export function registerHookCommands(program: Command, result: CommandResult): void {
  const hook = program.command('hook').description('Programs git runs inside a repository (installed by `pushgate repo install-hooks`).');
  hook.command('pre-receive')
    .description('Decide allow / park / deny for the ref updates on standard input; exit 0 only to allow.')
    .option('--config <file>', 'config file the shim was installed with')
    .action(async (options: { config?: string }) => {
      const { preReceiveMain } = await import('../hook/main.js');
      result.code = await preReceiveMain(options.config);
    });
  hook.command('post-receive')
    .description('Runs after a push was applied: hands over to the repository\'s own post-receive hook, if one was kept.')
    .option('--config <file>', 'config file the shim was installed with')
    .action(async () => {
      const { postReceiveMain } = await import('../hook/main.js');
      result.code = await postReceiveMain();
    });
}
