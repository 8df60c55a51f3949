import type { Command } from 'commander';
import { auditConfigWarnings } from '../audit/key.js';
import { checkRuleIds, ConfigError, findConfigPath, loadConfig } from '../config/index.js';
import { knownRuleIds } from '../policy/rule-ids.js';
import { CONFIG_OPTION_HELP } from './config-file.js';
import { EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';

export function registerConfigCommands(program: Command, result: CommandResult): void {
  const config = program.command('config').description('Check pushgate\'s configuration.')
    .addHelpText('after', '\nThe file is found at --config, then $PUSHGATE_CONFIG, then /etc/pushgate/pushgate.yaml.\nReference: docs/config.md.\n\nExample:\n  PUSHGATE_CONFIG=/srv/pushgate/pushgate.yaml pushgate config check');
  config.command('check')
    .description('Validate the config file; print every problem with its path in the file.')
    .option('--config <file>', CONFIG_OPTION_HELP)
    .addHelpText('after', '\nExit status: 0 valid, 1 invalid.\n\nExample:\n  pushgate config check --config /etc/pushgate/pushgate.yaml')
    .action((options: { config?: string }) => {
      const path = findConfigPath(options.config);
      try {
        const loaded = loadConfig(path);
        const problems = checkRuleIds(loaded, knownRuleIds(loaded));
        if (problems.length > 0) throw new ConfigError('config.invalid', path, problems);
        process.stdout.write(`${path}: valid\n`);
        for (const warning of auditConfigWarnings(loaded.audit)) process.stderr.write(`pushgate: warning: ${warning}\n`);
        result.code = 0;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${error.format()}\n`);
        result.code = EXIT_REFUSED;
      }
    });
}
