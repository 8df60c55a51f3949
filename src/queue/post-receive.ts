import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { runGit } from '../git/index.js';
import type { QueueRecord } from './record.js';

/** Variables of the calling process that must not leak into the hook: they would point git elsewhere or name the wrong person. */
const DROPPED = /^(GIT_(DIR|WORK_TREE|INDEX_FILE|OBJECT_DIRECTORY|ALTERNATE_OBJECT_DIRECTORIES|QUARANTINE_PATH|PUSH_OPTION_.*|COMMON_DIR|NAMESPACE|CONFIG_PARAMETERS|CONFIG_COUNT|CONFIG_KEY_.*|CONFIG_VALUE_.*)|PUSHGATE_.*)$/;

/**
 * The environment git would have given post-receive had the push been
 * accepted when it was made: GIT_DIR, the push options, and the pusher's
 * identity as the gateway described it; plus which entry and who approved.
 */
export function postReceiveEnv(gitDir: string, record: QueueRecord, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!DROPPED.test(name)) env[name] = value;
  env.GIT_DIR = gitDir;
  env.GIT_PUSH_OPTION_COUNT = String(record.pushOptions.length);
  record.pushOptions.forEach((option, i) => {
    env[`GIT_PUSH_OPTION_${i}`] = option;
  });
  const pusher = record.pusher;
  env.PUSHGATE_PRINCIPAL = pusher.principal;
  env.PUSHGATE_ROLES = pusher.roles.join(',');
  const optional: [string, string | undefined][] = [
    ['PUSHGATE_KEY_ID', pusher.keyId], ['PUSHGATE_CERT_SERIAL', pusher.certSerial], ['PUSHGATE_KEY_FINGERPRINT', pusher.keyFingerprint],
    ['PUSHGATE_SESSION', pusher.sessionId], ['PUSHGATE_CLIENT_ADDRESS', pusher.clientAddress], ['PUSHGATE_SPONSOR', pusher.sponsor],
  ];
  for (const [name, value] of optional) if (value !== undefined) env[name] = value;
  env.PUSHGATE_QUEUE_ID = record.id;
  env.PUSHGATE_APPROVED_BY = record.approvals.map((a) => a.by.principal).join(',');
  return env;
}

/** Where git would look for the hook (core.hooksPath honoured); null when there is no executable one. */
async function hookPath(gitDir: string): Promise<string | null> {
  const { stdout, code } = await runGit(['rev-parse', '--git-path', 'hooks/post-receive'], { gitDir });
  const named = code === 0 && stdout.trim() !== '' ? stdout.trim() : 'hooks/post-receive';
  const path = isAbsolute(named) ? named : join(gitDir, named);
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

/**
 * Runs the repository's post-receive for an applied entry with the input
 * git gives it (`<old> <new> <ref>` per updated ref), so CI triggers and
 * mirrors fire as for any push. Its output goes to our stderr (stdout may
 * carry JSON). Resolves to its exit status, or null when there is none.
 */
export async function runPostReceive(gitDir: string, record: QueueRecord, base: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const path = await hookPath(gitDir);
  if (path === null) return null;
  const input = record.updates.map((u) => `${u.old} ${u.new} ${u.ref}\n`).join('');
  return new Promise((resolve) => {
    const child = spawn(path, [], { cwd: gitDir, env: postReceiveEnv(gitDir, record, base), stdio: ['pipe', 2, 2] });
    child.stdin!.on('error', () => {});
    child.stdin!.end(input);
    child.once('error', () => resolve(127));
    child.once('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
