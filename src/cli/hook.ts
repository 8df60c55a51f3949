import type { Command } from 'commander';
import type { CommandResult } from './main.js';

/**
 * `pushgate hook …` is what the shims in a repository's hooks/ run. The
 * entry point sends these straight to the hook module (start-up time counts
 * on every push); this registration gives them --help and a fallback.
 */
export function registerHookCommands(program: Command, result: CommandResult): void {
  const hook = program.command('hook').description('Programs git runs inside a repository (installed by `pushgate repo install-hooks`).')
    .addHelpText('after', [
      '',
      'You do not run these yourself: each repository\'s hooks/pre-receive and hooks/post-receive',
      'are shims that run them with the config they were installed with.',
      '',
      'Example (what a repository\'s hooks/pre-receive runs):',
      '  exec pushgate hook pre-receive --config /etc/pushgate/pushgate.yaml',
    ].join('\n'));
  hook.command('pre-receive')
    .description('Decide allow / park / deny for the ref updates on standard input; exit 0 only to allow.')
    .option('--config <file>', 'config file the shim was installed with')
    .addHelpText('after', [
      '',
      'Reads "<old> <new> <ref>" lines on stdin as git gives them; prints a short explanation and one',
      '"pushgate-result: {json}" line for the pusher. Exit 0 allows the push; anything else refuses it',
      '(a parked push is refused too: it waits in the queue). It fails closed: an error refuses.',
      '',
      'To check commits before pushing them, use `pushgate scan` instead.',
      '',
      'Example (what hooks/pre-receive runs; git gives it the ref updates on stdin):',
      '  exec pushgate hook pre-receive --config /etc/pushgate/pushgate.yaml',
    ].join('\n'))
    .action(async (options: { config?: string }) => {
      const { preReceiveMain } = await import('../hook/main.js');
      result.code = await preReceiveMain(options.config);
    });
  hook.command('post-receive')
    .description('Runs after a push was applied: records it in the audit log (push.applied), then hands over to the repository\'s own post-receive hook, if one was kept.')
    .option('--config <file>', 'config file the shim was installed with')
    .addHelpText('after', [
      '',
      'A repository\'s own post-receive hook, kept by `pushgate repo install-hooks --chain`, runs from here',
      'as hooks/post-receive.chained. Also run when a reviewer\'s approval applies a parked push.',
      '',
      'Example (what hooks/post-receive runs):',
      '  pushgate hook post-receive --config /etc/pushgate/pushgate.yaml',
    ].join('\n'))
    .action(async (options: { config?: string }) => {
      const { postReceiveMain } = await import('../hook/post-receive.js');
      result.code = await postReceiveMain(options.config);
    });
}
