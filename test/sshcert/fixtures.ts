import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushgateBin, requireTool, run } from '../helpers/tools.js';

export interface KeyKind {
  /** Short label used in file names and test names. */
  readonly label: string;
  /** ssh-keygen -t / -b arguments. */
  readonly keygen: string[];
  /** pushgate ca init --type / --bits arguments. */
  readonly pushgate: string[];
}

export const KEY_KINDS: readonly KeyKind[] = [
  { label: 'ed25519', keygen: ['-t', 'ed25519'], pushgate: ['--type', 'ed25519'] },
  { label: 'ecdsa256', keygen: ['-t', 'ecdsa', '-b', '256'], pushgate: ['--type', 'ecdsa', '--bits', '256'] },
  { label: 'ecdsa384', keygen: ['-t', 'ecdsa', '-b', '384'], pushgate: ['--type', 'ecdsa', '--bits', '384'] },
  { label: 'ecdsa521', keygen: ['-t', 'ecdsa', '-b', '521'], pushgate: ['--type', 'ecdsa', '--bits', '521'] },
  { label: 'rsa', keygen: ['-t', 'rsa', '-b', '2048'], pushgate: ['--type', 'rsa', '--bits', '2048'] },
];

export function sshKeygen(args: string[], cwd?: string): string {
  requireTool('ssh-keygen', 'openssh-client');
  return run('ssh-keygen', args, { ...(cwd ? { cwd } : {}), env: { ...process.env, TZ: 'UTC' } });
}

/** Generates a key with ssh-keygen and returns its path. */
export function keygen(dir: string, name: string, kind: KeyKind): string {
  const path = join(dir, name);
  sshKeygen(['-q', ...kind.keygen, '-N', '', '-C', name, '-f', path]);
  return path;
}

export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built pushgate CLI. */
export function pushgate(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliRun {
  const result = spawnSync(process.execPath, [pushgateBin, ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** The fields of `ssh-keygen -L` output that pushgate must agree on. */
export function parseKeygenListing(text: string): { keyId: string; serial: string; valid: string; principals: string[]; critical: string[]; extensions: string[]; type: string } {
  const lines = text.split('\n');
  const section = (title: string): string[] => {
    const start = lines.findIndex((l) => l.trim().startsWith(`${title}:`));
    if (lines[start]!.includes('(none)')) return [];
    const out: string[] = [];
    for (let i = start + 1; i < lines.length && lines[i]!.startsWith('                '); i++) out.push(lines[i]!.trim());
    return out;
  };
  const field = (title: string): string => lines.find((l) => l.trim().startsWith(`${title}:`))!.trim().slice(title.length + 1).trim();
  return {
    type: field('Type'),
    keyId: JSON.parse(field('Key ID')) as string,
    serial: field('Serial'),
    valid: field('Valid'),
    principals: section('Principals'),
    critical: section('Critical Options'),
    extensions: section('Extensions'),
  };
}
