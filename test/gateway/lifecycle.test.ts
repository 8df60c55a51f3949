import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { testServer } from '../helpers/git-server.js';
import { pushgateBin, run, tempDir } from '../helpers/tools.js';
import { sleep, SshUser, startGateway } from './harness.js';

/** A bare repository whose pre-receive hook sleeps: a push that takes a while. */
function slowRepo(reposRoot: string, name: string, seconds: number): string {
  const path = join(reposRoot, `${name}.git`);
  run('git', ['init', '-q', '--bare', '--initial-branch=main', path]);
  writeFileSync(join(path, 'hooks', 'pre-receive'), `#!/bin/sh\ncat >/dev/null\nsleep ${seconds}\necho slow hook done >&2\n`, { mode: 0o755 });
  return path;
}

function startPush(user: SshUser, url: string, t: { teardown(fn: () => void): void }): Promise<{ status: number; stderr: string }> {
  const work = join(tempDir(t), 'work');
  run('git', ['init', '-q', '-b', 'main', work]);
  user.git(['commit', '-q', '--allow-empty', '-m', 'slow'], { cwd: work });
  return new Promise((resolve) => {
    const child = spawn('git', ['push', url, 'HEAD:main'], { cwd: work, env: user.gitEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.on('close', (code) => resolve({ status: code ?? -1, stderr }));
  });
}

t.test('SIGHUP reloads the config; an unusable one keeps the running config', async (t) => {
  const gateway = await startGateway(t, { repos: ['team/app'] });
  gateway.seed('team/app');
  const user = new SshUser(gateway, 'reloader').sign();
  const ls = (who: SshUser = user): number => who.git(['ls-remote', gateway.url('team/app')]).status;
  t.equal(ls(), 0);

  gateway.server.setConfig(['access'], [{ repos: ['other/**'], roles: ['agent'], permissions: ['read'] }]);
  t.equal((await gateway.reload()).result, 'ok');
  t.not(ls(), 0, 'new access rules apply at once');

  const good = readFileSync(gateway.server.configPath, 'utf8');
  writeFileSync(gateway.server.configPath, `${good}\nnoSuchKey: 1\n`);
  const failed = await gateway.reload();
  t.equal(failed.result, 'error');
  t.match(failed.reason, /noSuchKey/);
  t.match(gateway.stderr, /reload failed, keeping the running configuration/);
  t.not(ls(), 0, 'the running config is kept');

  writeFileSync(gateway.server.configPath, good);
  gateway.server.setConfig(['access'], [{ repos: ['**'], roles: ['agent'], permissions: ['read', 'write'] }]);
  t.equal((await gateway.reload()).result, 'ok');
  t.equal(ls(), 0);

  // A second CA, then the first one removed.
  const ca2 = join(gateway.dir, 'ca2');
  run('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', ca2]);
  const second = new SshUser(gateway, 'second-ca').sign({ ca: ca2 });
  t.not(ls(second), 0, 'not trusted yet');
  gateway.server.setConfig(['ca', 'trusted'], ['ca.pub', readFileSync(`${ca2}.pub`, 'utf8').trim()]);
  t.equal((await gateway.reload()).result, 'ok');
  t.equal(ls(second), 0, 'an inline CA key added by reload is trusted');

  gateway.server.setConfig(['ca', 'trusted'], ['missing-ca.pub']);
  const missing = await gateway.reload();
  t.equal(missing.result, 'error', 'a CA file that cannot be read keeps the running trust');
  t.match(missing.reason, /missing-ca\.pub/);
  t.equal(ls(second), 0);

  gateway.server.setConfig(['ca', 'trusted'], [readFileSync(`${ca2}.pub`, 'utf8').trim()]);
  gateway.server.setConfig(['ssh', 'listen'], '127.0.0.1:1');
  const moved = await gateway.reload();
  t.equal(moved.result, 'ok');
  t.match(moved.reason, /ssh.listen changes take effect after a restart/);
  t.not(ls(), 0, 'the first CA is no longer trusted');
  t.equal(ls(second), 0);
});

t.test('SIGTERM: stops accepting, lets the running push finish, exits 0', async (t) => {
  const gateway = await startGateway(t, { configure: (server) => server.setConfig(['ssh', 'limits', 'drainTimeout'], '20s') });
  slowRepo(gateway.server.reposRoot, 'team/slow', 2);
  const user = new SshUser(gateway, 'drainer').sign();
  const push = startPush(user, gateway.url('team/slow'), t);
  await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.result === 'started' && l.repository === 'team/slow', 60_000);
  const idle = spawn('ssh', [...user.sshOptions(['-N']), 'git@127.0.0.1'], { stdio: 'ignore' });
  await gateway.waitForCount((l) => l.type === 'ssh.auth' && l.result === 'ok', 2);
  const idleClosed = new Promise<number>((resolve) => idle.on('close', (code) => resolve(code ?? -1)));
  const signalled = Date.now();
  gateway.child.kill('SIGTERM');
  t.equal(await idleClosed, 255, 'a connection without a running command is closed at once');
  await sleep(200);
  const late = user.git(['ls-remote', gateway.url('team/slow')]);
  t.not(late.status, 0, 'new connections are refused while draining');
  const pushed = await push;
  t.equal(pushed.status, 0, `the running push finished: ${pushed.stderr}`);
  t.match(pushed.stderr, /slow hook done/);
  const exit = await gateway.exited;
  t.equal(exit.code, 0);
  t.ok(Date.now() - signalled < 15_000, 'it did not wait for the drain timeout');
  const end = await gateway.waitForAudit((l) => l.type === 'ssh.session-end' && l.repository === 'team/slow');
  t.equal(end.result, '0');
  await gateway.waitForAudit((l) => l.type === 'server.stop');
});

