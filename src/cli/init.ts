import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultConfigYaml } from '../config/index.js';
import { generatePrivateKey } from '../sshcert/index.js';
import { writeNewKeyPair } from './ca.js';
import { CliError } from './exit.js';
import type { CommandResult } from './main.js';

interface InitOptions {
  dir: string;
  sshListen?: string;
  httpListen?: string;
}

/**
 * Creates everything a working server needs in DIR. Existing files are kept:
 * running init again fills in only what is missing, and never replaces a key.
 */
export function initServerDir(options: InitOptions): string[] {
  const dir = resolve(options.dir);
  const created: string[] = [];
  for (const sub of ['', 'repos', 'state']) {
    const path = join(dir, sub);
    if (!existsSync(path)) {
      mkdirSync(path, { recursive: true, mode: sub === 'state' ? 0o700 : 0o755 });
      created.push(path);
    }
  }
  const configPath = join(dir, 'pushgate.yaml');
  if (!existsSync(configPath)) {
    let text: string;
    try {
      text = defaultConfigYaml({
        ...(options.sshListen !== undefined ? { sshListen: options.sshListen } : {}),
        ...(options.httpListen !== undefined ? { httpListen: options.httpListen } : {}),
      });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    writeFileSync(configPath, text, { mode: 0o644, flag: 'wx' });
    created.push(configPath);
  }
  for (const [name, comment] of [['ca', 'pushgate-ca'], ['host_ed25519', 'pushgate-host']] as const) {
    const path = join(dir, name);
    if (existsSync(path)) continue;
    writeNewKeyPair(path, generatePrivateKey('ed25519', { comment }));
    created.push(path, `${path}.pub`);
  }
  return created;
}

export function registerInitCommand(program: Command, result: CommandResult): void {
  program.command('init')
    .description('Create a server directory: pushgate.yaml (documented defaults), CA key, SSH host key, repos/, state/.')
    .requiredOption('--dir <dir>', 'directory to create or complete')
    .option('--ssh-listen <host:port>', 'SSH listen address written to the config', '127.0.0.1:2222')
    .option('--http-listen <host:port>', 'HTTP listen address written to the config', '127.0.0.1:8080')
    .addHelpText('after', '\nNever overwrites an existing file or key.\n\nExample:\n  pushgate init --dir /srv/pushgate --ssh-listen 0.0.0.0:2222')
    .action((options: InitOptions) => {
      const created = initServerDir(options);
      for (const path of created) process.stdout.write(`created ${path}\n`);
      if (created.length === 0) process.stdout.write(`${resolve(options.dir)} is already complete\n`);
      result.code = 0;
    });
}
