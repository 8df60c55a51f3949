import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { createHmacKey } from '../audit/key.js';
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

/** The audit HMAC key a new config names, next to it. */
export const AUDIT_KEY_FILE = 'audit.key';

/**
 * Creates everything a working server needs in DIR. Existing files are kept:
 * running init again fills in only what is missing, and never replaces a key.
 * A new config names a new HMAC key (DIR/audit.key, mode 0600), so the audit
 * chain is keyed from its first record.
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
        hmacKeyFile: AUDIT_KEY_FILE,
      });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    writeFileSync(configPath, text, { mode: 0o644, flag: 'wx' });
    created.push(configPath);
  }
  // Created before anything can write a record: a chain keyed from its start.
  const keyPath = join(dir, AUDIT_KEY_FILE);
  if (createHmacKey(keyPath)) created.push(keyPath);
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
    .description('Create a server directory: pushgate.yaml (documented defaults), CA key, SSH host key, audit HMAC key, repos/, state/.')
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
