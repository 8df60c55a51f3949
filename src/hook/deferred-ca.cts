/**
 * Node 20 reads the file NODE_EXTRA_CA_CERTS names at every start, before
 * any code runs: with a system bundle of about 140 certificates that is
 * 40 ms, a third of a hook's time (nodejs/node#40524). A hook rarely speaks
 * TLS, so the shims move the variable aside into DEFERRED_CA_VARIABLE
 * (hook/install.ts), the hook puts it back for the processes it starts, and
 * its own HTTPS requests add the file themselves (audit/ship.ts).
 */
import { readFileSync } from 'node:fs';

export const DEFERRED_CA_VARIABLE = 'PUSHGATE_NODE_EXTRA_CA_CERTS';

/** The shell lines a shim runs before starting Node. */
export function deferCaShellLines(): string[] {
  return [
    `if [ -n "\${NODE_EXTRA_CA_CERTS+set}" ]; then`,
    `  ${DEFERRED_CA_VARIABLE}=$NODE_EXTRA_CA_CERTS; export ${DEFERRED_CA_VARIABLE}; unset NODE_EXTRA_CA_CERTS`,
    'fi',
  ];
}

/** Sets NODE_EXTRA_CA_CERTS back, for the processes the hook starts. */
export function restoreDeferredCa(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[DEFERRED_CA_VARIABLE];
  if (file !== undefined) env.NODE_EXTRA_CA_CERTS = file;
}

/**
 * TLS options that trust what Node would have trusted had it read the
 * deferred file at start: its default roots and that file. None when nothing
 * was deferred, or when the file cannot be read (as Node, which then warns and
 * goes on with its defaults).
 */
export function deferredCaOptions(env: NodeJS.ProcessEnv = process.env): { ca?: string[] } {
  const file = env[DEFERRED_CA_VARIABLE];
  if (file === undefined || file === '') return {};
  try {
    // Loaded here: a hook that never speaks TLS should not load the module at start.
    const { rootCertificates } = require('node:tls') as typeof import('node:tls');
    return { ca: [...rootCertificates, readFileSync(file, 'utf8')] };
  } catch {
    return {};
  }
}
