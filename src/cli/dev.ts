import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ConfigSource } from '../config/index.js';
import type { DevIdp } from '../dev/idp.js';
import { withoutProviderWarnings } from '../dev/quiet.js';
import { demoSecret } from '../dev/secret.js';
import { createDemoRepo, DEMO_REPO, writeServerDir } from '../dev/setup.js';
import { walkthrough, writeEnvFile, type DevInfo } from '../dev/walkthrough.js';
import { createOperatorLog, Gateway, spawnQueueCommand, ThreadedAudit } from '../gateway/index.js';
import { startHttpService, type HttpService } from '../http/index.js';
import { CliError } from './exit.js';
import type { CommandResult } from './main.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/pushgate.js');

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

async function startServer(dir: string, issuer: string) {
  const configPath = writeServerDir(join(dir, 'server'), issuer);
  const source = new ConfigSource(configPath);
  const config = source.current;
  await createDemoRepo(config.reposRoot, configPath);
  const log = createOperatorLog(config.log);
  const audit = new ThreadedAudit(config.audit);
  try {
    await audit.ready();
    const gateway = new Gateway({ configSource: source, audit, log, queueHandler: spawnQueueCommand({ configPath }) });
    const ssh = await gateway.listen();
    try {
      const http: HttpService = await startHttpService({ config: () => gateway.config, audit, log });
      return { configPath, gateway, http, ssh, audit, log };
    } catch (error) {
      await gateway.shutdown();
      throw error;
    }
  } catch (error) {
    await audit.close();
    throw error;
  }
}

async function runDev(dirOption: string): Promise<void> {
  const dir = resolve(dirOption);
  freshDir(dir);
  // Loaded on demand: oidc-provider is heavy and warns on load, and every other command shares this module graph.
  const idp: DevIdp = await withoutProviderWarnings(async () => (await import('../dev/idp.js')).startDevIdp());
  let started: Awaited<ReturnType<typeof startServer>>;
  try {
    started = await startServer(dir, idp.issuer);
  } catch (error) {
    // The IdP's listening socket would keep the process alive after the error.
    await idp.close();
    throw error;
  }
  const { configPath, gateway, http, ssh, audit, log } = started;

  const [type, blob] = readFileSync(join(dir, 'server', 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `[127.0.0.1]:${ssh.port} ${type} ${blob}\n`);
  const secrets = join(dir, 'secrets');
  const envFiles = { agent: join(dir, 'agent.env'), reviewer: join(dir, 'reviewer.env') };
  writeEnvFile(envFiles.agent, join(dir, 'agent'), 'agent', knownHosts, BIN);
  writeEnvFile(envFiles.reviewer, join(dir, 'reviewer'), 'reviewer', knownHosts, BIN);
  const info: DevInfo = {
    dir,
    issuer: idp.issuer,
    sshPort: ssh.port,
    httpUrl: `http://127.0.0.1:${http.address.port}`,
    repoUrl: `ssh://git@127.0.0.1:${ssh.port}/${DEMO_REPO}.git`,
    knownHosts,
    clients: {
      agent: { id: idp.clients.agent.id, secretFile: writeSecret(secrets, idp.clients.agent.id, idp.clients.agent.secret), scope: idp.clients.agent.scope },
      reviewer: { id: idp.clients.reviewer.id, secretFile: writeSecret(secrets, idp.clients.reviewer.id, idp.clients.reviewer.secret), scope: idp.clients.reviewer.scope },
    },
    envFiles,
    workTree: join(dir, 'agent', 'app'),
  };
  writeFileSync(join(dir, 'dev.json'), `${JSON.stringify({ ...info, configPath, pushgate: `${process.execPath} ${BIN}` }, null, 2)}\n`);
  process.stdout.write(walkthrough(info));

  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) process.exit(1);
      stopping = true;
      process.stderr.write(`pushgate dev: ${signal}, stopping\n`);
      void Promise.all([gateway.shutdown(), http.close(), idp.close()]).then(() => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await audit.close();
  await log.close?.();
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
