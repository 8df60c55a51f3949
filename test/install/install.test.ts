/**
 * install.sh on this checkout, into temporary directories: one real install
 * (npm ci from the registry) reused by every subtest, then driven with the
 * installed `pushgate` link, real git and real OpenSSH.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gateway, SshUser } from '../gateway/harness.js';
import { WorkTree, type TestServer } from '../helpers/git-server.js';
import { ran, requireTool, run, runAsync, tempDir, type Ran } from '../helpers/tools.js';
import { gh, Rng } from '../scan/fixtures.js';

requireTool('git', 'git');
requireTool('ssh', 'openssh-client');
requireTool('ssh-keygen', 'openssh-client');
requireTool('npm', 'npm');

const checkout = new URL('../../../', import.meta.url).pathname;
const installSh = join(checkout, 'install.sh');

const root = tempDir(t, 'pushgate-install-');
const prefix = join(root, 'opt');
const binDir = join(root, 'bin');
const configDir = join(root, 'etc');
const stateDir = join(root, 'state');
const link = join(binDir, 'pushgate');
const configFile = join(configDir, 'pushgate.yaml');
const flags = ['--prefix', prefix, '--bin-dir', binDir, '--config-dir', configDir, '--state-dir', stateDir];

/** Longest an install.sh run may take (npm ci from a warm cache takes seconds). */
const INSTALL_TIMEOUT_MS = 240_000;

/**
 * install.sh, without blocking the event loop: a run that hangs (npm waiting
 * on the network, say) ends in a failure that shows its output, not in the
 * test file being killed with nothing reported.
 */
function install(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return runAsync('bash', [installSh, ...args], { env, timeoutMs: INSTALL_TIMEOUT_MS });
}

/** The installed program, called through its link the way an administrator would. */
function pushgate(args: string[]): Ran {
  return ran(spawnSync(link, args, { encoding: 'utf8', timeout: 60_000 }));
}

/** Every entry below `dir`: type, mode, owner, size, content hash, link target, mtime. */
function snapshot(dir: string): Map<string, string> {
  const entries = new Map<string, string>();
  const visit = (path: string): void => {
    const stat = lstatSync(path);
    const common = `mode=${stat.mode.toString(8)} owner=${stat.uid}:${stat.gid} mtime=${stat.mtimeMs}`;
    if (stat.isSymbolicLink()) entries.set(path, `link ${readlinkSync(path)} ${common}`);
    else if (stat.isDirectory()) {
      entries.set(path, `dir ${common}`);
      for (const name of readdirSync(path)) visit(join(path, name));
    } else {
      const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
      entries.set(path, `file size=${stat.size} sha256=${sha} ${common}`);
    }
  };
  visit(dir);
  return entries;
}

function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [path, value] of before) if (after.get(path) !== value) out.push(`${path}: ${value} -> ${after.get(path) ?? 'gone'}`);
  for (const path of after.keys()) if (!before.has(path)) out.push(`${path}: new`);
  return out;
}

const secretFile = (): string => `const token = "${gh(new Rng(7))}";\n`;

await t.test('bad input is refused with exit 2 and says why', async (t) => {
  const unknown = await install(['--frobnicate']);
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /unknown option: --frobnicate/);
  t.match(unknown.stderr, /--help/);

  const missing = await install(['--prefix']);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /--prefix needs a value/);

  const contradiction = await install(['--enable', '--no-systemd']);
  t.equal(contradiction.status, 2);
  t.match(contradiction.stderr, /contradict/);

  // Only `node --version` is stubbed: the version check is all that runs before the refusal.
  const stubs = tempDir(t, 'pushgate-old-node-');
  writeFileSync(join(stubs, 'node'), '#!/bin/sh\necho v18.0.0\n');
  chmodSync(join(stubs, 'node'), 0o755);
  const old = await install([...flags, '--no-systemd'], { ...process.env, PATH: `${stubs}:${process.env.PATH ?? ''}` });
  t.equal(old.status, 2, old.stderr);
  t.match(old.stderr, /Node\.js v18\.0\.0 .* is too old: pushgate needs Node\.js 20\.19 or newer/);
  t.notOk(existsSync(prefix), 'nothing was installed');

  const help = await install(['--help']);
  t.equal(help.status, 0);
  for (const flag of ['--prefix', '--bin-dir', '--config-dir', '--state-dir', '--user', '--systemd-dir', '--enable', '--no-systemd', '--hooks', '--dry-run', '--uninstall', '--help']) {
    t.match(help.stdout, flag, `--help explains ${flag}`);
  }
  t.match(help.stdout, /Examples:\n {2}sudo \.\/install\.sh/);
});