t.test('SIGTERM: commands still running at the drain timeout are ended', async (t) => {
  const gateway = await startGateway(t, { configure: (server) => server.setConfig(['ssh', 'limits', 'drainTimeout'], '1s') });
  slowRepo(gateway.server.reposRoot, 'team/stuck', 60);
  const user = new SshUser(gateway, 'stuck').sign();
  const push = startPush(user, gateway.url('team/stuck'), t);
  await gateway.waitForAudit((l) => l.type === 'ssh.command' && l.result === 'started' && l.repository === 'team/stuck', 60_000);
  const signalled = Date.now();
  gateway.child.kill('SIGTERM');
  const exit = await gateway.exited;
  const elapsed = Date.now() - signalled;
  t.equal(exit.code, 0);
  t.ok(elapsed >= 900 && elapsed < 10_000, `exited after the drain timeout (${elapsed} ms)`);
  t.not((await push).status, 0, 'the push was cut off');
});

t.test('break-glass keys: off by default, a plain key from the list when configured', async (t) => {
  const dir = tempDir(t);
  const glassKey = join(dir, 'glass');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'glass', '-f', glassKey]);
  const optionKey = join(dir, 'restricted');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', optionKey]);
  const gateway = await startGateway(t, {
    repos: ['team/app'],
    configure(server) {
      const list = join(server.dir, 'break-glass');
      writeFileSync(list, [
        '# emergency access',
        readFileSync(`${glassKey}.pub`, 'utf8').trim(),
        `from="10.0.0.1" ${readFileSync(`${optionKey}.pub`, 'utf8').trim()}`,
        '',
      ].join('\n'));
      server.setConfig(['ssh', 'breakGlassKeys'], list);
      server.setConfig(['identity', 'roles'], [{ principals: ['break-glass:*'], roles: ['agent'] }]);
    },
  });
  gateway.seed('team/app');
  t.match(gateway.stderr, /key options are not supported/, 'a line with options is skipped, and the operator is told');
  const viaKey = (key: string): number => spawnSync('git', ['ls-remote', gateway.url('team/app')], {
    timeout: 30_000,
    env: { ...process.env, GIT_SSH_COMMAND: `ssh -F /dev/null -o IdentitiesOnly=yes -o IdentityFile=${key} -o UserKnownHostsFile=${join(gateway.dir, 'known_hosts-glass')} -o StrictHostKeyChecking=yes -o BatchMode=yes -p ${gateway.port}` },
  }).status ?? -1;
  writeFileSync(join(gateway.dir, 'known_hosts-glass'), gateway.knownHostsLine());
  t.equal(viaKey(glassKey), 0, 'the listed key gets in');
  const auth = await gateway.waitForAudit((l) => l.type === 'ssh.auth' && l.result === 'ok');
  t.match(auth.identity?.principal, /^break-glass:SHA256:/);
  t.match(auth.reason, /^break-glass key, from port \d+/);
  t.not(viaKey(optionKey), 0, 'a key whose line carries options is not accepted');
});

t.test('pushgate serve refuses to start without what it needs', async (t) => {
  const server = testServer(t);
  server.setConfig(['ssh', 'listen'], '127.0.0.1:0');
  server.setConfig(['http', 'listen'], '127.0.0.1:0');
  const serve = (): { status: number | null; stderr: string } => {
    const result = spawnSync(process.execPath, [pushgateBin, 'serve', '--config', server.configPath], { encoding: 'utf8', timeout: 10_000 });
    return { status: result.status, stderr: result.stderr };
  };

  renameSync(join(server.dir, 'host_ed25519'), join(server.dir, 'host_moved'));
  const noHostKey = serve();
  t.equal(noHostKey.status, 2);
  t.match(noHostKey.stderr, /host key .*host_ed25519/);
  renameSync(join(server.dir, 'host_moved'), join(server.dir, 'host_ed25519'));

  renameSync(join(server.dir, 'ca.pub'), join(server.dir, 'ca.moved'));
  const noCa = serve();
  t.equal(noCa.status, 2);
  t.match(noCa.stderr, /trusted CA file .*ca\.pub: does not exist/);
  renameSync(join(server.dir, 'ca.moved'), join(server.dir, 'ca.pub'));

  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  server.setConfig(['ssh', 'listen'], `127.0.0.1:${(busy.address() as AddressInfo).port}`);
  const inUse = serve();
  t.equal(inUse.status, 2);
  t.match(inUse.stderr, /cannot listen on 127\.0\.0\.1:\d+/);

  server.setConfig(['ssh', 'listen'], '127.0.0.1:0');
  server.setConfig(['audit', 'hmacKeyFile'], join(server.dir, 'no-such-key'));
  const noAudit = serve();
  t.equal(noAudit.status, 2, 'a server that cannot audit does not serve');
  t.match(noAudit.stderr, /audit log cannot be written: .*no-such-key/);
  server.setConfig(['audit', 'hmacKeyFile'], null);

  appendFileSync(server.configPath, '\nbogus: true\n');
  const invalid = serve();
  t.equal(invalid.status, 2);
  t.match(invalid.stderr, /bogus/);
});
