/**
 * Turns the validated file into the runtime shape: relative paths anchored
 * to the config file's directory, defaults that depend on other settings.
 */
import { isAbsolute, join, resolve } from 'node:path';
import type { ParsedConfig } from './schema.js';
import type { IssuerConfig, PushgateConfig, TrustedCaKey, UpstreamConfig } from './types.js';

export function resolveConfig(parsed: ParsedConfig, baseDir: string, configPath: string | null): PushgateConfig {
  const at = (path: string): string => resolve(baseDir, path);
  const maybe = (path: string | null): string | null => (path === null ? null : at(path));
  const stateDir = at(parsed.stateDir);
  const caKey = maybe(parsed.ca.key);
  const trusted: TrustedCaKey[] = parsed.ca.trusted === undefined
    ? [{ kind: 'file', path: `${caKey!}.pub` }]
    : parsed.ca.trusted.map((entry) => (entry.kind === 'file' ? { kind: 'file', path: at(entry.path) } : entry));
  const { webhook, command } = parsed.queue.notify;

  return {
    configPath,
    reposRoot: at(parsed.reposRoot),
    stateDir,
    serviceUser: parsed.serviceUser,
    ssh: {
      ...parsed.ssh,
      hostKeys: parsed.ssh.hostKeys.map(at),
      breakGlassKeys: maybe(parsed.ssh.breakGlassKeys),
    },
    http: parsed.http,
    ca: { ...parsed.ca, key: caKey, trusted, krl: maybe(parsed.ca.krl) },
    identity: {
      ...parsed.identity,
      issuers: parsed.identity.issuers.map((issuer): IssuerConfig => ({ ...issuer, name: issuer.name ?? new URL(issuer.issuer).host })),
    },
    access: parsed.access,
    policy: parsed.policy,
    queue: {
      ...parsed.queue,
      notify: {
        events: parsed.queue.notify.events,
        webhook: webhook === null ? null : { ...webhook, secretFile: maybe(webhook.secretFile) },
        ...(parsed.queue.notify.webhooks.length > 0 ? { webhooks: parsed.queue.notify.webhooks.map((w) => ({ ...w, secretFile: maybe(w.secretFile) })) } : {}),
        ...(parsed.console.enabled && parsed.console.redirectUrl !== null ? { consoleUrl: new URL('./', parsed.console.redirectUrl).href } : {}),
        command: command === null ? null : { ...command, run: [programPath(command.run[0]!, baseDir), ...command.run.slice(1)] },
      },
    },
    console: { ...parsed.console, clientSecretFile: maybe(parsed.console.clientSecretFile) },
    audit: {
      ...parsed.audit,
      file: parsed.audit.file === undefined ? join(stateDir, 'audit', 'audit.log') : at(parsed.audit.file),
      hmacKeyFile: maybe(parsed.audit.hmacKeyFile),
    },
    log: { ...parsed.log, file: maybe(parsed.log.file) },
    upstreams: parsed.upstreams.map((entry): UpstreamConfig => {
      const { sshKeyFile, knownHostsFile, tokenFile, caFile, ...rest } = entry;
      return {
        ...rest,
        ...(sshKeyFile !== undefined ? { sshKeyFile: at(sshKeyFile) } : {}),
        ...(knownHostsFile !== undefined ? { knownHostsFile: at(knownHostsFile) } : {}),
        ...(tokenFile !== undefined ? { tokenFile: at(tokenFile) } : {}),
        ...(caFile !== undefined ? { caFile: at(caFile) } : {}),
      };
    }),
  };
}

/** `./notify.sh` is next to the config; a bare `notify-send` is looked up in PATH. */
function programPath(program: string, baseDir: string): string {
  return !isAbsolute(program) && program.includes('/') ? resolve(baseDir, program) : program;
}