await t.test('--dry-run on a fresh target prints the actions and changes nothing', async (t) => {
  const before = snapshot(root);
  const dry = await install([...flags, '--no-systemd', '--dry-run', '--user', 'pushgate-dry-run-user']);
  t.equal(dry.status, 0, dry.stderr);
  for (const action of [
    `would create ${prefix}`, 'would copy', 'would install the production dependencies', `would link ${link}`,
    'would create the system user pushgate-dry-run-user', `would create ${configFile}`, `would create the CA key ${stateDir}/ca`,
    `would create the SSH host key ${stateDir}/host_ed25519`,
  ]) t.match(dry.stdout, action);
  t.match(dry.stdout, /\(dry run\): \d+ actions would run; nothing was changed/);
  t.same(differences(before, snapshot(root)), [], 'nothing on disk changed');
  t.equal(spawnSync('id', ['pushgate-dry-run-user']).status, 1, 'no user was created');
});

await t.test('install: program with production dependencies only, link, config, keys, state', async (t) => {
  const installed = await install([...flags, '--no-systemd']);
  t.equal(installed.status, 0, installed.stderr);
  t.match(installed.stdout, /pushgate install: done/);
  t.match(installed.stdout, /Next steps:/);

  t.equal(readlinkSync(link), join(prefix, 'bin', 'pushgate.js'));
  const version = pushgate(['--version']);
  t.equal(version.status, 0, `the link works through its symlink: ${version.stderr}`);
  t.equal(version.stdout.trim(), JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')).version);

  t.ok(existsSync(join(prefix, 'node_modules', 'ssh2')), 'production dependencies are installed');
  for (const dev of ['typescript', 'tap', '@types/node']) t.notOk(existsSync(join(prefix, 'node_modules', dev)), `no ${dev}`);
  t.notOk(existsSync(join(prefix, 'build', 'test')), 'only build/src is copied');
  t.notOk(existsSync(join(prefix, 'src')), 'no TypeScript sources');
  for (const [hook, module] of [['pre-receive', 'main.js'], ['post-receive', 'post-receive.js']] as const) {
    const bundle = statSync(join(prefix, 'build', 'src', 'hook', 'bundle', `${hook}.cjs`));
    t.ok(bundle.mtimeMs >= statSync(join(prefix, 'build', 'src', 'hook', module)).mtimeMs, `the ${hook} hook runs from its bundle: it is as new as its module`);
  }

  t.equal(statSync(stateDir).mode & 0o777, 0o700);
  for (const key of ['ca', 'host_ed25519']) {
    t.equal(statSync(join(stateDir, key)).mode & 0o777, 0o600, `${key} is private`);
    t.ok(existsSync(join(stateDir, `${key}.pub`)));
  }
  const config = readFileSync(configFile, 'utf8');
  t.match(config, `stateDir: ${stateDir}\n`);
  t.match(config, `  key: ${stateDir}/ca\n`);
  t.match(config, `    - ${stateDir}/host_ed25519\n`);
  const check = pushgate(['config', 'check', '--config', configFile]);
  t.equal(check.status, 0, check.stderr);
});

await t.test('the installed pushgate serves, and a push through the gateway is checked', async (t) => {
  const serverDir = join(root, 'srv');
  const init = pushgate(['init', '--dir', serverDir, '--ssh-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0']);
  t.equal(init.status, 0, init.stderr);
  const serverConfig = join(serverDir, 'pushgate.yaml');
  const created = pushgate(['repo', 'create', 'team/app', '--config', serverConfig]);
  t.equal(created.status, 0, created.stderr);
  const bare = join(serverDir, 'repos', 'team', 'app.git');
  t.match(readFileSync(join(bare, 'hooks', 'pre-receive'), 'utf8'), join(prefix, 'bin', 'pushgate.js'), 'the hook runs the installed program');

  const server: TestServer = {
    dir: serverDir, configPath: serverConfig, reposRoot: join(serverDir, 'repos'),
    createRepo: () => { throw new Error('not used'); }, setConfig: () => { throw new Error('not used'); },
  };
  const gateway = new Gateway(server, spawn(link, ['serve', '--config', serverConfig], { stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(async () => {
    await gateway.stop();
  });
  await gateway.ready();

  const user = new SshUser(gateway, 'alice').sign();
  const url = gateway.url('team/app.git');
  const work = join(tempDir(t), 'work');
  t.equal(user.git(['clone', '-q', url, work]).status, 0);
  writeFileSync(join(work, 'README.md'), 'hello\n');
  user.git(['add', '.'], { cwd: work });
  user.git(['commit', '-q', '-m', 'first'], { cwd: work });
  const pushed = user.git(['push', 'origin', 'HEAD:main'], { cwd: work });
  t.equal(pushed.status, 0, pushed.stderr);
  t.match(pushed.stderr, /pushgate-result: \{"decision":"allow"/);
  const head = user.git(['rev-parse', 'HEAD'], { cwd: work }).stdout.trim();
  t.equal(run('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main']).trim(), head, 'the commit landed');

  writeFileSync(join(work, 'config.js'), secretFile());
  user.git(['add', '.'], { cwd: work });
  user.git(['commit', '-q', '-m', 'oops'], { cwd: work });
  const denied = user.git(['push', 'origin', 'HEAD:main'], { cwd: work });
  t.not(denied.status, 0);
  t.match(denied.stderr, /pushgate-result: \{"decision":"deny"/);
  t.match(denied.stderr, /secret\.github/);
  t.equal(run('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main']).trim(), head, 'the secret did not land');
  await gateway.stop();
});

await t.test('running install.sh again changes nothing and says so', async (t) => {
  const before = snapshot(root);
  const again = await install([...flags, '--no-systemd']);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, /pushgate install: unchanged/);
  t.notMatch(again.stdout, /^(create|copied|install the|link|write) /m);
  t.same(differences(before, snapshot(root)), [], 'every file, link and directory is as it was');
});

await t.test('--hooks installs the hooks into existing bare repositories', async (t) => {
  const legacy = join(root, 'legacy');
  const repos = [join(legacy, 'one.git'), join(legacy, 'team', 'two.git')];
  for (const repo of repos) {
    mkdirSync(repo, { recursive: true });
    run('git', ['init', '-q', '--bare', '--initial-branch=main', repo]);
  }
  const none = await install([...flags, '--no-systemd', '--hooks', join(root, 'nowhere', '**', '*.git')]);
  t.equal(none.status, 1, 'a glob that matches nothing is an error');
  t.match(none.stderr, /matched no bare repository/);

  const hooked = await install([...flags, '--no-systemd', '--hooks', join(legacy, '**', '*.git')]);
  t.equal(hooked.status, 0, hooked.stderr);
  for (const repo of repos) {
    t.match(hooked.stdout, `${repo}: installed pre-receive, post-receive`);
    t.match(readFileSync(join(repo, 'hooks', 'pre-receive'), 'utf8'), `--config '${configFile}'`);
  }

  const before = snapshot(root);
  const again = await install([...flags, '--no-systemd', '--hooks', join(legacy, '**', '*.git')]);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, /pushgate install: unchanged/);
  t.same(differences(before, snapshot(root)), [], 'installing the hooks again changes no repository');

  const work = WorkTree.clone(t, repos[1]!);
  const clean = work.commit('clean', { 'a.txt': 'a\n' });
  const allowed = work.push(['origin', 'HEAD:main']);
  t.equal(allowed.code, 0, allowed.output);
  t.equal(allowed.result?.decision, 'allow');
  t.equal(run('git', ['--git-dir', repos[1]!, 'rev-parse', 'main']).trim(), clean);
  work.commit('secret', { 'config.js': secretFile() });
  const denied = work.push(['origin', 'HEAD:main']);
  t.not(denied.code, 0);
  t.equal(denied.result?.decision, 'deny');
  t.equal(run('git', ['--git-dir', repos[1]!, 'rev-parse', 'main']).trim(), clean, 'the secret did not land');
  t.ok(existsSync(join(stateDir, 'audit', 'audit.log')), 'the hook audits into the installed state dir');
});

await t.test('systemd unit: right ExecStart and User, not enabled; a re-run changes nothing', async (t) => {
  const systemdDir = join(root, 'systemd');
  // As root the service user is created for real (and removed afterwards).
  const user = process.getuid?.() === 0 ? `pgtest${process.pid}` : undefined;
  if (user !== undefined) {
    requireTool('useradd', 'passwd');
    t.teardown(() => {
      spawnSync('userdel', [user]);
    });
  }
  const args = [...flags, '--systemd-dir', systemdDir, ...(user !== undefined ? ['--user', user] : [])];
  const written = await install(args);
  t.equal(written.status, 0, written.stderr);
  const unitFile = join(systemdDir, 'pushgate.service');
  const unit = readFileSync(unitFile, 'utf8');
  t.match(unit, `\nExecStart=${link} serve --config ${configFile}\n`);
  t.match(unit, /\nNoNewPrivileges=yes\n/);
  t.match(unit, /\nProtectSystem=strict\n/);
  t.match(unit, `\nReadWritePaths=${stateDir} -/srv/git\n`);
  t.match(unit, /\nRestart=on-failure\n/);
  t.match(unit, /\nExecReload=\/bin\/kill -HUP \$MAINPID\n/);
  t.notMatch(written.stdout, /^enable and start/m, 'not enabled without --enable');
  t.notOk(existsSync(join(systemdDir, 'multi-user.target.wants')), 'no wants link');

  if (user !== undefined) {
    t.match(unit, `\nUser=${user}\n`);
    t.match(written.stdout, `create the system user ${user}`);
    const uid = Number(run('id', ['-u', user]).trim());
    t.equal(statSync(stateDir).uid, uid, 'the service user owns the state dir');
    t.equal(statSync(join(stateDir, 'ca')).uid, uid, 'and the CA key');
    t.equal(statSync(stateDir).mode & 0o777, 0o700);
    t.match(run('getent', ['passwd', user]), `:${stateDir}:`, 'its home is the state dir');
  } else {
    t.notMatch(unit, /\nUser=/);
  }

  requireTool('systemd-analyze', 'systemd');
  const verified = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8', timeout: 60_000 });
  t.equal(verified.status, 0, `systemd-analyze verify: ${verified.stderr}`);

  const before = snapshot(root);
  const again = await install(args);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, /pushgate install: unchanged/);
  t.same(differences(before, snapshot(root)), []);
});

await t.test('--uninstall removes the program, link and unit; keeps config, state and repositories', async (t) => {
  const systemdDir = join(root, 'systemd');
  const bare = join(root, 'srv', 'repos', 'team', 'app.git');
  const main = run('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main']).trim();
  const kept = [configFile, join(stateDir, 'ca'), join(stateDir, 'ca.pub'), join(stateDir, 'host_ed25519'), join(stateDir, 'audit', 'audit.log')];
  const keptBefore = kept.map((path) => readFileSync(path, 'utf8'));

  const removed = await install([...flags, '--systemd-dir', systemdDir, '--uninstall']);
  t.equal(removed.status, 0, removed.stderr);
  t.notOk(existsSync(prefix), 'program dir removed');
  t.notOk(existsSync(link) || isLink(link), 'link removed');
  t.notOk(existsSync(join(systemdDir, 'pushgate.service')), 'unit removed');
  t.match(removed.stdout, /kept: the config/);
  t.match(removed.stdout, /refuse every push/);
  t.match(removed.stdout, /pushgate repo install-hooks/);

  t.same(kept.map((path) => readFileSync(path, 'utf8')), keptBefore, 'config, keys and audit log are untouched');
  t.equal(run('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main']).trim(), main, 'the pushed commit is still there');
  t.equal(spawnSync('git', ['--git-dir', bare, 'fsck', '--no-progress']).status, 0, 'the repository is intact');

  const work = WorkTree.clone(t, join(root, 'legacy', 'one.git'));
  work.commit('after uninstall', { 'b.txt': 'b\n' });
  const refused = work.push(['origin', 'HEAD:main']);
  t.not(refused.code, 0, 'a repository whose hook ran the removed program refuses pushes');

  const again = await install([...flags, '--systemd-dir', systemdDir, '--uninstall']);
  t.equal(again.status, 0, again.stderr);
  t.match(again.stdout, /pushgate uninstall: unchanged/);
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
