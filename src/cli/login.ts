import { resolve } from 'node:path';
import type { Command } from 'commander';
import { tryParseDuration } from '../config/index.js';
import { checkServiceUrl, TokenSourceError, type DevicePrompt, type TokenFlow } from '../identity/token-source.js';
import {
  AgentState, CertificateRequestError, defaultStateDir, renewCertificate, SettingsError, type AgentSettings, type CertificateResponse,
} from '../issuance/index.js';
import { pushgateCommandLine, shellArgument } from '../self/index.js';
import { CliError, EXIT_ERROR, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';
import { configureSigning } from './signing.js';

interface LoginOptions {
  server?: string;
  issuer?: string;
  clientId?: string;
  clientSecretFile?: string;
  clientAuth?: string;
  device?: boolean;
  tokenFile?: string;
  exchange?: boolean;
  actorTokenFile?: string;
  scope?: string;
  audience?: string;
  resource?: string;
  ttl?: string;
  dir?: string;
  format: string;
  configureSigning?: string | boolean;
}

function chosenFlow(options: LoginOptions): TokenFlow | undefined {
  const chosen: TokenFlow[] = [];
  if (options.device === true) chosen.push('device');
  if (options.tokenFile !== undefined) chosen.push('token-file');
  if (options.clientSecretFile !== undefined) chosen.push('client-credentials');
  if (chosen.length > 1) throw new CliError('choose one way to log in: --client-secret-file (client credentials), --device, or --token-file');
  return chosen[0];
}

/** Flags override what was remembered; switching the flow forgets the old flow's settings. */
export function loginSettings(remembered: AgentSettings | undefined, options: LoginOptions): AgentSettings {
  const flow = chosenFlow(options) ?? remembered?.flow;
  if (flow === undefined) {
    throw new CliError('choose how to log in: --client-id ID --client-secret-file FILE, --device --client-id ID, or --token-file FILE');
  }
  const base: Partial<AgentSettings> = remembered === undefined
    ? {}
    : remembered.flow === flow
      ? remembered
      : { server: remembered.server, ...(remembered.issuer !== undefined ? { issuer: remembered.issuer } : {}), ...(remembered.ttl !== undefined ? { ttl: remembered.ttl } : {}) };
  const path = (file: string | undefined): string | undefined => (file === undefined ? undefined : resolve(file));
  const given: Partial<AgentSettings> = {
    server: options.server,
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecretFile: path(options.clientSecretFile),
    tokenFile: path(options.tokenFile),
    actorTokenFile: path(options.actorTokenFile),
    scope: options.scope,
    audience: options.audience,
    resource: options.resource,
    ttl: options.ttl,
    ...(options.exchange === true || options.actorTokenFile !== undefined ? { exchange: true } : {}),
  };
  if (options.clientAuth !== undefined) {
    if (options.clientAuth !== 'basic' && options.clientAuth !== 'post') throw new CliError(`--client-auth ${options.clientAuth}: expected basic or post`);
    given.clientAuth = options.clientAuth;
  }
  const settings = { ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)), version: 1, flow } as AgentSettings;
  if (settings.server === undefined) throw new CliError('pushgate login needs --server URL: the pushgate server\'s HTTP address');
  checkServiceUrl(settings.server, '--server');
  if (settings.ttl !== undefined && !((tryParseDuration(settings.ttl) ?? 0) >= 1000)) throw new CliError(`--ttl ${settings.ttl}: expected a duration such as 90s or 15m`);
  const needs = (value: string | undefined, flag: string): void => {
    if (value === undefined) throw new CliError(`this login needs ${flag}`);
  };
  if (flow !== 'token-file' || settings.exchange === true) {
    needs(settings.issuer, '--issuer URL');
    needs(settings.clientId, '--client-id ID');
  }
  return settings;
}

function printDevicePrompt(prompt: DevicePrompt): void {
  const minutes = Math.max(1, Math.round(prompt.expiresIn / 60));
  const lines = prompt.verificationUriComplete !== undefined
    ? [`pushgate: to log in, open ${prompt.verificationUriComplete}`, `          (or open ${prompt.verificationUri} and enter the code ${prompt.userCode})`]
    : [`pushgate: to log in, open ${prompt.verificationUri} and enter the code ${prompt.userCode}`];
  process.stderr.write(`${lines.join('\n')}\npushgate: waiting for you to finish; the code expires in ${minutes} min\n`);
}

/** The command for git's core.sshCommand, as sh runs it: this pushgate by the name the PATH finds it under, else by its path. */
function sshCommandLine(state: AgentState): string {
  return pushgateCommandLine(state.dir === defaultStateDir() ? ['ssh'] : ['ssh', '--dir', state.dir]);
}

