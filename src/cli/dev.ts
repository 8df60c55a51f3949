import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ConfigSource, isConfigError, parseConfig, type ConfigError } from '../config/index.js';
import type { DevIdp } from '../dev/idp.js';
import { withoutProviderWarnings } from '../dev/quiet.js';
import { demoSecret } from '../dev/secret.js';
import { createDemoRepo, DEMO_REPO, seedDemoRepo, writeServerDir, type DevConsole } from '../dev/setup.js';
import { CREDENTIAL_OPTIONS, devUpstreamView, planDevUpstream, type DevUpstreamOptions, type DevUpstreamPlan, type DevUpstreamView } from '../dev/upstream.js';
import { walkthrough, writeBinDir, writeEnvFile, writeOperatorEnvFile, type DevInfo } from '../dev/walkthrough.js';
import { createOperatorLog } from '../gateway/index.js';
import { PUSHGATE_ENTRY } from '../self/index.js';
import { escapeControl } from '../text/index.js';
import { CliError, EXIT_REFUSED } from './exit.js';
import type { CommandResult } from './main.js';
import { serveUntilSignal, startServing, type Serving } from './serving.js';

/** A free port on 127.0.0.1 (the console's callback URL must be known before the server starts). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
}

/** A demo directory from an earlier run is replaced; anything else is left alone. */
function freshDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    // run-* directories are what the earlier, offline demo left behind.
    const earlier = existsSync(join(dir, 'dev.json')) || readdirSync(dir).every((name) => name.startsWith('run-'));
    if (!earlier) throw new CliError(`${dir} exists and is not a pushgate dev directory; choose another --dir`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
}

