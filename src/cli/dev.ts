import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigSource } from '../config/index.js';
import type { DevIdp } from '../dev/idp.js';
import { withoutProviderWarnings } from '../dev/quiet.js';
import { demoSecret } from '../dev/secret.js';
import { createDemoRepo, DEMO_REPO, writeServerDir, type DevConsole } from '../dev/setup.js';
import { walkthrough, writeBinDir, writeEnvFile, writeOperatorEnvFile, type DevInfo } from '../dev/walkthrough.js';
import { createOperatorLog } from '../gateway/index.js';
import { PUSHGATE_ENTRY } from '../self/index.js';
import { CliError } from './exit.js';
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

/** The demo's server: `pushgate serve`'s own start on the demo config, its operator log in a file beside it. */
async function startServer(dir: string, issuer: string, devConsole: DevConsole): Promise<{ configPath: string; logFile: string; serving: Serving }> {
  const configPath = writeServerDir(join(dir, 'server'), issuer, devConsole);
  const source = new ConfigSource(configPath);
  await createDemoRepo(source.current.reposRoot, configPath);
  // The terminal shows the walkthrough; the server's own log goes to a file.
  const logFile = join(dir, 'server', 'pushgate.log');
  const serving = await startServing(source, { log: createOperatorLog({ ...source.current.log, file: logFile }) });
  return { configPath, logFile, serving };
}

/** dev.json appears whole or not at all: scripts wait for it. */
function writeAtomically(path: string, text: string): void {
  const partial = `${path}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, path);
}

async function runDev(dirOption: string): Promise<void> {
  const dir = resolve(dirOption);
  // The demo's ssh options name files under DIR, and PUSHGATE_SSH_OPTIONS is split on whitespace.
  if (/\s/.test(dir)) throw new CliError(`--dir ${JSON.stringify(dir)}: the demo directory's path must not contain whitespace; choose another`);
  freshDir(dir);
  // Loaded on demand: oidc-provider is heavy and warns on load, and every other command shares this module graph.
  // The console's callback URL is registered at the IdP before the server starts: its HTTP port is chosen first.
  const httpPort = await freeLoopbackPort();
  const consoleUrl = `http://127.0.0.1:${httpPort}/console/`;
  const idp: DevIdp = await withoutProviderWarnings(async () => (await import('../dev/idp.js')).startDevIdp({ consoleRedirectUrl: `${consoleUrl}callback` }));
  let started: Awaited<ReturnType<typeof startServer>>;
  try {
    const consoleClient = idp.clients.console!;
    started = await startServer(dir, idp.issuer, { httpPort, clientId: consoleClient.id, clientSecretFile: writeSecret(join(dir, 'secrets'), consoleClient.id, consoleClient.secret) });
  } catch (error) {
    // The IdP's listening socket would keep the process alive after the error.
    await idp.close();
    throw error;
  }
  const { configPath, logFile, serving } = started;
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
    repoUrl: `ssh://git@127.0.0.1:${serving.ssh.port}/${DEMO_REPO}.git`,
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
    .description('Run the whole product on loopback for a demo: identity provider, certificate service, SSH gateway, a demo repository; prints a walkthrough.')
    .option('--dir <dir>', 'demo directory (replaced if it holds an earlier demo)', '.pushgate-dev')
    .addHelpText('after', '\nRuns until Ctrl-C (SIGINT) or SIGTERM. Writes DIR/dev.json.\n\nExample:\n  pushgate dev --dir /tmp/pushgate-demo')
    .action(async (options: { dir: string }) => {
      await runDev(options.dir);
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