function report(state: AgentState, issued: CertificateResponse, format: string): string {
  const sshCommand = sshCommandLine(state);
  if (format === 'json') {
    return `${JSON.stringify({
      principal: issued.principal,
      roles: issued.roles,
      ...(issued.sponsor !== undefined ? { sponsor: issued.sponsor } : {}),
      validBefore: issued.validBefore,
      serial: issued.serial,
      keyId: issued.keyId,
      key: state.keyPath,
      certificate: state.certificatePath,
      sshCommand,
    })}\n`;
  }
  return [
    `pushgate: logged in as ${issued.principal}${issued.sponsor !== undefined ? ` (sponsored by ${issued.sponsor})` : ''}`,
    `  roles        ${issued.roles.length > 0 ? issued.roles.join(', ') : '(none)'}`,
    `  valid until  ${issued.validBefore} (renewed by pushgate ssh when it is about to expire)`,
    `  certificate  ${state.certificatePath} (serial ${issued.serial})`,
    `  key          ${state.keyPath}`,
    'Configure git to use it (in a repository, or with --global):',
    `  git config core.sshCommand ${shellArgument(sshCommand)}`,
    '',
  ].join('\n');
}

/** Exit 1 when someone said no (the IdP, the server), 2 when something could not be asked or read. */
function failure(error: unknown): CliError | unknown {
  if (error instanceof TokenSourceError) return new CliError(error.message, error.code === 'login.idp' ? EXIT_REFUSED : EXIT_ERROR);
  if (error instanceof CertificateRequestError) {
    const refused = error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 429;
    return new CliError(`the server refused the certificate: ${error.message} (${error.code})`, refused ? EXIT_REFUSED : EXIT_ERROR);
  }
  if (error instanceof SettingsError) return new CliError(error.message);
  return error;
}

export function registerLoginCommand(program: Command, result: CommandResult): void {
  program.command('login')
    .description('Get a short-lived SSH certificate from a pushgate server with a token from your identity provider; remembered for pushgate ssh.')
    .option('--server <url>', 'the pushgate server\'s HTTP address (e.g. https://git.example.com:8443)')
    .option('--issuer <url>', 'your identity provider (OIDC issuer URL)')
    .option('--client-id <id>', 'OAuth client id')
    .option('--client-secret-file <file>', 'file holding the client secret: client-credentials login (only the path is remembered)')
    .option('--client-auth <method>', 'how to send the client secret: basic or post', undefined)
    .option('--device', 'log in as a person: open a URL, enter a code (device authorization)')
    .option('--token-file <file>', 'use a token already on disk (CI, Kubernetes); re-read at every renewal')
    .option('--exchange', 'exchange the token at the issuer (RFC 8693) before presenting it')
    .option('--actor-token-file <file>', 'with --exchange: token of the human sponsoring this agent (implies --exchange)')
    .option('--scope <scopes>', 'scopes to ask for (space-separated)')
    .option('--audience <audience>', 'audience to ask for, for issuers that take one')
    .option('--resource <uri>', 'resource indicator (RFC 8707) to ask for')
    .option('--ttl <duration>', 'certificate lifetime to ask for, e.g. 15m (the server caps it)')
    .option('--dir <dir>', 'state directory (default: $PUSHGATE_HOME, then ~/.pushgate)')
    .option('--format <format>', 'text or json', 'text')
    .option('--configure-signing [repo]', 'also set the repository (default: the current directory) to sign commits and tags with the certificate: gpg.format=ssh, user.signingKey, commit.gpgSign, tag.gpgSign')
    .addHelpText('after', [
      '',
      'Settings are remembered in <dir>/login.json: a later `pushgate login` or `pushgate ssh` reuses them.',
      'Secrets and tokens are never written by pushgate; only the paths of the files holding them.',
      '',
      'Examples:',
      '  pushgate login --server https://git.example.com:8443 --issuer https://login.example.com \\',
      '      --client-id ci-agent --client-secret-file /run/secrets/pushgate-client',
      '  pushgate login --server https://git.example.com:8443 --issuer https://login.example.com --client-id pushgate-cli --device',
      '  pushgate login --server https://git.example.com:8443 --token-file /var/run/secrets/tokens/pushgate',
      '  pushgate login --token-file /var/run/secrets/tokens/pushgate --configure-signing /src/app',
      '      (also signs the commits made in /src/app with the certificate: attributable after they leave pushgate)',
    ].join('\n'))
    .action(async (options: LoginOptions) => {
      if (options.format !== 'text' && options.format !== 'json') throw new CliError(`--format ${options.format}: expected text or json`);
      const state = new AgentState(options.dir ?? defaultStateDir());
      let remembered: AgentSettings | undefined;
      try {
        remembered = state.readSettings();
        const settings = loginSettings(remembered, options);
        const issued = await state.withLock(() => renewCertificate(state, settings, { interactive: true, onDevicePrompt: printDevicePrompt }));
        state.writeSettings(settings);
        process.stdout.write(report(state, issued, options.format));
        if (options.configureSigning !== undefined) {
          const repo = typeof options.configureSigning === 'string' ? resolve(options.configureSigning) : process.cwd();
          const set = configureSigning(repo, state.certificatePath);
          // stderr: with --format json, stdout carries only the JSON.
          process.stderr.write(`pushgate: ${repo} now signs commits and tags with the certificate:\n${set.join('\n')}\n`);
        }
        result.code = 0;
      } catch (error) {
        throw failure(error);
      }
    });
}