function writeSecret(dir: string, name: string, secret: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** The config's complaint about the upstream entry, in the words of pushgate dev's options. */
function upstreamConfigError(error: ConfigError): never {
  const option = (path: string): string => {
    if (/^upstreams(\[0\]|\.0)\.url$/.test(path)) return '--upstream';
    const found = Object.values(CREDENTIAL_OPTIONS).find(([, key]) => new RegExp(`^upstreams(\\[0\\]|\\.0)\\.${key}$`).test(path));
    return found?.[0] ?? path;
  };
  const problems = error.problems.map((problem) => `  ${option(problem.path)}: ${problem.message}`);
  throw new CliError(`the upstream options are not usable:\n${problems.join('\n')}`, EXIT_REFUSED);
}

/**
 * The demo's server: `pushgate serve`'s own start on the demo config, its
 * operator log in a file beside it. With an upstream, the demo repository is
 * its mirror, made before the server starts (so an upstream that cannot be
 * read stops the demo here, saying why).
 */
async function startServer(dir: string, issuer: string, devConsole: DevConsole, upstream: DevUpstreamPlan | undefined): Promise<{ configPath: string; logFile: string; serving: Serving; upstream?: DevUpstreamView }> {
  const configPath = writeServerDir(join(dir, 'server'), issuer, devConsole, upstream?.entry);
  const source = new ConfigSource(configPath);
  let view: DevUpstreamView | undefined;
  if (upstream === undefined) {
    await createDemoRepo(source.current.reposRoot, configPath);
  } else {
    if (upstream.seed !== undefined) await seedDemoRepo(upstream.seed);
    const { ensureMirror, upstreamFor, upstreamEnv } = await import('../upstream/index.js');
    const target = upstreamFor(source.current, upstream.repository)!;
    try {
      await ensureMirror(target, { reposRoot: source.current.reposRoot, configPath });
    } catch (error) {
      throw new CliError(`the demo cannot start in front of ${target.url}: ${escapeControl((error as Error).message).replace(/\.+$/, '')}. Check --upstream and its credential options, or leave --upstream out to use a local upstream.`);
    }
    view = devUpstreamView(target.upstream, upstream.repository, join(dir, 'upstream.env'), upstreamEnv(target.upstream, {}));
  }
  // The terminal shows the walkthrough; the server's own log goes to a file.
  const logFile = join(dir, 'server', 'pushgate.log');
  const serving = await startServing(source, { log: createOperatorLog({ ...source.current.log, file: logFile }) });
  return { configPath, logFile, serving, ...(view !== undefined ? { upstream: view } : {}) };
}

/** dev.json appears whole or not at all: scripts wait for it. */
function writeAtomically(path: string, text: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}

async function runDev(dirOption: string, upstreamOptions: DevUpstreamOptions): Promise<void> {
  const dir = resolve(dirOption);
  // The demo's ssh options name files under DIR, and PUSHGATE_SSH_OPTIONS is split on whitespace.
  if (/\s/.test(dir)) throw new CliError(`--dir ${JSON.stringify(dir)}: the demo directory's path must not contain whitespace; choose another`);
  const upstream = planDevUpstream(dir, upstreamOptions, DEMO_REPO);
  // The config's own checks of the upstream entry, before anything is replaced or started.
  if (upstream !== undefined) {
    try {
      parseConfig(stringify({ upstreams: [upstream.entry] }));
    } catch (error) {
      if (isConfigError(error)) upstreamConfigError(error);
      throw error;
    }
  }
  freshDir(dir);
  // Loaded on demand: oidc-provider is heavy and warns on load, and every other command shares this module graph.
  // The console's callback URL is registered at the IdP before the server starts: its HTTP port is chosen first.
  const httpPort = await freeLoopbackPort();
  const consoleUrl = `http://127.0.0.1:${httpPort}/console/`;
  const idp: DevIdp = await withoutProviderWarnings(async () => (await import('../dev/idp.js')).startDevIdp({ consoleRedirectUrl: `${consoleUrl}callback` }));
  let started: Awaited<ReturnType<typeof startServer>>;
  try {
    const consoleClient = idp.clients.console!;
    started = await startServer(dir, idp.issuer, { httpPort, clientId: consoleClient.id, clientSecretFile: writeSecret(join(dir, 'secrets'), consoleClient.id, consoleClient.secret) }, upstream);
  } catch (error) {
    // The IdP's listening socket would keep the process alive after the error.
    await idp.close();
    throw error;
  }
  const { configPath, logFile, serving } = started;
  const upstreamView = started.upstream;
  const http = serving.http;
  if (http === undefined) {
    await Promise.all([serving.stop(), idp.close()]);
    throw new CliError('the demo config has http.enabled false: the certificate service needs it');
  }

  const [type, blob] = readFileSync(join(dir, 'server', 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${serving.ssh.port} ${type} ${blob}\n`);
  const secrets = join(dir, 'secrets');
  const binDir = join(dir, 'bin');
  writeBinDir(binDir, PUSHGATE_ENTRY);
  const envFiles = { agent: join(dir, 'agent.env'), reviewer: join(dir, 'reviewer.env'), operator: join(dir, 'operator.env') };
  writeEnvFile(envFiles.agent, { binDir, home: join(dir, 'agent'), name: 'agent', knownHosts });
  writeEnvFile(envFiles.reviewer, { binDir, home: join(dir, 'reviewer'), name: 'reviewer', knownHosts });
  writeOperatorEnvFile(envFiles.operator, binDir, configPath);
  const httpUrl = `http://127.0.0.1:${http.address.port}`;
  const info: DevInfo = {
    dir,
    issuer: idp.issuer,
    sshPort: serving.ssh.port,
    httpUrl,
    metricsUrl: `${httpUrl}/metrics`,
    repoUrl: `ssh://git@127.0.0.1:${serving.ssh.port}/${upstream?.repository ?? DEMO_REPO}.git`,
    knownHosts,
    logFile,
    clients: {
      agent: { id: idp.clients.agent.id, secretFile: writeSecret(secrets, idp.clients.agent.id, idp.clients.agent.secret), scope: idp.clients.agent.scope },
      reviewer: { id: idp.clients.reviewer.id, secretFile: writeSecret(secrets, idp.clients.reviewer.id, idp.clients.reviewer.secret), scope: idp.clients.reviewer.scope },
    },
    envFiles,
    workTree: join(dir, 'agent', 'app'),
    console: {
      url: consoleUrl,
      accounts: idp.accounts.map((a) => ({ username: a.username, passwordFile: writeSecret(secrets, `${a.username}.password`, a.password) })),
    },
    ...(upstreamView !== undefined ? { upstream: upstreamView } : {}),
  };
  writeAtomically(join(dir, 'dev.json'), `${JSON.stringify({ ...info, configPath, pushgate: join(binDir, 'pushgate') }, null, 2)}\n`);
  process.stdout.write(walkthrough(info));

  await serveUntilSignal(serving, {
    onStop: (signal) => process.stderr.write(`pushgate dev: ${signal}, stopping\n`),
    alsoStop: () => idp.close(),
  });
}

export function registerDevCommand(program: Command, result: CommandResult): void {
  const dev = program.command('dev')
    .description('Run the whole product on loopback for a demo: identity provider, certificate service, SSH gateway in front of an upstream Git server, a demo repository, the review console; prints a walkthrough.')
    .option('--dir <dir>', 'demo directory (replaced if it holds an earlier demo)', '.pushgate-dev')
    .option('--upstream <url>', 'the Git server pushgate stands in front of: a URL template with {repo} (demo/app goes there) or one repository\'s URL (default: a bare repository under DIR/upstream, reached by file://)')
    .option('--no-upstream', 'no upstream: pushgate hosts the demo repository itself')
    .option(`${CREDENTIAL_OPTIONS.upstreamSshKey[0]} <file>`, 'ssh upstream: the deploy key pushgate writes with (mode 600)')
    .option(`${CREDENTIAL_OPTIONS.upstreamKnownHosts[0]} <file>`, 'ssh upstream: its pinned host key (ssh-keyscan HOST > FILE, then check it)')
    .option(`${CREDENTIAL_OPTIONS.upstreamUsername[0]} <name>`, 'https upstream: the account or deploy-token name, with --upstream-token-file')
    .option(`${CREDENTIAL_OPTIONS.upstreamTokenFile[0]} <file>`, 'https upstream: a file holding the token (mode 600)')
    .option(`${CREDENTIAL_OPTIONS.upstreamCredentialHelper[0]} <command>`, 'https upstream, instead of a token file: a git credential helper command line')
    .option(`${CREDENTIAL_OPTIONS.upstreamCaFile[0]} <file>`, 'https upstream: the CA bundle that signed its certificate')
    .addHelpText('after', [
      '',
      'Runs until Ctrl-C (SIGINT) or SIGTERM. Writes DIR/dev.json.',
      '',
      'Upstream: by default DIR/upstream/demo/app.git plays the team\'s Git server; the walkthrough shows',
      'an allowed push and an approved parked push landing there (docs/upstream.md explains the mode).',
      'With --upstream, a file:// repository that does not exist yet is created with the demo\'s history;',
      'any other upstream repository must exist and have a main branch, and the credential options its',
      'scheme needs are the upstreams keys of the config (docs/config.md). Pushes in the walkthrough land',
      'on that upstream for real.',
      '',
      'Examples:',
      '  pushgate dev --dir /tmp/pushgate-demo',
      '  pushgate dev --upstream file:///srv/git/{repo}.git',
      '  pushgate dev --upstream ssh://git@git.example.com/me/sandbox.git \\',
      '      --upstream-ssh-key ~/.ssh/sandbox_deploy --upstream-known-hosts ./git.example.com.known_hosts',
    ].join('\n'))
    .action(async (options: { dir: string } & DevUpstreamOptions) => {
      await runDev(options.dir, options);
      result.code = 0;
    });
  dev.command('secret')
    .description('Print a made-up token in a real token format, to see a push denied.')
    .addHelpText('after', '\nExample:\n  echo "github_token: $(pushgate dev secret)" > deploy.yml')
    .action(() => {
      process.stdout.write(`${demoSecret()}\n`);
      result.code = 0;
    });
}
